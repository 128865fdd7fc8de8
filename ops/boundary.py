"""Preflight: does every role of the main template carry the project's permissions boundary,
and does the boundary allow all that the role's inline policies allow? A role without it is
one the execution role may not create; a grant beyond it is one the role would not have
(https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies_boundaries.html).

Both documents are resolved for one environment, account and region, and each (action,
resource) a role's policies allow is decided against the boundary by the emulator's policy
engine (aws_semantics/policy.py), as IAM would decide it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aws_semantics.policy import Policy, Request, authorize
from template_gen.defaults import boundary_arn_pattern
from template_gen.naming import Names
from template_gen.patterns import Resolver
from template_gen.spec import SPEC


def partition(region: str) -> str:
    # https://docs.aws.amazon.com/whitepapers/latest/aws-fault-isolation-boundaries/partitions.html
    if region.startswith("cn-"):
        return "aws-cn"
    if region.startswith("us-gov-"):
        return "aws-us-gov"
    return "aws"


def _concrete(value: Any, variables: Mapping[str, str]) -> Any:
    if isinstance(value, Mapping):
        return {k: _concrete(v, variables) for k, v in value.items()}
    if isinstance(value, list):
        return [_concrete(v, variables) for v in value]
    if isinstance(value, str):
        for name, concrete in variables.items():
            value = value.replace("${" + name + "}", concrete)
    return value


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def boundary_violations(
    expanded_template: Mapping[str, Any],
    boundary_document: Mapping[str, Any],
    environment: str,
    account: str,
    region: str,
    project: str = SPEC.project,
) -> list[str]:
    """One line per role without the boundary, and per (role, action, resource) its inline
    policies allow that the boundary does not."""
    variables = {
        "Environment": environment,
        "AWS::AccountId": account,
        "AWS::Partition": partition(region),
        "AWS::Region": region,
    }
    boundary = Policy("boundary", _concrete(boundary_document, variables))
    wanted = _concrete(boundary_arn_pattern(Names(project)), variables)
    resolver = Resolver(expanded_template, project, region)
    problems: list[str] = []
    for logical in sorted(expanded_template.get("Resources", {})):
        definition = expanded_template["Resources"][logical]
        if definition.get("Type") != "AWS::IAM::Role":
            continue
        for variant in resolver.variants(logical):
            role = _concrete(dict(variant.properties), variables)
            carried = role.get("PermissionsBoundary")
            if carried != wanted:
                problems.append(f"{logical}: permissions boundary is {carried!r}, not {wanted}")
            name = role.get("RoleName", logical)
            principal = f"arn:{partition(region)}:iam::{account}:role/{name}"
            for policy in role.get("Policies", []):
                for statement in _as_list(policy.get("PolicyDocument", {}).get("Statement", [])):
                    if statement.get("Effect") != "Allow":
                        continue
                    for action in map(str, _as_list(statement.get("Action", []))):
                        for resource in map(str, _as_list(statement.get("Resource", []))):
                            request = Request(action, resource, principal, account, {})
                            if not authorize(request, [boundary]).allowed:
                                problems.append(
                                    f"{logical}: {action} on {resource} is beyond the boundary"
                                )
    return list(dict.fromkeys(problems))
