"""Every deploy-side command, run as a user runs it, fails in one clear line with the command
that fixes it: no credentials, no or an unknown ENV, no REGION, an endpoint nobody answers."""

from __future__ import annotations

import pytest

from offline.common.ports import free_ports
from template_gen.spec import SPEC
from tests.conftest import aws_environment
from tests.integration.conftest import Deployment
from tests.unknown import unknown

pytestmark = pytest.mark.integration

# Each deploy-side target with the variables it needs; `make deploy-all` takes REGIONS.
COMMANDS = {
    "params": ["REGION=us-east-1", "ENV=dev"],
    "bootstrap": ["REGION=us-east-1", "ENV=dev"],
    "deploy": ["REGION=us-east-1", "ENV=dev"],
    "drift": ["REGION=us-east-1", "ENV=dev"],
    "destroy": ["REGION=us-east-1", "ENV=dev"],
    "outputs": ["REGION=us-east-1", "ENV=dev"],
    "logs": ["REGION=us-east-1", "ENV=dev", "FUNCTION=users"],
}


def failure(deployment: Deployment, target: str, *variables: str, **env: str) -> str:
    """The command's one line of its own, after make's progress and before make's summary.
    A refusal comes at once: a command still running after two minutes is not refusing."""
    result = deployment.make(target, *variables, env=env or None, timeout=120)
    assert result.returncode != 0, result.stdout
    assert "Traceback" not in result.stdout, result.stdout
    own = [line for line in result.stdout.splitlines() if line.startswith(f"make {target}: ")]
    assert len(own) == 1, result.stdout
    return own[0]


@pytest.mark.parametrize("target", sorted(COMMANDS))
def test_without_credentials_each_command_says_so(deployment: Deployment, target: str) -> None:
    line = failure(deployment, target, *COMMANDS[target], **aws_environment(credentials=False))
    assert "no AWS credentials" in line and "aws sso login" in line, line


@pytest.mark.parametrize("target", sorted(COMMANDS))
def test_an_endpoint_nobody_answers_is_named(deployment: Deployment, target: str) -> None:
    endpoint = f"http://127.0.0.1:{free_ports(1)[0]}"
    line = failure(deployment, target, *COMMANDS[target], **aws_environment(endpoint))
    assert f"nothing answers at AWS_ENDPOINT_URL={endpoint}" in line, line
    assert "make emulator" in line


@pytest.mark.parametrize("target", [*sorted(COMMANDS), "deploy-all"])
def test_a_missing_or_unknown_environment_names_the_valid_ones(
    deployment: Deployment, target: str
) -> None:
    where = "REGIONS=us-east-1" if target == "deploy-all" else "REGION=us-east-1"
    valid = ", ".join(SPEC.environments)
    missing = failure(deployment, target, where)
    assert f"ENV is required, one of {valid}" in missing, missing
    assert f"ENV={SPEC.environments[0]}" in missing
    environment = unknown(SPEC.environments, "qa")
    refused = failure(deployment, target, where, f"ENV={environment}")
    assert f"ENV={environment} is not an environment; use one of {valid}" in refused, refused


@pytest.mark.parametrize("target", sorted(COMMANDS))
def test_a_missing_region_gives_the_command_with_one(deployment: Deployment, target: str) -> None:
    line = failure(deployment, target, "ENV=staging")
    assert f"REGION is required: make {target} REGION=eu-west-1 ENV=staging" in line, line


def test_deploy_all_without_regions_gives_the_command(deployment: Deployment) -> None:
    line = failure(deployment, "deploy-all", "ENV=prod")
    assert 'make deploy-all REGIONS="us-east-1 eu-west-1" ENV=prod' in line, line


def test_an_unknown_function_names_the_functions(deployment: Deployment) -> None:
    function = unknown((f.name for f in SPEC.functions), "orders")
    line = failure(deployment, "logs", "REGION=us-east-1", "ENV=dev", f"FUNCTION={function}")
    assert f"FUNCTION={function} is not a function" in line, line
    assert all(f.name in line for f in SPEC.functions), line


@pytest.fixture(scope="module")
def deployment(deploy_project, emulator_url: str) -> Deployment:
    return Deployment(deploy_project, emulator_url)
