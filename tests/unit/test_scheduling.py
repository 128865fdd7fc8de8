"""How `make test` hands files to its workers (tests/conftest.py): each file whole, and the
files that share a session-scoped stack together, so that stack starts once."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import FIRST, SHARED_STACK, scope_of

ROOT = Path(__file__).resolve().parents[2]


def test_files_sharing_a_stack_are_one_unit_and_others_their_own() -> None:
    scopes = {scope_of(f"{path}::test_x") for path in SHARED_STACK}
    assert len(scopes) == 1
    other = "tests/e2e/test_enforcement.py"  # its strict stack is its own
    assert scope_of(f"{other}::test_y[1]") == other


def test_every_named_file_exists() -> None:
    named = [*SHARED_STACK, *FIRST]
    assert [path for path in named if not (ROOT / path).is_file()] == []
