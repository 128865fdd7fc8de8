"""Adding a function is what docs/adding-a-function.md says, and then the project passes its
checks: the page's code blocks applied to a copy of the project (tools/adding_a_function.py,
which `make try-adding-a-function` also runs, with the copy's whole `make test`), its
commands run there, then lint and the template and handler tests in the copy, and the new
routes called through the copy's own local stack."""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.conftest import serving
from tests.integration.conftest import ROOT
from tools.adding_a_function import OUTER_ONLY, PAGE, apply, copy_environment, followed, fresh_copy

pytestmark = pytest.mark.integration

# What runs in the copy here: the template and handler tests, which read the spec; the new
# routes are then called through the copy's own local stack (below). The copy's whole suite
# is `make try-adding-a-function`, which CI runs beside `make test`.
COPY_TESTS = ("tests/unit", "tests/handlers")


def run(copy: Path, *command: str) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        command,
        cwd=copy,
        env=copy_environment(),
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
    """A copy of the project with the documented function added, its commands run."""
    added_before = followed((ROOT / "template_gen" / "spec.py").read_text(), PAGE.read_text())
    if added_before:
        # A tree where the page was followed (make try-adding-a-function's copy, or a user's)
        # cannot follow it again; the pristine project is where its steps are checked.
        pytest.skip(f"the spec already declares {', '.join(added_before)}: the page was followed")
    copy = fresh_copy(tmp_path_factory.mktemp("adding"))
    # The user's tree has its mypy cache; mypy rechecks what changed (the spec, the new
    # function) and whatever depends on it, and reads the rest from the cache.
    if (ROOT / ".mypy_cache").is_dir():
        shutil.copytree(ROOT / ".mypy_cache", copy / ".mypy_cache")
    commands = apply(copy, PAGE.read_text())
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


def test_lint_and_the_template_and_handler_tests_pass(added: Path) -> None:
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
