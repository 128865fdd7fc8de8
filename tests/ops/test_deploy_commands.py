"""What `make deploy` and `make deploy-all` run, the samconfig they read, and the summary."""

from __future__ import annotations

import subprocess
import tomllib

from ops import deploy_all
from ops.config import SAMCONFIG, parameter_overrides
from template_gen.spec import SPEC
from tests.ops.conftest import ROOT, clean_environment, client


def dry_run(*args: str) -> list[str]:
    result = subprocess.run(
        ["make", "-n", "--no-print-directory", *args],
        cwd=ROOT,
        env=clean_environment(),
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout.splitlines()


def sam_deploy(environment: str, region: str) -> str:
    return (
        f".venv/bin/sam deploy --config-env {environment} --region {region}"
        " --template-file build/template.yaml --no-progressbar"
    )


def test_make_deploy_runs_the_preflight_then_sam_deploy() -> None:
    lines = dry_run("deploy", "REGION=eu-west-1", "ENV=prod")
    preflight = ".venv/bin/python -m ops preflight --region eu-west-1 --env prod"
    assert lines.index(preflight) < lines.index(sam_deploy("prod", "eu-west-1"))


def test_make_deploy_all_deploys_each_region_in_order() -> None:
    lines = dry_run("deploy-all", "REGIONS=us-east-1 eu-west-1 ap-southeast-2", "ENV=staging")
    deploys = [line for line in lines if line.startswith(".venv/bin/sam deploy")]
    assert deploys == [
        sam_deploy("staging", r) for r in ("us-east-1", "eu-west-1", "ap-southeast-2")
    ]


def test_samconfig_has_what_each_environment_needs() -> None:
    config = tomllib.loads(SAMCONFIG.read_text())

    def keys(table: dict) -> set[str]:
        return {
            k
            for key, v in table.items()
            for k in ({key} | (keys(v) if isinstance(v, dict) else set()))
        }

    assert "region" not in keys(config)  # the region always comes from the command
    for environment in SPEC.environments:
        deploy = config[environment]["deploy"]["parameters"]
        assert deploy["stack_name"] == f"{SPEC.project}-{environment}"
        assert set(deploy["capabilities"].split()) >= {
            "CAPABILITY_NAMED_IAM",
            "CAPABILITY_AUTO_EXPAND",
        }
        assert deploy.get("resolve_s3") is True or deploy.get("s3_bucket")
        assert f'environment="{environment}"' in deploy["tags"]
        overrides = parameter_overrides(environment)
        assert overrides["Environment"] == environment
        assert overrides["AllowedOrigins"] and "*" not in overrides["AllowedOrigins"]


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
