"""The CloudFormation execution role's policy, derived from the expanded main template: what
each resource's registry handlers need to create, read, update and delete it
(template_gen/deploy_permissions.py), on the ARN patterns of template_gen/patterns.py,
aggregated into statements and split over managed policies within IAM's size limit.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Mapping, Sequence
from typing import Any

from template_gen import iam_reference, registry
from template_gen.deploy_permissions import (
    PASSED_TO_SERVICE,
    PERMISSIONS_BOUNDARY,
    Need,
    Skipped,
    needs,
)
from template_gen.patterns import Resolver

# A managed policy holds at most 6,144 characters, whitespace not counted; a role takes at
# most 10 managed policies
# (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html).
MANAGED_POLICY_CHARS = 6144
MAX_MANAGED_POLICIES = 10
# The longest values the Sub variables take when CloudFormation creates the policy.
WORST_CASE = {
    "${AWS::Partition}": "aws-iso-b",
    "${AWS::AccountId}": "0" * 12,
}

Condition = tuple[tuple[str, str], ...]


class Unsupported(LookupError):
    """A resource type the registry data or the ARN model does not describe."""


def boundary_condition(boundary: str) -> Condition:
    return ((PERMISSIONS_BOUNDARY, boundary),)


def execution_needs(
    template: Mapping[str, Any],
    project: str,
    boundary: str,
    operations: tuple[str, ...] = registry.OPERATIONS,
) -> tuple[list[Need], list[Skipped]]:
    """Every (action, resource, condition) deploying, updating and deleting the template
    takes. Actions that can carry iam:PermissionsBoundary are conditioned on the project's
    boundary whatever the role says, so no role escapes it
    (https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies_boundaries.html#access_policies_boundaries-delegate)."""
    resolver = Resolver(template, project)
    found: list[Need] = []
    skipped: list[Skipped] = []
    for logical, resource in resolver.resources():
        for operation in operations:
            try:
                got, missed = needs(resource, operation, resolver.place(resource.type))
            except registry.NoSchema as error:
                raise Unsupported(f"{logical} ({resource.type}): {error}") from None
            skipped.extend(missed)
            for need in got:
                keys = {k.lower() for k in iam_reference.action(need.action).condition_keys}
                context = need.context
                if PERMISSIONS_BOUNDARY.lower() in keys:
                    others = tuple(c for c in context if c[0] != PERMISSIONS_BOUNDARY)
                    context = others + boundary_condition(boundary)
                found.append(Need(need.action, need.resource, context))
    return sorted(set(found), key=_need_key), sorted(set(skipped), key=lambda s: s.action)


def _need_key(need: Need) -> tuple[str, str, Condition]:
    return (need.action, need.resource, need.context)


def statements(found: list[Need]) -> list[dict[str, Any]]:
    """Needs grouped into statements: the actions sharing one resource set and condition."""
    by_action: dict[tuple[str, Condition], set[str]] = defaultdict(set)
    for need in found:
        by_action[(need.action, need.context)].add(need.resource)
    grouped: dict[tuple[tuple[str, ...], Condition], set[str]] = defaultdict(set)
    for (action, context), arns in by_action.items():
        grouped[(tuple(sorted(arns)), context)].add(action)
    result = []
    for (resources, context), actions in sorted(
        grouped.items(), key=lambda item: (sorted(item[1]), item[0])
    ):
        statement: dict[str, Any] = {
            "Effect": "Allow",
            "Action": sorted(actions),
            "Resource": list(resources),
        }
        if context:
            statement["Condition"] = {"StringEquals": dict(sorted(context))}
        result.append(statement)
    return result


def document(statements: list[dict[str, Any]]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": statements}


def size(policy: Mapping[str, Any], environments: Sequence[str] = ("e" * 16,)) -> int:
    """Characters IAM counts (whitespace excluded), with the Sub variables at their longest:
    `${Environment}` as the longest of `environments`, the values its parameter allows."""
    text = json.dumps(policy, separators=(",", ":"), sort_keys=True)
    for variable, longest in WORST_CASE.items():
        text = text.replace(variable, longest)
    return len(text.replace("${Environment}", max(environments, key=len)))


def split(
    statements: list[dict[str, Any]], environments: Sequence[str] = ("e" * 16,)
) -> list[dict[str, Any]]:
    """The statements packed, in order, into as few policy documents as fit the limit."""
    documents: list[list[dict[str, Any]]] = [[]]
    for statement in statements:
        if size(document([statement]), environments) > MANAGED_POLICY_CHARS:
            raise ValueError(f"one statement exceeds a managed policy: {statement['Action']}")
        if size(document([*documents[-1], statement]), environments) > MANAGED_POLICY_CHARS:
            documents.append([])
        documents[-1].append(statement)
    if len(documents) > MAX_MANAGED_POLICIES:
        raise ValueError(f"{len(documents)} managed policies; a role takes {MAX_MANAGED_POLICIES}")
    return [document(d) for d in documents]


def passed_roles(found: list[Need]) -> dict[str, set[str]]:
    """Role ARN -> the services it may be passed to."""
    passed: dict[str, set[str]] = defaultdict(set)
    for need in found:
        if need.action == "iam:PassRole":
            services = [v for k, v in need.context if k == PASSED_TO_SERVICE]
            passed[need.resource].update(services or ["<any>"])
    return dict(passed)
