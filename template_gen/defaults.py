"""Secure defaults shared by several resource modules, kept in one place."""

from __future__ import annotations

from typing import Any

from troposphere import GetAtt, Ref, Sub, iam, logs

from template_gen.findings import (
    EXPLICIT_NAMES,
    INLINE_POLICY,
    LAMBDA_ROLE_WILDCARDS,
    RETENTION_BY_ENVIRONMENT,
    SCOPED_WILDCARDS,
    waiver_metadata,
    wildcard_resources,
)
from template_gen.naming import STACK_KEY, Names, PhysicalName
from template_gen.parameters import LOG_RETENTION_DAYS

# Stateful resources outlive the stack: a delete or a replacement never takes their data.
RETAIN = {"DeletionPolicy": "Retain", "UpdateReplacePolicy": "Retain"}


def encrypted_log_group(logical: str, name: PhysicalName) -> logs.LogGroup:
    """A log group with the stack's retention and encrypted with the stack key."""
    return logs.LogGroup(
        logical,
        Metadata=waiver_metadata(RETENTION_BY_ENVIRONMENT),
        LogGroupName=name.sub(),
        RetentionInDays=Ref(LOG_RETENTION_DAYS),
        KmsKeyId=GetAtt(STACK_KEY, "Arn"),
    )


def boundary_name(names: Names) -> str:
    """The permissions boundary the bootstrap stack makes (template_gen/bootstrap.py). A fixed
    name, not a parameter: the execution role may only make roles that carry it."""
    return f"{names.prefix}-boundary"


def boundary_arn_pattern(names: Names) -> str:
    # https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies_boundaries.html
    return f"arn:${{AWS::Partition}}:iam::${{AWS::AccountId}}:policy/{boundary_name(names)}"


def boundary_arn(names: Names) -> Sub:
    return Sub(boundary_arn_pattern(names))


def service_role(
    logical: str,
    names: Names,
    name: PhysicalName,
    description: Sub,
    service: str,
    policy_name: str,
    statements: list[dict[str, Any]],
) -> iam.Role:
    """A role one AWS service assumes, with one inline policy, no managed ones, and the
    project's permissions boundary, without which the execution role may not create it."""
    document = {"Version": "2012-10-17", "Statement": statements}
    wildcards = wildcard_resources(document)
    waivers = [INLINE_POLICY, EXPLICIT_NAMES]
    if wildcards:
        waivers.append(SCOPED_WILDCARDS)
        if service == "lambda.amazonaws.com":
            waivers.append(LAMBDA_ROLE_WILDCARDS)
    return iam.Role(
        logical,
        Metadata=waiver_metadata(*waivers, wildcards=wildcards),
        RoleName=name.sub(),
        PermissionsBoundary=boundary_arn(names),
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
