"""Least privilege, proven by running it: build/iam-report.md from the emulator's audit log.

    python -m offline.iam.report AUDIT_DIR [--out build/iam-report.md] [--partial]

Every call a function's role made while the tests ran is in the audit log, with its verdict
and the statement that allowed it. This lists, for each role, every (action, resource) the
spec grants and how often a call used it, and fails (exit 1) when
- a role was refused a call: a handler's happy path needs a grant the role lacks, or
- a grant was never used and carries no reason in the action table (template_gen/iam.py):
  it is more than the function needs, and should go.
`--partial` (a run of some of the tests) reports without the second check.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from template_gen.iam import function_statements
from template_gen.model import Function, Spec
from template_gen.naming import Names
from template_gen.spec import SPEC


@dataclass(frozen=True)
class Grant:
    function: str
    sid: str
    action: str
    resources: str  # as the template writes them
    unexercised: str  # the action table's reason, if no local run can use it


def grants(spec: Spec) -> list[Grant]:
    names = Names(spec.project)
    found = []
    for function in spec.functions:
        for statement in function_statements(spec, names, function):
            resources = ", ".join(_text(r) for r in statement.resources)
            for action in sorted(statement.actions):
                found.append(
                    Grant(function.name, statement.sid, action, resources, statement.unexercised)
                )
    return found


def _text(value: Any) -> str:
    if isinstance(value, str):
        return value
    data = value.to_dict() if hasattr(value, "to_dict") else value
    if isinstance(data, dict) and "Fn::Sub" in data:
        return str(data["Fn::Sub"])
    if isinstance(data, dict) and "Fn::GetAtt" in data:
        return "${" + ".".join(data["Fn::GetAtt"]) + "}"
    return json.dumps(data, sort_keys=True)


def role_functions(spec: Spec) -> list[tuple[re.Pattern[str], Function]]:
    """The deployed role name of each function, in any environment and region."""
    names = Names(spec.project)
    patterns = []
    for function in spec.functions:
        pattern = re.escape(names.role(function.name).pattern)
        pattern = pattern.replace(re.escape("${Environment}"), "[a-z0-9-]+")
        pattern = pattern.replace(re.escape("${AWS::Region}"), "[a-z]{2}(-[a-z]+)+-[0-9]")
        patterns.append((re.compile(f"^{pattern}$"), function))
    return patterns


def read_audit(directory: Path) -> list[dict[str, Any]]:
    entries = []
    for path in sorted(directory.rglob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                entries.append(json.loads(line))
    return entries


@dataclass
class Report:
    grants: list[Grant]
    used: Counter[tuple[str, str, str]]  # (function, sid, action) -> allowed calls
    refused: list[dict[str, Any]]
    calls: int

    @property
    def unjustified(self) -> list[Grant]:
        return [
            g
            for g in self.grants
            if not self.used[(g.function, g.sid, g.action)] and not g.unexercised
        ]


def analyse(spec: Spec, entries: Iterable[dict[str, Any]]) -> Report:
    roles = role_functions(spec)
    used: Counter[tuple[str, str, str]] = Counter()
    refused = []
    calls = 0
    for entry in entries:
        role = entry.get("role")
        function = next((f for pattern, f in roles if role and pattern.match(role)), None)
        if function is None:
            continue  # the administrator, or a role of no function of this spec
        calls += 1
        if not entry["allowed"]:
            if not entry.get("expected_denials"):
                refused.append(entry)
        elif entry.get("sid"):
            used[(function.name, entry["sid"], entry["action"])] += 1
    return Report(grants(spec), used, refused, calls)


def markdown(report: Report) -> str:
    lines = [
        "# IAM report",
        "",
        f"{report.calls} calls by the functions' roles were authorized while the tests ran;"
        f" {len(report.refused)} refused.",
        "",
    ]
    if report.refused:
        lines += ["## Refused", ""]
        lines += [f"- `{e['caller']}`: `{e['action']}` on `{e['resource']}` {e['reason']}"
                  for e in report.refused]  # fmt: skip
        lines.append("")
    by_function: dict[str, list[Grant]] = {}
    for grant in report.grants:
        by_function.setdefault(grant.function, []).append(grant)
    for function, granted in by_function.items():
        lines += [
            f"## {function}",
            "",
            "| statement | action | resources | calls | note |",
            "|---|---|---|---|---|",
        ]
        for g in granted:
            count = report.used[(g.function, g.sid, g.action)]
            note = "" if count else (g.unexercised or "**never used: remove it**")
            lines.append(f"| {g.sid} | `{g.action}` | `{g.resources}` | {count} | {note} |")
        lines.append("")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m offline.iam.report", description=__doc__)
    parser.add_argument("audit", type=Path)
    parser.add_argument("--out", type=Path, default=Path("build/iam-report.md"))
    parser.add_argument("--partial", action="store_true", help="some tests ran, not all")
    args = parser.parse_args(argv)
    report = analyse(SPEC, read_audit(args.audit) if args.audit.is_dir() else [])
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(markdown(report) + "\n", encoding="utf-8")
    unjustified = [] if args.partial else report.unjustified
    print(
        f"iam report: {report.calls} role calls, {len(report.refused)} refused,"
        f" {sum(1 for g in report.grants if report.used[(g.function, g.sid, g.action)])}"
        f" of {len(report.grants)} grants used -> {args.out}"
    )
    for entry in report.refused:
        print(f"  refused: {entry['caller']}: {entry['action']} on {entry['resource']}"
              f" {entry['reason']}", file=sys.stderr)  # fmt: skip
    for grant in unjustified:
        print(f"  never used, and no reason given: {grant.function} {grant.sid}"
              f" {grant.action} on {grant.resources}", file=sys.stderr)  # fmt: skip
    return 1 if report.refused or unjustified else 0


if __name__ == "__main__":
    sys.exit(main())
