"""samconfig.toml as SAM CLI reads it, and the deploy-all summary. `make deploy` itself runs
in tests/integration/test_deploy_commands.py."""

from __future__ import annotations

import tomllib

import pytest

from ops import deploy_all
from ops.config import SAMCONFIG, environments, parameter_overrides
from template_gen.spec import SPEC
from tests.ops.conftest import client, ops


def test_samconfig_has_what_each_environment_needs() -> None:
    config = tomllib.loads(SAMCONFIG.read_text())

    def keys(table: dict) -> set[str]:
        return {
            k
            for key, v in table.items()
            for k in ({key} | (keys(v) if isinstance(v, dict) else set()))
        }

    assert "region" not in keys(config)  # the region always comes from the command
    assert environments() == sorted(SPEC.environments)
    for environment in SPEC.environments:
        # Under global, so that every SAM command finds them, not only `sam deploy`.
        settings = config[environment]["global"]["parameters"]
        assert settings["stack_name"] == f"{SPEC.project}-{environment}"
        assert set(settings["capabilities"].split()) >= {
            "CAPABILITY_NAMED_IAM",
            "CAPABILITY_AUTO_EXPAND",
        }
        assert settings.get("resolve_s3") is True or settings.get("s3_bucket")
        assert f'environment="{environment}"' in settings["tags"]
        overrides = parameter_overrides(environment)
        assert overrides["Environment"] == environment
        assert overrides["AllowedOrigins"] and "*" not in overrides["AllowedOrigins"]


@pytest.mark.parametrize("environment", SPEC.environments)
def test_sam_finds_each_environments_stack_beyond_sam_deploy(
    emulator: dict[str, str], environment: str
) -> None:
    """`sam list stack-outputs` takes its stack name from samconfig.toml alone: against an
    account without the stack it names the one it looked for."""
    result = ops("outputs", "--region", "eu-west-1", "--env", environment, env=emulator)
    assert result.returncode != 0
    assert (
        f"The input stack {SPEC.project}-{environment} does not exist on Cloudformation"
        " in the region eu-west-1" in result.stderr + result.stdout
    )


def test_a_failure_stops_the_regions_after_it_unless_asked_to_go_on() -> None:
    attempted: list[str] = []

    def deploy(region: str) -> bool:
        attempted.append(region)
        return region != "eu-west-1"

    def describe(region: str) -> tuple[str, str]:
        return (
            "UPDATE_ROLLBACK_COMPLETE" if region == "eu-west-1" else "UPDATE_COMPLETE",
            f"https://api.{region}.example/",
        )

    regions = ["us-east-1", "eu-west-1", "ap-southeast-2"]
    results = deploy_all.deploy_all(regions, deploy, describe)
    assert attempted == ["us-east-1", "eu-west-1"]
    assert [r.status for r in results] == [
        "UPDATE_COMPLETE",
        "UPDATE_ROLLBACK_COMPLETE",
        deploy_all.NOT_ATTEMPTED,
    ]
    table = deploy_all.table(results)
    assert "ap-southeast-2  not attempted" in table
    attempted.clear()
    results = deploy_all.deploy_all(regions, deploy, describe, keep_going=True)
    assert attempted == regions and [r.failed for r in results] == [False, True, False]


def test_the_summary_reads_status_and_url_from_each_region(emulator: dict[str, str]) -> None:
    template = (
        '{"Resources": {"Topic": {"Type": "AWS::SNS::Topic"}}, "Outputs": {"ApiUrl":'
        ' {"Value": "https://abc.execute-api.eu-west-1.amazonaws.com/"}}}'
    )
    cloudformation = client(emulator, "cloudformation", "eu-west-1")
    cloudformation.create_stack(StackName="backend-kit-summary", TemplateBody=template)
    status, url = deploy_all.stack_summary(cloudformation, "backend-kit-summary")
    assert status == "CREATE_COMPLETE"
    assert url == "https://abc.execute-api.eu-west-1.amazonaws.com/"
    assert deploy_all.stack_summary(cloudformation, "no-such-stack") == ("no stack", "")
