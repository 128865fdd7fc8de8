"""Adding a function is what the README's "Adding a function" section says, and then the
project passes its checks: the section's code blocks applied to a copy of the project, its
commands run there, then lint and the template, handler and local-stack tests in the copy,
and the new routes called through the copy's own local stack."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.conftest import serving
from tests.integration.conftest import ROOT
from tools.project_copy import project_copy

pytestmark = pytest.mark.integration

README = (ROOT / "README.md").read_text()
SECTION = README[README.index("\n## Adding a function\n") :].split("\n## ", 2)[1]
BLOCK = re.compile(r'^```\w+ title="(?P<title>[^"]+)"\n(?P<body>.*?)^```$', re.M | re.S)
BEFORE_SPEC = "template_gen/spec.py: before SPEC"
FUNCTION = "template_gen/spec.py: appended to SPEC's functions"
TABLE = "ORDERS"  # the name step 1 declares, appended to SPEC's tables
COMMANDS = "then"
# What `make test` runs in the copy: everything the new function can break, without the
# deploy-command and fuzzing suites, which the project's own run already covers.
COPY_TESTS = ("tests/unit", "tests/handlers", "tests/e2e/test_local_stack.py")
# The outer run's settings that must not reach the copy's runs: its audit log (the IAM
# report is about this project's roles) and its make's own state.
OUTER_ONLY = ("OFFLINE_AUDIT_DIR", "MAKEFLAGS", "MAKELEVEL", "MFLAGS", "PYTEST_ADDOPTS")


def blocks() -> dict[str, str]:
    found = {m["title"]: m["body"] for m in BLOCK.finditer(SECTION)}
    assert {BEFORE_SPEC, FUNCTION, COMMANDS} <= set(found), sorted(found)
    assert found[BEFORE_SPEC].startswith(f"{TABLE} = Table(")
    return found


def add_to_spec(spec: str, steps: dict[str, str]) -> str:
    """Steps 1 and 2: the table before SPEC, the function and the table appended to SPEC's
    functions and tables."""
    assert spec.count("\nSPEC = Spec(\n") == 1
    spec = spec.replace("\nSPEC = Spec(\n", "\n" + steps[BEFORE_SPEC] + "\n\nSPEC = Spec(\n")
    tables = re.search(r"^    tables=\((?P<names>.*)\),\n", spec, re.M)
    assert tables is not None, "SPEC has no one-line tables=(...)"
    # The functions tuple closes on the line just before `tables=`.
    closing = spec.rindex("    ),\n", 0, tables.start())
    assert closing + len("    ),\n") == tables.start()
    entry = textwrap.indent(steps[FUNCTION].rstrip() + ",\n", " " * 8)
    spec = spec[:closing] + entry + spec[closing:]
    return spec.replace(tables.group(0), f"    tables=({tables['names']}, {TABLE}),\n", 1)


def run(copy: Path, *command: str) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if k not in OUTER_ONLY}
    result = subprocess.run(
        command,
        cwd=copy,
        env=environment,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=900,
    )
    assert result.returncode == 0, f"{' '.join(command)} failed:\n{result.stdout[-6000:]}"
    return result


@pytest.fixture(scope="module")
def added(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A copy of the project with the README's function added, its commands run."""
    copy = project_copy(tmp_path_factory.mktemp("adding") / "backend-kit")
    run(copy, "git", "init", "--quiet")  # as a clone is: some tests list the project's files
    # The user's tree has its mypy cache; mypy rechecks what changed (the spec, the new
    # function) and whatever depends on it, and reads the rest from the cache.
    if (ROOT / ".mypy_cache").is_dir():
        shutil.copytree(ROOT / ".mypy_cache", copy / ".mypy_cache")
    steps = blocks()
    spec = copy / "template_gen" / "spec.py"
    spec.write_text(add_to_spec(spec.read_text(), steps))
    files = [title for title in steps if "/" in title and not title.startswith("template_gen/")]
    assert files, "the section names no file to create"
    for title in files:
        (copy / title).parent.mkdir(parents=True, exist_ok=True)
        (copy / title).write_text(steps[title])
    commands = [line for line in steps[COMMANDS].splitlines() if line.strip()]
    assert commands[-1] == "make test"
    for command in commands[:-1]:
        run(copy, *command.split())
    yield copy


def test_the_commands_regenerate_what_the_function_adds(added: Path) -> None:
    assert {p.name for p in (added / "events" / "orders").glob("*.json")} == {
        "post-orders.json",
        "get-orders.json",
    }
    assert "OrdersFunction:" in (added / "tests" / "snapshots" / "template.yaml").read_text()
    assert "fn_orders[λ orders]" in (added / "README.md").read_text()


def test_lint_and_the_template_handler_and_local_stack_tests_pass(added: Path) -> None:
    run(added, "make", "lint")
    python = str(added / ".venv" / "bin" / "python")
    result = run(added, python, "-m", "pytest", "-q", "-p", "no:cacheprovider", *COPY_TESTS)
    assert re.search(r"\b\d+ passed\b", result.stdout), result.stdout[-2000:]
    assert " failed" not in result.stdout and " error" not in result.stdout


def test_the_local_stack_serves_the_new_routes_with_their_own_role(
    added: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in OUTER_ONLY:
        monkeypatch.delenv(name, raising=False)
    with serving(tmp_path, "us-east-1", root=added) as stack:
        token = stack.token("olga")
        placed = stack.request(
            "POST", "/orders", token=token, body={"product": "lamp", "quantity": 2}
        )
        assert placed.status == 201, placed.body
        order = placed.json
        assert placed.headers["location"] == f"/orders/{order['id']}"
        listed = stack.request("GET", "/orders", token=token)
        assert listed.status == 200 and listed.json["items"] == [order]
        invalid = stack.request("POST", "/orders", token=token, body={"product": "lamp"})
        assert invalid.status == 400 and "quantity" in invalid.json["error"]["details"]
        other = stack.token("piet")
        assert stack.request("GET", "/orders", token=other).json["items"] == []
        assert stack.refusals() == []  # its role allowed every call it made, as in AWS
