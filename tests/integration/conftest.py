from __future__ import annotations

import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from aws_semantics.intrinsics import Context
from offline.common.endpoint import Endpoint
from offline.common.ports import free_ports
from offline.stack.emulator_process import EmulatorProcess
from ops.deploy import sam_deploy_command
from tests.conftest import aws_environment
from tools.project_copy import project_copy

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Deployment:
    """A copy of the project whose commands run against the emulator, as a user runs them."""

    root: Path
    endpoint: str
    # Whom the make targets run as, when not the emulator's administrator: a deployer.
    principal: dict[str, str] | None = None

    @property
    def environment(self) -> dict[str, str]:
        """The administrator's environment."""
        return aws_environment(self.endpoint)

    @property
    def caller(self) -> dict[str, str]:
        """The environment the make targets run with."""
        return self.principal or self.environment

    def make(
        self, *args: str, stdin: str = "", env: dict[str, str] | None = None, timeout: float = 600
    ) -> subprocess.CompletedProcess[str]:
        """A make target in the copy; stdout and stderr together, as a terminal shows them.
        A run past `timeout` fails naming the command (subprocess.TimeoutExpired)."""
        return subprocess.run(
            ["make", "--no-print-directory", *args],
            cwd=self.root,
            env=env or self.caller,
            input=stdin,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            timeout=timeout,
        )

    def sam_deploy(self, region: str, environment: str = "dev") -> subprocess.CompletedProcess:
        """SAM CLI alone, without make deploy's preflight and import."""
        return subprocess.run(
            sam_deploy_command(environment, region, self.root / "samconfig.toml"),
            cwd=self.root,
            env=self.environment,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            timeout=600,
        )

    def client(self, service: str, region: str) -> Any:
        return Endpoint(self.endpoint).client(service, region)

    def created_and_expected(
        self, region: str, stack: str
    ) -> tuple[dict[str, str], dict[str, str]]:
        """The stack's resources, and those its processed template has whose Condition
        holds with the stack's parameters: logical id -> type, each."""
        cloudformation = self.client("cloudformation", region)
        template = cloudformation.get_template(StackName=stack, TemplateStage="Processed")
        body = dict(template["TemplateBody"])
        described = cloudformation.describe_stacks(StackName=stack)["Stacks"][0]
        parameters = {p["ParameterKey"]: p["ParameterValue"] for p in described["Parameters"]}
        context = Context(parameters, {}, body.get("Conditions", {}), lambda *_: None)
        created = {
            r["LogicalResourceId"]: r["ResourceType"]
            for page in cloudformation.get_paginator("list_stack_resources").paginate(
                StackName=stack
            )
            for r in page["StackResourceSummaries"]
        }
        expected = {
            logical: r["Type"]
            for logical, r in body["Resources"].items()
            if "Condition" not in r or context.condition(r["Condition"])
        }
        return created, expected


@pytest.fixture(scope="session")
def deploy_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return project_copy(tmp_path_factory.mktemp("project") / "backend-kit")


@pytest.fixture(scope="session")
def emulator_url() -> Iterator[str]:
    """The project's emulator (`make emulator`) as a child process, on a free port."""
    emulator = EmulatorProcess(free_ports(1)[0])
    endpoint = emulator.start()
    try:
        yield endpoint.url
    finally:
        emulator.stop()
