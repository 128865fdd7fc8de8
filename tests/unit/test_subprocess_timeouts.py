"""A test that can hang is a defect: every subprocess a test runs to completion has a timeout,
so a hang fails with subprocess.TimeoutExpired, which names the command."""

from __future__ import annotations

import ast
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1]
WAITING = {"run", "call", "check_call", "check_output"}


def untimed(source: str) -> list[int]:
    """The lines of subprocess calls that wait for their command without a timeout (a call
    passing **kwargs is not judged: its keywords are not in the source)."""
    lines = []
    for node in ast.walk(ast.parse(source)):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
            continue
        owner = node.func.value
        if not (isinstance(owner, ast.Name) and owner.id == "subprocess"):
            continue
        keywords = {k.arg for k in node.keywords}
        if node.func.attr in WAITING and "timeout" not in keywords and None not in keywords:
            lines.append(node.lineno)
    return lines


def test_every_subprocess_a_test_waits_for_has_a_timeout() -> None:
    found = {
        f"{path.relative_to(TESTS)}:{line}"
        for path in sorted(TESTS.rglob("*.py"))
        for line in untimed(path.read_text(encoding="utf-8"))
    }
    assert found == set()


def test_the_check_finds_a_call_without_a_timeout() -> None:
    source = (
        "import subprocess\n"
        "subprocess.run(['make', 'test'], check=True)\n"
        "subprocess.run(['make', 'test'], check=True, timeout=60)\n"
        "subprocess.check_output(['git', 'status'])\n"
    )
    assert untimed(source) == [2, 4]
