"""docs/api.md states the contract in words: every route of the generated document with every
status it may answer, every error code the functions raise, and nothing outside the project."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from template_gen.openapi import CONTRACT, EVERY_ROUTE

ROOT = Path(__file__).resolve().parents[2]
DOC = (ROOT / "docs" / "api.md").read_text()
ROW = re.compile(r"^\| `(?P<key>(?:GET|POST|PATCH|DELETE) /[^`]*)` \|(?P<rest>.*)$", re.M)


def rows(doc: str) -> dict[str, str]:
    return {match["key"]: match["rest"] for match in ROW.finditer(doc)}


def raised_codes() -> set[str]:
    """Every error code in the sources (the shared layer and the functions): the contract's
    constructors and the 409s' own codes."""
    sources = sorted((ROOT / "layers/shared/python/backend_kit").glob("*.py"))
    sources += sorted((ROOT / "functions").glob("*/*.py"))
    codes: set[str] = set()
    for source in sources:
        text = source.read_text()
        codes |= set(re.findall(r'ApiError\(\s*\d{3},\s*"([a-z_]+)"', text))
        codes |= set(re.findall(r'conflict\(\s*"[^"]*",\s*"([a-z_]+)"', text))
    return codes


def test_the_routes_table_is_the_contracts_routes() -> None:
    assert set(rows(DOC)) == set(CONTRACT)


@pytest.mark.parametrize("key", sorted(CONTRACT))
def test_each_route_row_names_every_status_of_its_own(key: str) -> None:
    """Statuses every route shares (EVERY_ROUTE, 401) are stated once below the table."""
    named = set(re.findall(r"\b[1-5]\d\d\b", rows(DOC)[key]))
    assert set(CONTRACT[key]) <= named, key


def test_the_shared_statuses_are_stated_once() -> None:
    shared = DOC[DOC.index("Every route may also answer") :].split("\n\n")[0]
    assert set(EVERY_ROUTE) | {"401"} <= set(re.findall(r"\b[1-5]\d\d\b", shared))


def test_every_error_code_raised_is_documented() -> None:
    codes = raised_codes()
    assert {"invalid_request", "email_taken", "idempotency_in_progress"} <= codes  # the scan works
    assert {code for code in codes if f"`{code}`" not in DOC} == set()


def test_a_route_missing_from_the_doc_fails_the_check() -> None:
    broken = DOC.replace("| `DELETE /items/{id}` |", "| DELETE items |")
    assert set(rows(broken)) != set(CONTRACT)


def test_no_file_of_the_project_refers_outside_it() -> None:
    outside = ("../" + "shared", "DESIGN" + ".md")
    files = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=600,
    ).stdout.split()
    offending = [
        name
        for name in files
        if (ROOT / name).is_file()
        and any(word in (ROOT / name).read_text(errors="replace") for word in outside)
    ]
    assert offending == []
