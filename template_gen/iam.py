"""Roles derived from relations.

A relation `(resource kind, access)` looks up its actions in one table (template_gen.grants);
the resources are the
exact ARNs of the related resource. Nothing else reaches a role except the baseline every
function needs: writing its own log group, and tracing. Every action here is one a handler
or the Lambda runtime calls; the local stack proves it (build/iam-report.md after
`make test`), and a grant no local run can reach says why it is kept.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from troposphere import GetAtt, Sub, Template

from template_gen.defaults import service_role
from template_gen.grants import (
    ACTIONS,
    KEY_ACTIONS,
    LOG_ACTIONS,
    LOG_KEY_ACTION,
    QUIET_FUNCTION,
    TRACE_ACTIONS,
    TRACE_UNEXERCISED,
)
from template_gen.model import (
    Bucket,
    Function,
    Relation,
    Resource,
    SecureParameter,
    Spec,
    Table,
)
from template_gen.naming import (
    STACK_KEY,
    Names,
    bucket_id,
    log_group_id,
    logical_id,
    role_id,
    table_id,
)


@dataclass(frozen=True)
class Statement:
    sid: str
    actions: tuple[str, ...]
    resources: tuple[Any, ...]
    condition: dict | None = None
    # Why no local test can exercise this grant (build/iam-report.md shows it); empty means
    # the tests must exercise every action of it.
    unexercised: str = ""

    def to_policy(self) -> dict:
        statement: dict = {
            "Sid": self.sid,
            "Effect": "Allow",
            "Action": sorted(self.actions),
            "Resource": list(self.resources),
        }
        if self.condition:
            statement["Condition"] = self.condition
        return statement


def via(service: str) -> Sub:
    return Sub(f"{service}.${{AWS::Region}}.amazonaws.com")


def parameter_arn(names: Names, parameter: SecureParameter) -> Sub:
    # Parameter names start with "/", which the ARN's "parameter" segment already ends with.
    return Sub(
        "arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:parameter"
        + names.parameter(parameter.name).pattern
    )


def log_group_arn(names: Names, function: Function) -> Sub:
    """The group's ARN as KMS sees it in the encryption context (no trailing `:*`)."""
    return Sub(
        "arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:"
        + names.function_log_group(function.name).pattern
    )


def relation_actions(resource: Resource, relation: Relation) -> tuple[str, ...]:
    row = ACTIONS[(type(resource), relation.access)]
    return tuple(a for a in row if a in relation.only) if relation.only else row


def relation_statement(spec: Spec, names: Names, relation: Relation) -> Statement:
    resource = spec.resource(relation.target)
    actions = relation_actions(resource, relation)
    sid = logical_id(relation.access.value, resource.name, type(resource).__name__, relation.index)
    if isinstance(resource, Table):
        logical = table_id(resource.name)
        resources: tuple[Any, ...] = (
            (Sub(f"${{{logical}.Arn}}/index/{relation.index}"),)
            if relation.index
            else (GetAtt(logical, "Arn"),)
        )
    elif isinstance(resource, Bucket):
        resources = (Sub(f"${{{bucket_id(resource.name)}.Arn}}/{relation.prefix}*"),)
    else:
        resources = (parameter_arn(names, resource),)
    return Statement(sid, actions, resources)


def key_statements(spec: Spec, names: Names, function: Function) -> list[Statement]:
    """Key use through each service, pinned by the encryption context to exactly the
    tables, buckets and parameters the function relates to."""
    # Each action of grants.KEY_ACTIONS -> the tables (buckets) whose relations need it.
    tables: dict[str, set[str]] = {}
    buckets: dict[str, set[str]] = {}
    statements: list[Statement] = []
    for relation in function.relations:
        resource = spec.resource(relation.target)
        if isinstance(resource, Table):
            action = KEY_ACTIONS[(Table, relation.access)]
            tables.setdefault(action, set()).add(resource.name)
        elif isinstance(resource, Bucket):
            action = KEY_ACTIONS[(Bucket, relation.access)]
            buckets.setdefault(action, set()).add(resource.name)
    for action, table_names in sorted(tables.items()):
        statements.append(
            Statement(
                logical_id(action.split(":")[1], "tables via dynamodb"),
                (action,),
                (GetAtt(STACK_KEY, "Arn"),),
                {
                    "StringEquals": {
                        "kms:ViaService": via("dynamodb"),
                        "kms:EncryptionContext:aws:dynamodb:tableName": [
                            names.table(name).sub() for name in sorted(table_names)
                        ],
                    }
                },
            )
        )
    for action, names_of in sorted(buckets.items()):
        statements.append(
            Statement(
                logical_id(action.split(":")[1], "via s3"),
                (action,),
                (GetAtt(STACK_KEY, "Arn"),),
                {
                    # With S3 Bucket Keys the context is the bucket's ARN
                    # (https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucket-key.html).
                    "StringEquals": {"kms:ViaService": via("s3")},
                    "ArnEquals": {
                        "kms:EncryptionContext:aws:s3:arn": [
                            GetAtt(bucket_id(name), "Arn") for name in sorted(names_of)
                        ]
                    },
                },
            )
        )
    # SecureStrings use the parameters key `make params` creates, outside the stack: the
    # alias names it, and the context pins the exact parameter.
    for relation in function.relations:
        resource = spec.resource(relation.target)
        if isinstance(resource, SecureParameter):
            action = KEY_ACTIONS[(SecureParameter, relation.access)]
            statements.append(
                Statement(
                    logical_id(action.split(":")[1], resource.name, "via ssm"),
                    (action,),
                    (Sub("arn:${AWS::Partition}:kms:${AWS::Region}:${AWS::AccountId}:key/*"),),
                    {
                        "StringEquals": {
                            "kms:ViaService": via("ssm"),
                            "kms:EncryptionContext:PARAMETER_ARN": parameter_arn(names, resource),
                        },
                        "ForAnyValue:StringEquals": {
                            "kms:ResourceAliases": names.parameters_key_alias().sub()
                        },
                    },
                )
            )
    return statements


def baseline_statements(names: Names, function: Function) -> list[Statement]:
    """What the Lambda runtime does as the role: write the function's logs, and its traces.
    The environment is decrypted by Lambda through a grant, not by the role
    (https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars.html)."""
    return [
        Statement(
            "WriteOwnLogGroup",
            LOG_ACTIONS,
            (GetAtt(log_group_id(function.name), "Arn"),),
            unexercised=QUIET_FUNCTION,
        ),
        Statement(
            "EncryptOwnLogsViaLogs",
            (LOG_KEY_ACTION,),
            (GetAtt(STACK_KEY, "Arn"),),
            {
                "StringEquals": {"kms:ViaService": via("logs")},
                "ArnEquals": {"kms:EncryptionContext:aws:logs:arn": log_group_arn(names, function)},
            },
            unexercised=QUIET_FUNCTION,
        ),
        Statement("Tracing", TRACE_ACTIONS, ("*",), unexercised=TRACE_UNEXERCISED),
    ]


def function_statements(spec: Spec, names: Names, function: Function) -> list[Statement]:
    return [
        *baseline_statements(names, function),
        *(relation_statement(spec, names, r) for r in function.relations),
        *key_statements(spec, names, function),
    ]


def add_roles(template: Template, spec: Spec, names: Names) -> None:
    for function in spec.functions:
        statements = function_statements(spec, names, function)
        template.add_resource(
            service_role(
                role_id(function.name),
                names,
                names.role(function.name),
                Sub(f"Least-privilege role of {names.function(function.name).pattern}"),
                "lambda.amazonaws.com",
                f"{function.name}-least-privilege",
                [s.to_policy() for s in statements],
            )
        )
