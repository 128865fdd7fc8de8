"""Secure defaults shared by several resource modules, kept in one place."""

from __future__ import annotations

from typing import Any

from troposphere import GetAtt, Ref, Sub, iam, logs

from template_gen.naming import STACK_KEY, PhysicalName
from template_gen.parameters import LOG_RETENTION_DAYS

# Stateful resources outlive the stack: a delete or a replacement never takes their data.
RETAIN = {"DeletionPolicy": "Retain", "UpdateReplacePolicy": "Retain"}


def encrypted_log_group(logical: str, name: PhysicalName) -> logs.LogGroup:
    """A log group with the stack's retention and encrypted with the stack key."""
    return logs.LogGroup(
        logical,
        LogGroupName=name.sub(),
        RetentionInDays=Ref(LOG_RETENTION_DAYS),
        KmsKeyId=GetAtt(STACK_KEY, "Arn"),
    )


def service_role(
    logical: str,
    name: PhysicalName,
    description: Sub,
    service: str,
    policy_name: str,
    statements: list[dict[str, Any]],
) -> iam.Role:
    """A role one AWS service assumes, with one inline policy and no managed ones."""
    return iam.Role(
        logical,
        RoleName=name.sub(),
        Description=description,
        AssumeRolePolicyDocument={
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Service": service},
                    "Action": "sts:AssumeRole",
                }
            ],
        },
        Policies=[
            iam.Policy(
                PolicyName=policy_name,
                PolicyDocument={"Version": "2012-10-17", "Statement": statements},
            )
        ],
    )
