"""A stack deployed into the emulator, as its CloudFormation reports it: the processed
template, the parameter values and each resource's physical id, with intrinsic functions
resolved against them (aws_semantics/intrinsics.py)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aws_semantics.intrinsics import Context, resolve
from offline.common.endpoint import ACCOUNT, Endpoint


@dataclass
class DeployedStack:
    """A handle on one deployed stack: clients for its region, resolution of its values."""

    endpoint: Endpoint
    region: str
    name: str
    environment: str
    build: Path
    template: dict[str, Any]  # the processed template, as CloudFormation runs it
    parameters: dict[str, Any]
    physical_ids: dict[str, str] = field(default_factory=dict)

    def client(self, service: str) -> Any:
        return self.endpoint.client(service, self.region)

    def context(self) -> Context:
        return Context(
            self.parameters, self.physical_ids, self.template.get("Conditions", {}), self.attribute
        )

    def resolve(self, value: Any) -> Any:
        return resolve(value, self.context())

    def attribute(self, logical: str, name: str) -> Any:
        kind = self.template["Resources"][logical]["Type"]
        physical = self.physical_ids[logical]
        arns: dict[str, Callable[[], str]] = {
            "AWS::Cognito::UserPool": lambda: (
                f"arn:aws:cognito-idp:{self.region}:{ACCOUNT}:userpool/{physical}"
            ),
            "AWS::Lambda::Function": lambda: self.client("lambda").get_function_configuration(
                FunctionName=physical
            )["FunctionArn"],
        }
        if name == "Arn" and kind in arns:
            return arns[kind]()
        raise KeyError(f"offline cannot resolve {logical}.{name} ({kind})")

    def of_type(self, kind: str) -> dict[str, dict[str, Any]]:
        return {k: r for k, r in self.template["Resources"].items() if r["Type"] == kind}


def read_stack(
    endpoint: Endpoint, region: str, environment: str, name: str, build: Path
) -> DeployedStack:
    """A deployed stack as the emulator's CloudFormation reports it."""
    cloudformation = endpoint.client("cloudformation", region)
    described = cloudformation.describe_stacks(StackName=name)["Stacks"][0]
    template = cloudformation.get_template(StackName=name, TemplateStage="Processed")
    declared = template["TemplateBody"].get("Parameters", {})
    given = {p["ParameterKey"]: p["ParameterValue"] for p in described["Parameters"]}
    parameters: dict[str, Any] = {}
    for key, definition in declared.items():
        value = str(given.get(key, definition.get("Default", "")))
        # A list parameter's value arrives comma-joined, as CloudFormation takes it.
        listed = definition["Type"] == "CommaDelimitedList" or definition["Type"].startswith(
            "List<"
        )
        parameters[key] = value.split(",") if listed else value
    parameters.update(
        {
            "AWS::Region": region,
            "AWS::AccountId": ACCOUNT,
            "AWS::Partition": "aws",
            "AWS::URLSuffix": "amazonaws.com",
            "AWS::StackName": name,
        }
    )
    paginator = cloudformation.get_paginator("list_stack_resources")
    physical_ids = {
        r["LogicalResourceId"]: r["PhysicalResourceId"]
        for page in paginator.paginate(StackName=name)
        for r in page["StackResourceSummaries"]
    }
    return DeployedStack(
        endpoint,
        region,
        name,
        environment,
        build,
        template["TemplateBody"],
        parameters,
        physical_ids,
    )
