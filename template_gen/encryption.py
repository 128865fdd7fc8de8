"""The stack key: one customer managed KMS key, and a policy naming only who uses it."""

from __future__ import annotations

from typing import Any

from troposphere import Ref, Sub, Template, kms

from template_gen.defaults import RETAIN
from template_gen.model import Spec
from template_gen.naming import STACK_KEY, STACK_KEY_ALIAS, Names, PhysicalName

ACCOUNT_ROOT = Sub("arn:${AWS::Partition}:iam::${AWS::AccountId}:root")

# Management only: using the key for data goes through the statements below.
ADMIN_ACTIONS = (
    "kms:CancelKeyDeletion",
    "kms:CreateAlias",
    "kms:DeleteAlias",
    "kms:DescribeKey",
    "kms:DisableKey",
    "kms:DisableKeyRotation",
    "kms:EnableKey",
    "kms:EnableKeyRotation",
    "kms:GetKeyPolicy",
    "kms:GetKeyRotationStatus",
    "kms:ListAliases",
    "kms:ListGrants",
    "kms:ListResourceTags",
    "kms:PutKeyPolicy",
    "kms:RevokeGrant",
    "kms:ScheduleKeyDeletion",
    "kms:TagResource",
    "kms:UntagResource",
    "kms:UpdateAlias",
    "kms:UpdateKeyDescription",
)
DATA_ACTIONS = (
    "kms:CreateGrant",
    "kms:Decrypt",
    "kms:DescribeKey",
    "kms:Encrypt",
    "kms:GenerateDataKey",
)


def administration(principal: Any) -> dict[str, Any]:
    """The key policy statement that lets the account manage a key, but not use it."""
    return {
        "Sid": "KeyAdministration",
        "Effect": "Allow",
        "Principal": {"AWS": principal},
        "Action": list(ADMIN_ACTIONS),
        "Resource": "*",
    }


def use_through(sid: str, services: list[str]) -> dict[str, Any]:
    """The key's data use for IAM principals of this account, only through these services,
    so a role's kms grant cannot be used to decrypt data directly."""
    return {
        "Sid": sid,
        "Effect": "Allow",
        "Principal": {"AWS": ACCOUNT_ROOT},
        "Action": list(DATA_ACTIONS),
        "Resource": "*",
        "Condition": {
            "StringEquals": {
                "kms:CallerAccount": Ref("AWS::AccountId"),
                "kms:ViaService": [
                    Sub(f"{service}.${{AWS::Region}}.amazonaws.com") for service in services
                ],
            }
        },
    }


def deny_grants_for_others() -> dict[str, Any]:
    """Grants on the key only for AWS resources or AWS services: the services that encrypt
    with it (Lambda, DynamoDB, AWS Backup) create their grants with kms:GrantIsForAWSResource
    set, so nobody can hand a grant to a principal outside them. Control Tower's CT.KMS.PR.3
    (https://docs.aws.amazon.com/kms/latest/developerguide/conditions-kms.html#conditions-kms-grant-is-for-aws-resource)."""
    return {
        "Sid": "DenyGrantsNotForAwsResources",
        "Effect": "Deny",
        "Principal": {"AWS": "*"},
        "Action": "kms:CreateGrant",
        "Resource": "*",
        "Condition": {
            "BoolIfExists": {
                "kms:GrantIsForAWSResource": "false",
                "aws:PrincipalIsAWSService": "false",
            }
        },
    }


def key_services(spec: Spec) -> tuple[str, ...]:
    """The services that encrypt with the stack key on behalf of IAM principals: Lambda for
    the environments (the deployer's grant), Logs for the roles that write the encrypted
    log groups (encrypt-log-data-kms.html: Logs "make[s] AWS KMS calls on your behalf"),
    DynamoDB and S3 for the data."""
    services = ["lambda", "logs"]
    if spec.tables:
        services.append("dynamodb")
    if spec.buckets:
        services.append("s3")
    return tuple(sorted(services))


def add_stack_key(template: Template, spec: Spec, names: Names) -> None:
    log_groups = [names.function_log_group(f.name) for f in spec.functions]
    log_groups.append(names.api_log_group())
    statements = [
        administration(ACCOUNT_ROOT),
        deny_grants_for_others(),
        use_through("UseThroughStackServices", list(key_services(spec))),
        {
            "Sid": "EncryptStackLogGroups",
            "Effect": "Allow",
            "Principal": {"Service": Sub("logs.${AWS::Region}.amazonaws.com")},
            "Action": [
                "kms:Decrypt",
                "kms:DescribeKey",
                "kms:Encrypt",
                "kms:GenerateDataKey",
                "kms:ReEncryptFrom",
                "kms:ReEncryptTo",
            ],
            "Resource": "*",
            "Condition": {
                "ArnEquals": {
                    "kms:EncryptionContext:aws:logs:arn": [
                        Sub(
                            "arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}"
                            f":log-group:{group.pattern}"
                        )
                        for group in log_groups
                    ]
                }
            },
        },
        {
            # Alarms publish to the encrypted alarm topic.
            "Sid": "PublishStackAlarms",
            "Effect": "Allow",
            "Principal": {"Service": "cloudwatch.amazonaws.com"},
            "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
            "Resource": "*",
            "Condition": {
                "StringEquals": {"aws:SourceAccount": Ref("AWS::AccountId")},
                "ArnLike": {
                    "aws:SourceArn": Sub(
                        "arn:${AWS::Partition}:cloudwatch:${AWS::Region}:${AWS::AccountId}"
                        f":alarm:{names.prefix}-*"
                    )
                },
            },
        },
    ]
    add_retained_key(
        template, STACK_KEY, STACK_KEY_ALIAS, names.key_alias(), f"{names.prefix} stack key",
        statements,
    )  # fmt: skip


def add_retained_key(
    template: Template,
    logical: str,
    alias_logical: str,
    alias: PhysicalName,
    description: str,
    statements: list[dict[str, Any]],
    **condition: str,
) -> None:
    """A rotating key with this policy and its alias, both retained: after `make destroy`
    the alias is how a deploy finds the key again and imports both (ops/adopt.py)."""
    template.add_resource(
        kms.Key(
            logical,
            **condition,
            Description=Sub(description),
            EnableKeyRotation=True,
            PendingWindowInDays=30,
            KeyPolicy={"Version": "2012-10-17", "Statement": statements},
            **RETAIN,
        )
    )
    template.add_resource(
        kms.Alias(
            alias_logical,
            **condition,
            AliasName=alias.sub(),
            TargetKeyId=Ref(logical),
            **RETAIN,
        )
    )
