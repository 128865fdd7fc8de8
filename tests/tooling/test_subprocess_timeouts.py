"""A test that can hang is a defect: every subprocess the tests and benchmarks start has a
timeout, so a hang fails naming the command (subprocess.TimeoutExpired carries it) instead of
stopping `make test`. Read from each module's syntax tree."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCANNED = ("tests", "benchmarks", "tools")
BOUNDED = {"run", "check_output", "check_call", "call"}
# A Popen runs alongside the test, so it takes no timeout itself; each one here is bounded
# by the calls with a timeout in the function (or the class) that starts it, and says how.
POPEN: dict[str, str] = {
    "tests/integration/test_deploy_commands.py:test_make_logs_follows_a_functions_log_group": (
        "lines read with a deadline; the process group is killed at the end"
    ),
    "tests/reference/simulator.py:__init__": "each answer is awaited with timeout_s",
    "tests/tooling/test_make_help.py:run_without": "communicate(timeout=60), then killpg",
    "tests/make_web.py:serving": (
        "each line awaited with START_TIMEOUT_S; Ctrl-C, communicate(timeout=STOP_TIMEOUT_S),"
        " then killpg"
    ),
    "benchmarks/bench_deploy.py:run": "communicate(timeout=timeout_s), then killpg",
    "benchmarks/bench_browser.py:__init__": (
        "the banner is awaited until a deadline; stop() waits 15 s, then kills"
    ),
    "benchmarks/bench_restart.py:__init__": (
        "healthy() gives up after START_TIMEOUT_S; interrupt() waits STOP_TIMEOUT_S, then killpg"
    ),
}


def subprocess_calls(source: str) -> list[tuple[str, str, ast.Call, ast.AST]]:
    """(enclosing function, subprocess function, call, the scope that bounds it: the enclosing
    class of a method, else the function) for each subprocess call in source."""
    tree = ast.parse(source)
    imported = {
        alias.asname or alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.module == "subprocess"
        for alias in node.names
    }
    found: list[tuple[str, str, ast.Call, ast.AST]] = []

    def visit(node: ast.AST, function: str, scope: ast.AST) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.ClassDef):
                visit(child, function, child)
                continue
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef):
                visit(child, child.name, scope if isinstance(scope, ast.ClassDef) else child)
                continue
            if isinstance(child, ast.Call):
                called = child.func
                if (
                    isinstance(called, ast.Attribute)
                    and isinstance(called.value, ast.Name)
                    and called.value.id == "subprocess"
                ):
                    found.append((function, called.attr, child, scope))
                elif isinstance(called, ast.Name) and called.id in imported:
                    found.append((function, called.id, child, scope))
            visit(child, function, scope)

    visit(tree, "<module>", tree)
    return found


def has_timeout(call: ast.Call) -> bool:
    return any(keyword.arg == "timeout" for keyword in call.keywords)


def unbounded(path: Path) -> list[str]:
    """Where `path` starts a subprocess that could outlive its test."""
    relative = path.relative_to(ROOT).as_posix() if path.is_relative_to(ROOT) else path.name
    problems = []
    for function, name, call, scope in subprocess_calls(path.read_text()):
        where = f"{relative}:{call.lineno} ({function})"
        if name in BOUNDED and not has_timeout(call):
            problems.append(f"{where}: subprocess.{name} without timeout=")
        elif name == "Popen":
            waits = any(
                isinstance(node, ast.Call) and node is not call and has_timeout(node)
                for node in ast.walk(scope)
            )
            if f"{relative}:{function}" not in POPEN or not waits:
                problems.append(f"{where}: Popen not bounded by a timeout in its function")
    return problems


def scanned() -> list[Path]:
    return [path for top in SCANNED for path in sorted((ROOT / top).rglob("*.py"))]


def test_every_subprocess_has_a_timeout() -> None:
    problems = [problem for path in scanned() for problem in unbounded(path)]
    assert problems == []


def test_every_listed_popen_still_exists() -> None:
    starts = {
        f"{path.relative_to(ROOT).as_posix()}:{function}"
        for path in scanned()
        for function, name, _, _ in subprocess_calls(path.read_text())
        if name == "Popen"
    }
    assert set(POPEN) == starts


@pytest.mark.parametrize(
    "source",
    [
        "import subprocess\nsubprocess.run(['make', 'logs'])\n",
        "from subprocess import check_output\ndef f():\n    check_output(['sleep', '9'])\n",
        "import subprocess\ndef f():\n    return subprocess.Popen(['sam', 'logs'])\n",
        "import subprocess\ndef f():\n    p = subprocess.Popen(['x'])\n    p.wait()\n",
    ],
)
def test_a_subprocess_without_a_bound_is_found(tmp_path: Path, source: str) -> None:
    module = tmp_path / "hangs.py"
    module.write_text(source)
    assert unbounded(module)


def test_a_bounded_subprocess_passes(tmp_path: Path) -> None:
    module = tmp_path / "bounded.py"
    module.write_text("import subprocess\nsubprocess.run(['make', 'help'], timeout=60)\n")
    assert unbounded(module) == []
