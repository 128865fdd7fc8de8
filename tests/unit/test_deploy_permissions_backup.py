"""What the execution role needs for the production profile's AWS Backup resources
(template_gen/deploy_permissions.py), as a policy pattern and on the emulator's concrete ARNs."""

from __future__ import annotations

from typing import Any

import pytest

from template_gen.deploy_permissions import (
    PASSED_TO_SERVICE,
    Place,
    Resource,
    needs,
    own_arns,
)

ACCOUNT, REGION = "123456789012", "eu-west-1"
KEY = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/backend-kit-prod-backup"
TABLE = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/backend-kit-prod-items"
PATTERN = Place.pattern()
CONCRETE = Place.concrete(REGION, ACCOUNT)

VAULT = Resource(
    "AWS::Backup::BackupVault",
    {
        "BackupVaultName": "backend-kit-prod-backups",
        "EncryptionKeyArn": KEY,
        "LockConfiguration": {"MinRetentionDays": 7, "MaxRetentionDays": 400},
    },
)
PLAN = Resource(
    "AWS::Backup::BackupPlan",
    {"BackupPlan": {"BackupPlanName": "p", "BackupPlanRule": [
        {"RuleName": "daily", "TargetBackupVault": "backend-kit-prod-backups"}]}},
)  # fmt: skip
SELECTION = Resource(
    "AWS::Backup::BackupSelection",
    {
        "BackupPlanId": "plan-1",
        "BackupSelection": {"SelectionName": "tables", "IamRoleArn": ROLE, "Resources": [TABLE]},
    },
)


def pairs(resource: Resource, operation: str, place: Place) -> set[tuple[str, str]]:
    found, _ = needs(resource, operation, place)
    return {(n.action, n.resource) for n in found}


def test_a_vault_is_named_by_its_name_and_its_key_is_used_for_it() -> None:
    vault = "arn:${AWS::Partition}:backup:*:${AWS::AccountId}:backup-vault:backend-kit-prod-backups"
    assert own_arns(VAULT, PATTERN) == [vault]
    created = pairs(VAULT, "create", PATTERN)
    assert {
        ("backup:CreateBackupVault", vault),
        ("backup:PutBackupVaultLockConfiguration", vault),
        ("kms:CreateGrant", KEY),
        ("kms:DescribeKey", KEY),
    } <= created
    # The lock can be changed and removed by an update; a delete touches the vault alone.
    assert ("backup:DeleteBackupVaultLockConfiguration", vault) in pairs(VAULT, "update", PATTERN)
    assert pairs(VAULT, "delete", PATTERN) == {("backup:DeleteBackupVault", vault)}
    # Read, as an import reads it: the emulator checks these on the concrete ARN.
    concrete = f"arn:aws:backup:{REGION}:{ACCOUNT}:backup-vault:backend-kit-prod-backups"
    assert ("backup:DescribeBackupVault", concrete) in pairs(VAULT, "read", CONCRETE)


def test_a_plans_generated_id_is_a_wildcard_in_the_policy_and_exact_in_the_emulator() -> None:
    pattern = "arn:${AWS::Partition}:backup:*:${AWS::AccountId}:backup-plan:*"
    assert own_arns(PLAN, PATTERN) == [pattern]
    assert ("backup:CreateBackupPlan", pattern) in pairs(PLAN, "create", PATTERN)
    made = Resource(PLAN.type, PLAN.properties, physical_id="plan-1")
    exact = f"arn:aws:backup:{REGION}:{ACCOUNT}:backup-plan:plan-1"
    assert pairs(made, "update", CONCRETE) >= {("backup:UpdateBackupPlan", exact)}
    assert pairs(made, "delete", CONCRETE) == {
        ("backup:GetBackupPlan", exact),
        ("backup:DeleteBackupPlan", exact),
    }


def test_a_selection_acts_on_its_plan_and_passes_its_role_to_aws_backup() -> None:
    plan = "arn:${AWS::Partition}:backup:*:${AWS::AccountId}:backup-plan:plan-1"
    found, skipped = needs(SELECTION, "create", PATTERN)
    by_action: dict[str, Any] = {n.action: n for n in found}
    assert by_action["backup:CreateBackupSelection"].resource == plan
    assert by_action["iam:PassRole"].resource == ROLE
    assert by_action["iam:PassRole"].context == ((PASSED_TO_SERVICE, "backup.amazonaws.com"),)
    assert by_action["iam:GetRole"].resource == ROLE
    # The only role it may create is AWS Backup's service-linked one, never its own role.
    linked = by_action["iam:CreateServiceLinkedRole"].resource
    assert linked.endswith(":role/aws-service-role/backup.amazonaws.com/AWSServiceRoleForBackup")
    assert skipped == []
    assert pairs(SELECTION, "delete", PATTERN) == {
        ("backup:GetBackupSelection", plan),
        ("backup:DeleteBackupSelection", plan),
    }


@pytest.mark.parametrize("resource", [VAULT, PLAN, SELECTION], ids=lambda r: r.type)
@pytest.mark.parametrize("operation", ["create", "read", "update", "delete"])
def test_every_backup_action_is_on_a_backup_kms_or_iam_arn(
    resource: Resource, operation: str
) -> None:
    for action, arn in pairs(resource, operation, CONCRETE):
        service = action.split(":")[0]
        if arn != "*":
            assert arn.split(":")[2] == service, (action, arn)
        assert service in {"backup", "backup-storage", "kms", "iam"}, action
