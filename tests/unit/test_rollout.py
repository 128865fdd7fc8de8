"""Safe rollout, one template: prod shifts traffic by canary and rolls back on alarms; dev
and staging deploy all at once, with no alarms attached."""

from __future__ import annotations

from typing import Any

import pytest

from aws_semantics.intrinsics import Context, resolve
from template_gen.spec import SPEC
from tests.conftest import of_type


def deployment_groups(expanded: dict[str, Any], environment: str) -> dict[str, dict]:
    """Each function's deployment group as CloudFormation would resolve it."""
    resources = expanded["Resources"]
    context = Context(
        parameters={"Environment": environment},
        physical_ids={logical: logical for logical in resources},
        conditions=expanded["Conditions"],
        attribute=lambda logical, name: f"{logical}.{name}",
    )
    groups = {}
    for logical, group in of_type(resources, "AWS::CodeDeploy::DeploymentGroup").items():
        groups[logical.removesuffix("DeploymentGroup")] = resolve(group["Properties"], context)
    return groups


def test_prod_deploys_by_canary_and_rolls_back_on_alarms(expanded: dict[str, Any]) -> None:
    groups = deployment_groups(expanded, "prod")
    assert set(groups) == {f"{f.name.capitalize()}Function" for f in SPEC.functions}
    for function, group in groups.items():
        name = function.removesuffix("Function")
        assert group["DeploymentConfigName"] == "CodeDeployDefault.LambdaCanary10Percent5Minutes"
        alarms = {a["Name"] for a in group["AlarmConfiguration"]["Alarms"]}
        assert alarms == {f"Function{name}ErrorsAlarm", f"Function{name}DurationP99Alarm"}
        assert group["AlarmConfiguration"]["Enabled"] is True
        assert "DEPLOYMENT_STOP_ON_ALARM" in group["AutoRollbackConfiguration"]["Events"]
        assert group["ServiceRoleArn"] == "DeploymentRole.Arn"


@pytest.mark.parametrize("environment", ["dev", "staging"])
def test_other_environments_deploy_all_at_once_without_alarms(
    expanded: dict[str, Any], environment: str
) -> None:
    for group in deployment_groups(expanded, environment).values():
        assert group["DeploymentConfigName"] == "CodeDeployDefault.LambdaAllAtOnce"
        assert not group.get("AlarmConfiguration", {}).get("Alarms")


def test_every_function_publishes_the_live_alias(resources: dict[str, Any]) -> None:
    for function in of_type(resources, "AWS::Serverless::Function").values():
        assert function["Properties"]["AutoPublishAlias"] == "live"
