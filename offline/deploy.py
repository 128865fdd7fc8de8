"""Deploy into the emulator with the same `sam deploy` and samconfig.toml environment as
`make deploy`, then read the stack back from the emulator's CloudFormation."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from offline.console import say, step
from offline.emulator import ACCOUNT, Endpoint
from offline.intrinsics import Context, resolve
from ops import params
from ops.config import parameter_overrides
from ops.deploy import sam_deploy
from template_gen.spec import SPEC


@dataclass
class LocalStack:
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
) -> LocalStack:
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
    return LocalStack(
        endpoint,
        region,
        name,
        environment,
        build,
        template["TemplateBody"],
        parameters,
        physical_ids,
    )


def deploy(
    endpoint: Endpoint,
    region: str,
    build: Path,
    *,
    environment: str = "dev",
    origins: list[str],
) -> LocalStack:
    """`make params` and `make deploy`'s `sam deploy`, pointed at the emulator."""
    name = f"{SPEC.project}-{environment}"
    with step(f"{region}: SecureString parameters, as `make params` creates them"):
        outcomes = params.provision(
            endpoint.client("kms", region),
            endpoint.client("ssm", region),
            SPEC,
            environment,
            account=ACCOUNT,
            region=region,
        )
        for outcome in outcomes:
            say(f"    {outcome.name}: {outcome.action}")
    overrides = {}
    if ",".join(origins) != parameter_overrides(environment).get("AllowedOrigins"):
        overrides["AllowedOrigins"] = ",".join(origins)
    env = {**os.environ, **endpoint.environment(region), "SAM_CLI_TELEMETRY": "0"}
    with step(f"{region}: sam deploy --config-env {environment} (as make deploy runs it)"):
        sam_deploy(environment, region, env=env, overrides=overrides, quiet=True)
    return read_stack(endpoint, region, environment, name, build)
