"""The production profile (docs/production.md): what each environment gets, read
from the rendered template with its conditions resolved as CloudFormation resolves them."""

from __future__ import annotations

from typing import Any

import pytest

from aws_semantics.intrinsics import Context, resolve
from template_gen.naming import table_id
from template_gen.spec import SPEC
from tests.conftest import of_type

BACKUP_TYPES = {
    "AWS::Backup::BackupVault",
    "AWS::Backup::BackupPlan",
    "AWS::Backup::BackupSelection",
}


def deployed(template: dict[str, Any], environment: str, **overrides: str) -> dict[str, Any]:
    """The resources CloudFormation would create for `environment`, properties resolved
    (a resource's Ref is its logical id, an attribute `<id>.<attribute>`)."""
    parameters = {name: str(p.get("Default", "")) for name, p in template["Parameters"].items()}
    parameters.update({
        "AWS::Partition": "aws", "AWS::Region": "eu-west-1", "AWS::AccountId": "123456789012",
        "AWS::URLSuffix": "amazonaws.com", "AWS::StackName": f"stack-{environment}",
        "Environment": environment, **overrides,
    })  # fmt: skip
    context = Context(
        parameters=parameters,
        physical_ids={name: name for name in template["Resources"]},
        conditions=template["Conditions"],
        attribute=lambda logical, attribute: f"{logical}.{attribute}",
    )
    return {
        name: {**resource, "Properties": resolve(resource.get("Properties", {}), context)}
        for name, resource in template["Resources"].items()
        if "Condition" not in resource or context.condition(resource["Condition"])
    }


def user_pool(template: dict[str, Any], environment: str, **overrides: str) -> dict[str, Any]:
    return deployed(template, environment, **overrides)["UserPool"]["Properties"]


def test_mfa_is_required_in_prod_and_optional_elsewhere(template: dict[str, Any]) -> None:
    assert user_pool(template, "prod")["MfaConfiguration"] == "ON"
    for environment in ("dev", "staging"):
        assert user_pool(template, environment)["MfaConfiguration"] == "OPTIONAL"
    for environment in SPEC.environments:
        assert user_pool(template, environment)["EnabledMfas"] == ["SOFTWARE_TOKEN_MFA"]


@pytest.mark.parametrize(
    ("environment", "overrides", "tier", "mode"),
    [
        ("prod", {}, "PLUS", "ENFORCED"),
        ("dev", {}, "ESSENTIALS", "OFF"),
        ("staging", {}, "ESSENTIALS", "OFF"),
        ("prod", {"ThreatProtection": "OFF"}, "ESSENTIALS", "OFF"),
        ("prod", {"ThreatProtection": "AUDIT"}, "PLUS", "AUDIT"),
        ("dev", {"ThreatProtection": "ENFORCED"}, "PLUS", "ENFORCED"),
    ],
)
def test_threat_protection_follows_the_parameter_then_the_environment(
    template: dict[str, Any], environment: str, overrides: dict[str, str], tier: str, mode: str
) -> None:
    pool = user_pool(template, environment, **overrides)
    assert pool["UserPoolTier"] == tier
    assert pool["UserPoolAddOns"] == {"AdvancedSecurityMode": mode}


def test_backups_exist_in_prod_only(template: dict[str, Any]) -> None:
    prod = {r["Type"] for r in deployed(template, "prod").values()}
    assert prod >= BACKUP_TYPES
    for environment in ("dev", "staging"):
        types = {r["Type"] for r in deployed(template, environment).values()}
        assert not types & BACKUP_TYPES, environment


def test_the_vault_has_a_retained_key_of_its_own(template: dict[str, Any]) -> None:
    resources = deployed(template, "prod")
    ((vault_id, vault),) = of_type(resources, "AWS::Backup::BackupVault").items()
    key_id = vault["Properties"]["EncryptionKeyArn"].split(".")[0]
    assert key_id != "StackKey"
    assert resources[key_id]["Type"] == "AWS::KMS::Key"
    for logical in (vault_id, key_id):
        assert resources[logical]["DeletionPolicy"] == "Retain", logical
        assert resources[logical]["UpdateReplacePolicy"] == "Retain", logical
    assert "LockConfiguration" not in vault["Properties"]


def test_the_plan_backs_up_every_table_daily_and_monthly(template: dict[str, Any]) -> None:
    resources = deployed(template, "prod")
    (vault_id,) = of_type(resources, "AWS::Backup::BackupVault")
    ((plan_id, plan),) = of_type(resources, "AWS::Backup::BackupPlan").items()
    rules = {r["RuleName"]: r for r in plan["Properties"]["BackupPlan"]["BackupPlanRule"]}
    assert set(rules) == {"daily", "monthly"}
    assert rules["daily"]["ScheduleExpression"].startswith("cron(")
    assert (
        rules["daily"]["Lifecycle"]["DeleteAfterDays"]
        < (rules["monthly"]["Lifecycle"]["DeleteAfterDays"])
    )
    for rule in rules.values():
        assert rule["TargetBackupVault"] == vault_id
    (selection,) = of_type(resources, "AWS::Backup::BackupSelection").values()
    assert selection["Properties"]["BackupPlanId"] == plan_id
    chosen = selection["Properties"]["BackupSelection"]
    assert sorted(chosen["Resources"]) == sorted(f"{table_id(t.name)}.Arn" for t in SPEC.tables)
    role = resources[chosen["IamRoleArn"].split(".")[0]]["Properties"]
    (statement,) = role["AssumeRolePolicyDocument"]["Statement"]
    assert statement["Principal"] == {"Service": "backup.amazonaws.com"}
    assert "ManagedPolicyArns" not in role


def test_point_in_time_recovery_stays_on_every_table(template: dict[str, Any]) -> None:
    for environment in SPEC.environments:
        tables = of_type(deployed(template, environment), "AWS::DynamoDB::Table")
        assert len(tables) == len(SPEC.tables)
        for name, table in tables.items():
            recovery = table["Properties"]["PointInTimeRecoverySpecification"]
            assert recovery == {"PointInTimeRecoveryEnabled": True}, name


@pytest.mark.parametrize(("lock", "grace"), [("governance", False), ("compliance", True)])
def test_the_vault_lock_bounds_every_rule(template: dict[str, Any], lock: str, grace: bool) -> None:
    resources = deployed(template, "prod", BackupVaultLock=lock)
    (vault,) = of_type(resources, "AWS::Backup::BackupVault").values()
    config = vault["Properties"]["LockConfiguration"]
    assert ("ChangeableForDays" in config) is grace
    (plan,) = of_type(resources, "AWS::Backup::BackupPlan").values()
    for rule in plan["Properties"]["BackupPlan"]["BackupPlanRule"]:
        days = rule["Lifecycle"]["DeleteAfterDays"]
        assert config["MinRetentionDays"] <= days <= config["MaxRetentionDays"], rule["RuleName"]


def test_no_vault_lock_outside_prod(template: dict[str, Any]) -> None:
    resources = deployed(template, "dev", BackupVaultLock="compliance")
    assert not of_type(resources, "AWS::Backup::BackupVault")


def test_snapstart_restores_published_versions_in_prod_only(template: dict[str, Any]) -> None:
    for environment in SPEC.environments:
        functions = of_type(deployed(template, environment), "AWS::Serverless::Function")
        assert len(functions) == len(SPEC.functions)
        applied = "PublishedVersions" if environment == "prod" else "None"
        for name, function in functions.items():
            assert function["Properties"]["SnapStart"] == {"ApplyOn": applied}, name
            # Published versions are what SnapStart snapshots: SAM publishes one per deploy.
            assert function["Properties"]["AutoPublishAlias"], name


def test_cfn_lint_knows_snapstart_for_the_runtime_the_functions_use() -> None:
    """cfn-lint's rule E2530 holds the runtimes SnapStart supports; the day its data says
    the spec's runtime is not one, this fails before a deploy does."""
    from cfnlint.rules.resources.lmbd.SnapStartSupported import SnapStartSupported

    rule = SnapStartSupported()
    assert rule._is_runtime_valid(SPEC.runtime)
    assert not rule._is_runtime_valid("python3.11")  # the check can say no
