"""build/iam-report.md, and the two ways it fails `make test`: a role refused a call, and a
grant no test used that carries no reason."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from offline.iam import report as iam_report
from template_gen.spec import SPEC

ROLE = "backend-kit-dev-{fn}-eu-west-1"


def entry(fn: str, sid: str | None, action: str, allowed: bool = True, **extra: Any) -> dict:
    return {
        "role": ROLE.format(fn=fn),
        "caller": f"arn:aws:sts::123456789012:assumed-role/{ROLE.format(fn=fn)}/{fn}",
        "action": action,
        "resource": "arn:aws:dynamodb:eu-west-1:123456789012:table/backend-kit-dev-items",
        "allowed": allowed,
        "reason": "because ..." if allowed else "because no identity-based policy allows it",
        "sid": sid,
        **extra,
    }


def every_grant_used() -> list[dict]:
    return [entry(g.function, g.sid, g.action) for g in iam_report.grants(SPEC)]


def run(tmp_path: Path, entries: list[dict], *flags: str) -> tuple[int, str]:
    audit = tmp_path / "audit"
    (audit / "nested").mkdir(parents=True, exist_ok=True)
    (audit / "nested" / "audit-1.jsonl").write_text("".join(json.dumps(e) + "\n" for e in entries))
    out = tmp_path / "iam-report.md"
    code = iam_report.main([str(audit), "--out", str(out), *flags])
    return code, out.read_text()


def test_the_grants_are_the_rendered_roles_action_by_action() -> None:
    found = {(g.function, g.sid, g.action) for g in iam_report.grants(SPEC)}
    assert ("items", "WriteItemsTable", "dynamodb:UpdateItem") in found
    assert ("users", "QueryUsersTableByCreated", "dynamodb:Query") in found
    assert not any(g.action == "dynamodb:UpdateItem" and g.function == "users" for g in
                   iam_report.grants(SPEC))  # fmt: skip


def test_a_run_that_used_every_grant_passes(tmp_path: Path) -> None:
    code, report = run(tmp_path, every_grant_used())
    assert code == 0
    assert "| WriteItemsTable | `dynamodb:UpdateItem` | `${ItemsTable.Arn}` | 1 |  |" in report


def test_a_refused_call_fails_and_is_listed(tmp_path: Path) -> None:
    refused = entry("items", None, "dynamodb:UpdateItem", allowed=False)
    code, report = run(tmp_path, [*every_grant_used(), refused])
    assert code == 1
    assert "## Refused" in report and "`dynamodb:UpdateItem`" in report


def test_refusals_a_test_provoked_on_purpose_do_not_count(tmp_path: Path) -> None:
    provoked = entry("items", None, "dynamodb:UpdateItem", allowed=False, expected_denials=True)
    assert run(tmp_path, [*every_grant_used(), provoked])[0] == 0


def test_an_unused_grant_without_a_reason_fails(tmp_path: Path) -> None:
    used = [e for e in every_grant_used() if e["action"] != "dynamodb:UpdateItem"]
    code, report = run(tmp_path, used)
    assert code == 1
    assert "| WriteItemsTable | `dynamodb:UpdateItem` |" in report
    assert "**never used: remove it**" in report
    assert run(tmp_path, used, "--partial")[0] == 0  # only some tests ran


def test_an_unused_grant_with_a_reason_passes_and_shows_it(tmp_path: Path) -> None:
    used = [e for e in every_grant_used() if not e["action"].startswith("xray:")]
    code, report = run(tmp_path, used)
    assert code == 0
    assert "the local stack runs no X-Ray" in report


def test_calls_of_the_administrator_or_other_roles_are_not_counted(tmp_path: Path) -> None:
    others = [
        {**entry("items", None, "dynamodb:UpdateItem", allowed=False), "role": None},
        {**entry("items", None, "dynamodb:UpdateItem", allowed=False), "role": "someone-else"},
    ]
    assert run(tmp_path, [*every_grant_used(), *others])[0] == 0
