"""The bootstrap stack (build/bootstrap.yaml), which an administrator deploys once per account
and environment (ops/bootstrap.py) so that the main stack deploys without administrator
rights:

- the CloudFormation execution role `sam deploy --role-arn` passes, with the policy derived
  from the expanded main template (template_gen/execution.py);
- the permissions boundary every role of the main template carries: the union of those roles'
  inline policies, any region;
- the deployer policy for the principals that deploy (template_gen/deployer.py).

https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/using-iam-servicerole.html
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from troposphere import GetAtt, Output, Parameter, Ref, Sub, Tags, Template, iam

from template_gen import deployer, execution
from template_gen.defaults import boundary_arn_pattern, boundary_name
from template_gen.findings import (
    BOOTSTRAP_PATTERNS,
    EXPLICIT_NAMES,
    waiver_metadata,
    wildcard_resources,
)
from template_gen.model import Spec
from template_gen.naming import Names
from template_gen.patterns import Resolver

EXECUTION_ROLE = "ExecutionRole"
BOUNDARY = "Boundary"
DEPLOYER = "DeployerPolicy"
# ops/bootstrap.py reads this tag to find the region the stack lives in.
HOME_TAG = "bootstrap-region"


@dataclass(frozen=True)
class Bootstrap:
    template: Template
    execution: dict[str, Any]  # the whole execution policy, before it is split
    parts: list[dict[str, Any]]
    boundary: dict[str, Any]
    deployer: dict[str, Any]


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def boundary_document(template: Mapping[str, Any], project: str) -> dict[str, Any]:
    """Every Allow of the roles' inline policies, in any region, conditions left to the roles:
    the boundary caps what a role may be given, the role's own statements narrow it."""
    resolver = Resolver(template, project)
    grouped: dict[tuple[str, ...], set[str]] = defaultdict(set)
    for definition in template.get("Resources", {}).values():
        if definition.get("Type") != "AWS::IAM::Role":
            continue
        for policy in definition.get("Properties", {}).get("Policies", []):
            for raw in policy.get("PolicyDocument", {}).get("Statement", []):
                for statement in resolver.values(raw):
                    if statement.get("Effect") != "Allow":
                        continue
                    resources = tuple(sorted(set(map(str, _as_list(statement["Resource"])))))
                    grouped[resources].update(map(str, _as_list(statement["Action"])))
    statements = [
        {"Effect": "Allow", "Action": sorted(actions), "Resource": list(resources)}
        for resources, actions in sorted(grouped.items(), key=lambda i: (sorted(i[1]), i[0]))
    ]
    return execution.document(statements)


def as_template_value(value: Any) -> Any:
    """A policy document for the template: every string with a variable becomes a Sub."""
    if isinstance(value, Mapping):
        return {k: as_template_value(v) for k, v in value.items()}
    if isinstance(value, list):
        return [as_template_value(v) for v in value]
    if isinstance(value, str) and "${" in value:
        return Sub(value)
    return value


def build(template: Mapping[str, Any], spec: Spec) -> Bootstrap:
    names = Names(spec.project)
    boundary_arn = boundary_arn_pattern(names)
    found, _ = execution.execution_needs(template, spec.project, boundary_arn)
    whole = execution.document(execution.statements(found))
    parts = execution.split(whole["Statement"], spec.environments)
    boundary = boundary_document(template, spec.project)
    reads, _ = execution.execution_needs(template, spec.project, boundary_arn, ("read",))
    deployer_doc = execution.document(
        deployer.statements(spec.project, deployer.drift_grants(reads, spec.project))
    )
    deployer_size = execution.size(deployer_doc, spec.environments)
    if deployer_size > execution.MANAGED_POLICY_CHARS:
        raise ValueError(
            f"the deployer policy is {deployer_size} characters, over IAM's"
            f" {execution.MANAGED_POLICY_CHARS} for a managed policy"
        )

    out = Template(
        Description=f"{spec.project}: the execution role, permissions boundary and deployer"
        " policy that deploy the main stack without administrator rights (rendered from"
        " build/template.expanded.json; do not edit)"
    )
    out.set_version("2010-09-09")
    out.add_parameter(
        Parameter(
            "Environment",
            Type="String",
            AllowedValues=list(spec.environments),
            Description="The environment of the main stack this bootstrap serves",
        )
    )
    policies = []
    for index, part in enumerate(parts, start=1):
        policies.append(
            out.add_resource(
                iam.ManagedPolicy(
                    f"ExecutionPolicy{index}",
                    ManagedPolicyName=Sub(f"{names.prefix}-cloudformation-{index}"),
                    Description=Sub(
                        f"What CloudFormation needs to deploy {names.prefix} ({index}/{len(parts)})"
                    ),
                    PolicyDocument=as_template_value(part),
                    Metadata=_patterns_waived(part),
                )
            )
        )
    out.add_resource(
        iam.Role(
            EXECUTION_ROLE,
            # IAM is global: one role serves every region, so its name has none.
            RoleName=Sub(f"{names.prefix}-cloudformation"),
            Description=Sub(f"CloudFormation deploys {names.prefix} as this role"),
            AssumeRolePolicyDocument={
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"Service": "cloudformation.amazonaws.com"},
                        "Action": "sts:AssumeRole",
                    }
                ],
            },
            ManagedPolicyArns=[Ref(p) for p in policies],
            Metadata=waiver_metadata(EXPLICIT_NAMES),
            Tags=Tags({HOME_TAG: Ref("AWS::Region")}),
        )
    )
    out.add_resource(
        iam.ManagedPolicy(
            BOUNDARY,
            ManagedPolicyName=Sub(boundary_name(names)),
            Description=Sub(f"Permissions boundary of every role of {names.prefix}"),
            PolicyDocument=as_template_value(boundary),
            Metadata=_patterns_waived(boundary),
        )
    )
    out.add_resource(
        iam.ManagedPolicy(
            DEPLOYER,
            ManagedPolicyName=Sub(f"{names.prefix}-deployer"),
            Description=Sub(f"Deploy, read and destroy {names.prefix}, and nothing else"),
            PolicyDocument=as_template_value(deployer_doc),
            Metadata=_patterns_waived(deployer_doc),
        )
    )
    out.add_output(
        [
            Output("ExecutionRoleArn", Value=GetAtt(EXECUTION_ROLE, "Arn")),
            Output("BoundaryArn", Value=Ref(BOUNDARY)),
            Output("DeployerPolicyArn", Value=Ref(DEPLOYER)),
        ]
    )
    return Bootstrap(out, whole, parts, boundary, deployer_doc)


def _patterns_waived(document: Mapping[str, Any]) -> dict[str, Any]:
    return waiver_metadata(
        BOOTSTRAP_PATTERNS,
        EXPLICIT_NAMES,
        wildcards=wildcard_resources(as_template_value(document)),
    )


def policy_json(document: Mapping[str, Any]) -> str:
    return json.dumps(document, indent=2, sort_keys=True) + "\n"


def files(result: Bootstrap) -> dict[str, str]:
    """Relative path under build/ -> content."""
    return {
        "bootstrap.yaml": result.template.to_yaml(),
        "deploy-policies/execution.json": policy_json(result.execution),
        "deploy-policies/boundary.json": policy_json(result.boundary),
        "deploy-policies/deployer.json": policy_json(result.deployer),
    }
