"""Roles derived from relations.

A relation `(resource kind, access)` looks up its actions in one table; the resources are the
exact ARNs of the related resource. Nothing else reaches a role except the baseline every
function needs (its own log group, X-Ray, its encrypted environment).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from troposphere import GetAtt, Sub, Template

from template_gen.defaults import service_role
from template_gen.model import Access, Bucket, Function, Relation, SecureParameter, Spec, Table
from template_gen.naming import (
    STACK_KEY,
    Names,
    bucket_id,
    log_group_id,
    logical_id,
    role_id,
    table_id,
)

ACTIONS: dict[tuple[type, Access], tuple[str, ...]] = {
    (Table, Access.READ): (
        "dynamodb:BatchGetItem",
        "dynamodb:ConditionCheckItem",
        "dynamodb:GetItem",
        "dynamodb:Query",
    ),
    (Table, Access.WRITE): (
        "dynamodb:BatchWriteItem",
        "dynamodb:DeleteItem",
        "dynamodb:PutItem",
        "dynamodb:UpdateItem",
    ),
    (Bucket, Access.READ): ("s3:GetObject",),
    (Bucket, Access.WRITE): ("s3:PutObject",),
    (SecureParameter, Access.READ): ("ssm:GetParameter",),
}

# What the stack key must allow for the same relation, and through which service.
KEY_ACTIONS: dict[tuple[type, Access], tuple[str, ...]] = {
    (Table, Access.READ): ("kms:Decrypt", "kms:DescribeKey"),
    (Table, Access.WRITE): ("kms:Decrypt", "kms:DescribeKey", "kms:Encrypt", "kms:GenerateDataKey"),
    (Bucket, Access.READ): ("kms:Decrypt",),
    (Bucket, Access.WRITE): ("kms:GenerateDataKey",),
}
KEY_SERVICE: dict[type, str] = {Table: "dynamodb", Bucket: "s3"}

LOG_ACTIONS = ("logs:CreateLogStream", "logs:PutLogEvents")
# X-Ray has no resource-level permissions: "*" is the narrowest resource AWS offers.
TRACE_ACTIONS = ("xray:PutTelemetryRecords", "xray:PutTraceSegments")


@dataclass(frozen=True)
class Statement:
    sid: str
    actions: tuple[str, ...]
    resources: tuple[Any, ...]
    condition: dict | None = None

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


def via(service: str) -> dict:
    return {"StringEquals": {"kms:ViaService": Sub(f"{service}.${{AWS::Region}}.amazonaws.com")}}


def parameter_arn(names: Names, parameter: SecureParameter) -> Sub:
    # Parameter names start with "/", which the ARN's "parameter" segment already ends with.
    return Sub(
        "arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:parameter"
        + names.parameter(parameter.name).pattern
    )


def relation_statement(spec: Spec, names: Names, relation: Relation) -> Statement:
    resource = spec.resource(relation.target)
    actions = ACTIONS[(type(resource), relation.access)]
    sid = logical_id(relation.access.value, resource.name, type(resource).__name__)
    if isinstance(resource, Table):
        arn = GetAtt(table_id(resource.name), "Arn")
        resources: tuple[Any, ...] = (arn,)
        if relation.access is Access.READ and resource.indexes:
            resources += (Sub(f"${{{table_id(resource.name)}.Arn}}/index/*"),)
    elif isinstance(resource, Bucket):
        resources = (Sub(f"${{{bucket_id(resource.name)}.Arn}}/{relation.prefix}*"),)
    else:
        resources = (parameter_arn(names, resource),)
    return Statement(sid, actions, resources)


def key_statements(spec: Spec, names: Names, function: Function) -> list[Statement]:
    by_service: dict[str, set[str]] = {}
    for relation in function.relations:
        resource = spec.resource(relation.target)
        key = (type(resource), relation.access)
        if key in KEY_ACTIONS:
            by_service.setdefault(KEY_SERVICE[type(resource)], set()).update(KEY_ACTIONS[key])
    statements = [
        Statement(
            logical_id("use stack key via", service),
            tuple(sorted(actions)),
            (GetAtt(STACK_KEY, "Arn"),),
            via(service),
        )
        for service, actions in sorted(by_service.items())
    ]
    # SecureStrings use the account's SSM key, created before the stack exists. SSM decrypts
    # only a parameter the role may read, and the context pins the exact parameter.
    for relation in function.relations:
        resource = spec.resource(relation.target)
        if isinstance(resource, SecureParameter):
            condition = via("ssm")
            condition["StringEquals"]["kms:EncryptionContext:PARAMETER_ARN"] = parameter_arn(
                names, resource
            )
            statements.append(
                Statement(
                    logical_id("decrypt", resource.name, "via ssm"),
                    ("kms:Decrypt",),
                    (Sub("arn:${AWS::Partition}:kms:${AWS::Region}:${AWS::AccountId}:key/*"),),
                    condition,
                )
            )
    return statements


def baseline_statements(function: Function) -> list[Statement]:
    return [
        Statement("WriteOwnLogGroup", LOG_ACTIONS, (GetAtt(log_group_id(function.name), "Arn"),)),
        Statement("Tracing", TRACE_ACTIONS, ("*",)),
        Statement(
            "DecryptOwnEnvironment", ("kms:Decrypt",), (GetAtt(STACK_KEY, "Arn"),), via("lambda")
        ),
    ]


def function_statements(spec: Spec, names: Names, function: Function) -> list[Statement]:
    return [
        *baseline_statements(function),
        *(relation_statement(spec, names, r) for r in function.relations),
        *key_statements(spec, names, function),
    ]


def add_roles(template: Template, spec: Spec, names: Names) -> None:
    for function in spec.functions:
        statements = function_statements(spec, names, function)
        template.add_resource(
            service_role(
                role_id(function.name),
                names.role(function.name),
                Sub(f"Least-privilege role of {names.function(function.name).pattern}"),
                "lambda.amazonaws.com",
                f"{function.name}-least-privilege",
                [s.to_policy() for s in statements],
            )
        )
