"""AWS Backup of the tables in prod: a vault with a key of its own, a daily and a monthly rule.

Point-in-time recovery (35 days, to the second) stays on every table; the plan adds copies
that outlive it and the stack. Backups of a DynamoDB table are encrypted with the table's
key unless the account turns on AWS Backup's advanced DynamoDB features, in which case the
vault's key encrypts them
(https://docs.aws.amazon.com/aws-backup/latest/devguide/encryption.html).

The vault has a key of its own rather than the stack key: the recovery points must stay
readable whatever happens to the stack key (a scheduled deletion, a key policy edit), and the
backup key's policy lets its data be used only through AWS Backup. It costs one more key
($1 a month). The vault and its key are retained like the tables, so `make destroy` leaves
the recovery points; the plan and its selection hold no data and go with the stack.
"""

from __future__ import annotations

from typing import Any

from troposphere import GetAtt, If, NoValue, Ref, Sub, Template, backup

from template_gen.defaults import RETAIN, service_role
from template_gen.encryption import (
    ACCOUNT_ROOT,
    add_retained_key,
    administration,
    deny_grants_for_others,
    use_through,
)
from template_gen.model import Spec
from template_gen.naming import (
    BACKUP_KEY,
    BACKUP_KEY_ALIAS,
    BACKUP_PLAN,
    BACKUP_ROLE,
    BACKUP_SELECTION,
    BACKUP_VAULT,
    Names,
    table_id,
)
from template_gen.parameters import HAS_COMPLIANCE_LOCK, HAS_VAULT_LOCK, IS_PROD

# https://docs.aws.amazon.com/aws-backup/latest/devguide/creating-a-backup-plan.html
SCHEDULE_TIMEZONE = "Etc/UTC"
DAILY_SCHEDULE = "cron(0 3 ? * * *)"
MONTHLY_SCHEDULE = "cron(0 4 1 * ? *)"
DAILY_RETENTION_DAYS = 35
MONTHLY_RETENTION_DAYS = 365
START_WINDOW_MINUTES = 60
COMPLETION_WINDOW_MINUTES = 24 * 60
# A locked vault refuses recovery points kept for less or more than these
# (https://docs.aws.amazon.com/aws-backup/latest/devguide/vault-lock.html): the bounds hold
# both rules above.
LOCK_MIN_RETENTION_DAYS = 7
LOCK_MAX_RETENTION_DAYS = MONTHLY_RETENTION_DAYS
# Compliance mode becomes immutable after this grace period; 3 days is the minimum.
LOCK_GRACE_DAYS = 3

# What AWS Backup does with a DynamoDB table, as AWSBackupServiceRolePolicyForBackup grants
# it (https://docs.aws.amazon.com/aws-managed-policy/latest/reference/AWSBackupServiceRolePolicyForBackup.html),
# here on this stack's tables only.
TABLE_ACTIONS = (
    "dynamodb:CreateBackup",
    "dynamodb:DescribeTable",
    "dynamodb:ListTagsOfResource",
    "dynamodb:StartAwsBackupJob",
)
TABLE_BACKUP_ACTIONS = ("dynamodb:DeleteBackup", "dynamodb:DescribeBackup")


def add_backups(template: Template, spec: Spec, names: Names) -> None:
    if not spec.tables:
        return
    _add_key(template, names)
    template.add_resource(
        backup.BackupVault(
            BACKUP_VAULT,
            Condition=IS_PROD,
            BackupVaultName=names.backup_vault().sub(),
            EncryptionKeyArn=GetAtt(BACKUP_KEY, "Arn"),
            LockConfiguration=If(
                HAS_VAULT_LOCK,
                backup.LockConfigurationType(
                    MinRetentionDays=LOCK_MIN_RETENTION_DAYS,
                    MaxRetentionDays=LOCK_MAX_RETENTION_DAYS,
                    ChangeableForDays=If(HAS_COMPLIANCE_LOCK, LOCK_GRACE_DAYS, NoValue),
                ),
                NoValue,
            ),
            **RETAIN,
        )
    )
    tables = [GetAtt(table_id(t.name), "Arn") for t in spec.tables]
    statements: list[dict[str, Any]] = [
        {"Effect": "Allow", "Action": list(TABLE_ACTIONS), "Resource": tables},
        {
            "Effect": "Allow",
            "Action": list(TABLE_BACKUP_ACTIONS),
            "Resource": [Sub(f"${{{table_id(t.name)}.Arn}}/backup/*") for t in spec.tables],
        },
    ]
    role = service_role(
        BACKUP_ROLE,
        names,
        names.backup_role(),
        Sub(f"{names.prefix}: AWS Backup of the tables"),
        "backup.amazonaws.com",
        "backup-tables",
        statements,
    )
    role.Condition = IS_PROD
    template.add_resource(role)
    template.add_resource(
        backup.BackupPlan(
            BACKUP_PLAN,
            Condition=IS_PROD,
            BackupPlan=backup.BackupPlanResourceType(
                BackupPlanName=names.backup_plan().sub(),
                BackupPlanRule=[
                    _rule("daily", DAILY_SCHEDULE, DAILY_RETENTION_DAYS),
                    _rule("monthly", MONTHLY_SCHEDULE, MONTHLY_RETENTION_DAYS),
                ],
            ),
        )
    )
    template.add_resource(
        backup.BackupSelection(
            BACKUP_SELECTION,
            Condition=IS_PROD,
            BackupPlanId=Ref(BACKUP_PLAN),
            BackupSelection=backup.BackupSelectionResourceType(
                SelectionName=names.backup_selection().sub(),
                IamRoleArn=GetAtt(BACKUP_ROLE, "Arn"),
                Resources=tables,
            ),
        )
    )


def _rule(name: str, schedule: str, retention_days: int) -> backup.BackupRuleResourceType:
    return backup.BackupRuleResourceType(
        RuleName=name,
        TargetBackupVault=Ref(BACKUP_VAULT),
        ScheduleExpression=schedule,
        ScheduleExpressionTimezone=SCHEDULE_TIMEZONE,
        StartWindowMinutes=START_WINDOW_MINUTES,
        CompletionWindowMinutes=COMPLETION_WINDOW_MINUTES,
        Lifecycle=backup.LifecycleResourceType(DeleteAfterDays=retention_days),
    )


def _add_key(template: Template, names: Names) -> None:
    statements = [
        administration(ACCOUNT_ROOT),
        deny_grants_for_others(),
        use_through("UseThroughBackup", ["backup"]),
    ]
    add_retained_key(
        template, BACKUP_KEY, BACKUP_KEY_ALIAS, names.backup_key_alias(),
        f"{names.prefix} backup vault key", statements, Condition=IS_PROD,
    )  # fmt: skip
