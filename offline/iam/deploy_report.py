"""The deploy policies, proven by running them: build/deploy-iam-report.md from the emulator's
audit log.

    python -m offline.iam.deploy_report AUDIT_DIR [--out build/deploy-iam-report.md]

The tests bootstrap, deploy, update, remove and destroy the stack as a principal holding only
the deployer policy, with CloudFormation acting as the execution role; the emulator decides
every call of both and writes each decision to the audit log. For the execution role and for
the deployer, this lists each granted (action, resource) and how many of those decisions it
allowed; a grant nothing used names what needs it (the resource types and handler operations
of the template, or the make command), which is why it stays. It fails (exit 1) when either
principal was refused a call outside a test that provokes refusals on purpose.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aws_semantics.policy import resource_matches
from offline.iam.report import read_audit
from template_gen import deployer, registry
from template_gen.defaults import boundary_arn_pattern
from template_gen.deploy_permissions import needs
from template_gen.execution import execution_needs
from template_gen.naming import Names
from template_gen.patterns import Resolver
from template_gen.spec import SPEC

# A policy's Sub variables stand for any value in the audit's concrete ARNs.
VARIABLE = re.compile(r"\$\{[^}]+\}")


@dataclass(frozen=True)
class Grant:
    principal: str  # "execution role" or "deployer"
    action: str
    resource: str  # as the policy writes it, Sub variables and all
    needed_by: tuple[str, ...]  # handler operations of resource types, or make commands

    def allows(self, action: str, resource: str) -> bool:
        if action.lower() != self.action.lower():
            return False
        return resource_matches(VARIABLE.sub("*", self.resource), resource)


def execution_grants(template: Mapping[str, Any], project: str) -> list[Grant]:
    """The execution policy's (action, resource) pairs, each with the handler operations of
    the template's resource types that need it."""
    boundary = boundary_arn_pattern(Names(project))
    granted = {(n.action, n.resource) for n in execution_needs(template, project, boundary)[0]}
    resolver = Resolver(template, project)
    needed_by: dict[tuple[str, str], set[str]] = defaultdict(set)
    for _, resource in resolver.resources():
        for operation in registry.OPERATIONS:
            for need in needs(resource, operation, resolver.place(resource.type))[0]:
                needed_by[(need.action, need.resource)].add(f"{operation} of {resource.type}")
    return [
        Grant("execution role", action, resource, tuple(sorted(needed_by[(action, resource)])))
        for action, resource in sorted(granted)
    ]


def deployer_grants(template: Mapping[str, Any], project: str) -> list[Grant]:
    """The deployer policy's (action, resource) pairs, each with the commands it is for."""
    stack = f"{project}-${{Environment}}"
    needed_by: dict[tuple[str, str], set[str]] = defaultdict(set)
    reads = execution_needs(template, project, boundary_arn_pattern(Names(project)), ("read",))
    drift = (*deployer.COMMANDS["drift"], *deployer.drift_grants(reads[0], project))
    commands = {**deployer.COMMANDS, "drift": drift}
    for command, grants in commands.items():
        for grant in grants:
            for resource in grant.resources:
                for action in grant.actions:
                    formatted = resource.format(stack=stack, project=project)
                    needed_by[(action, formatted)].add(f"make {command}")
    return [
        Grant("deployer", action, resource, tuple(sorted(commands_)))
        for (action, resource), commands_ in sorted(needed_by.items())
    ]


@dataclass
class Report:
    grants: list[Grant]
    used: dict[Grant, int]
    refused: list[dict[str, Any]]
    decisions: dict[str, int]


def principal_of(entry: Mapping[str, Any], project: str) -> str | None:
    """Whose decision an audit entry is: the execution role's (by its role name), the
    deployer's (the deployer policy decided it, or a deployer role was refused), or neither."""
    role = str(entry.get("role") or "")
    if re.fullmatch(rf"{re.escape(project)}-[a-z0-9-]+-cloudformation", role):
        return "execution role"
    policy = str(entry.get("policy") or "")
    if re.search(rf":policy/{re.escape(project)}-[a-z0-9-]+-deployer$", policy):
        return "deployer"
    if not entry.get("allowed") and "deployer" in role:
        return "deployer"
    return None


def analyse(grants: list[Grant], entries: Iterable[Mapping[str, Any]], project: str) -> Report:
    used: dict[Grant, int] = dict.fromkeys(grants, 0)
    by_principal: dict[str, list[Grant]] = defaultdict(list)
    for grant in grants:
        by_principal[grant.principal].append(grant)
    refused: list[dict[str, Any]] = []
    decisions: dict[str, int] = defaultdict(int)
    for entry in entries:
        principal = principal_of(entry, project)
        if principal is None:
            continue
        decisions[principal] += 1
        if not entry.get("allowed"):
            if not entry.get("expected_denials"):
                refused.append(dict(entry))
            continue
        for grant in by_principal[principal]:
            if grant.allows(str(entry["action"]), str(entry["resource"])):
                used[grant] += 1
    return Report(grants, used, refused, dict(decisions))


def markdown(report: Report) -> str:
    lines = ["# Deploy IAM report", ""]
    for principal in ("execution role", "deployer"):
        granted = [g for g in report.grants if g.principal == principal]
        exercised = sum(1 for g in granted if report.used[g])
        lines.append(
            f"- {principal}: {report.decisions.get(principal, 0)} decisions while the tests ran;"
            f" {exercised} of {len(granted)} granted (action, resource) pairs used"
        )
    lines += ["", f"Refused: {len(report.refused)}.", ""]
    for entry in report.refused:
        lines.append(f"- `{entry.get('caller')}`: `{entry.get('action')}` on"
                     f" `{entry.get('resource')}` {entry.get('reason')}")  # fmt: skip
    for principal in ("execution role", "deployer"):
        lines += [
            "",
            f"## {principal}",
            "",
            "| action | resource | calls | needed by (why it stays when unused) |",
            "|---|---|---|---|",
        ]
        for grant in (g for g in report.grants if g.principal == principal):
            needed = "; ".join(grant.needed_by)
            count = report.used[grant]
            note = needed if count else f"unused in the tests; needed by: {needed}"
            lines.append(f"| `{grant.action}` | `{grant.resource}` | {count} | {note} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m offline.iam.deploy_report", description=__doc__
    )
    parser.add_argument("audit", type=Path)
    parser.add_argument("--template", type=Path, default=Path("build/template.expanded.json"))
    parser.add_argument("--out", type=Path, default=Path("build/deploy-iam-report.md"))
    args = parser.parse_args(argv)
    template = json.loads(args.template.read_text(encoding="utf-8"))
    grants = execution_grants(template, SPEC.project) + deployer_grants(template, SPEC.project)
    entries = read_audit(args.audit) if args.audit.is_dir() else []
    report = analyse(grants, entries, SPEC.project)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(markdown(report), encoding="utf-8")
    for principal in ("execution role", "deployer"):
        granted = [g for g in grants if g.principal == principal]
        print(
            f"deploy iam report: {principal}: {report.decisions.get(principal, 0)} decisions,"
            f" {sum(1 for g in granted if report.used[g])} of {len(granted)} grants used"
        )
    print(f"deploy iam report: {len(report.refused)} refused -> {args.out}")
    for entry in report.refused:
        print(f"  refused: {entry.get('caller')}: {entry.get('action')} on"
              f" {entry.get('resource')} {entry.get('reason')}", file=sys.stderr)  # fmt: skip
    return 1 if report.refused else 0


if __name__ == "__main__":
    sys.exit(main())
