"""CloudFormation's resource operations authorized as the stack's service role, and a role
session limited by its role's permissions boundary, with moto in this process."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from moto import mock_aws

from aws_semantics.policy import Decision
from offline.cloudformation import engine as cloudformation
from offline.cloudformation import stack_role
from offline.common.endpoint import ACCOUNT
from offline.enforcement.gate import Enforcement
from offline.iam import callers
from offline.iam.audit import Audit
from offline.iam.calls import Check
from offline.iam.request_context import Arrival
from tests.templates import dynamodb_table, trust_policy, unique

REGION = "us-east-1"
TRUST = trust_policy("cloudformation")
# Stacks and tables get unique() names: a session fixture of tests/handlers may hold mock_aws
# open in this worker, so moto's state is not reset between these tests.


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for key, value in {
        "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": REGION,
    }.items():  # fmt: skip
        monkeypatch.setenv(key, value)
    with mock_aws():
        cloudformation.install()
        yield


def role(statements: list[dict[str, Any]], boundary: str | None = None) -> str:
    iam: Any = boto3.client("iam")
    name = f"r-{uuid.uuid4().hex[:8]}"
    extra = {"PermissionsBoundary": boundary} if boundary else {}
    iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(TRUST), **extra)
    document = {"Version": "2012-10-17", "Statement": statements}
    iam.put_role_policy(RoleName=name, PolicyName="p", PolicyDocument=json.dumps(document))
    return f"arn:aws:iam::{ACCOUNT}:role/{name}"


def managed(*statements: dict[str, Any]) -> str:
    document = {"Version": "2012-10-17", "Statement": list(statements)}
    created = boto3.client("iam").create_policy(
        PolicyName=f"b-{uuid.uuid4().hex[:8]}", PolicyDocument=json.dumps(document)
    )
    return str(created["Policy"]["Arn"])


def allow(action: str, resource: str = "*") -> dict[str, Any]:
    return {"Effect": "Allow", "Action": action, "Resource": resource}


TABLE_ARN = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/orders"  # checked, never created


def decide(caller: callers.Caller, action: str, resource: str) -> Decision:
    enforcement = Enforcement(lambda *a: [], Audit(None))
    arrival = Arrival(datetime.now(UTC), REGION, "127.0.0.1")
    from offline.iam import request_context

    context = request_context.complete(action, resource, {}, caller.requester, arrival)
    return enforcement.decide_one(caller, caller.requester, Check(action, resource), context)


def test_a_role_session_is_allowed_only_what_its_boundary_allows_too(aws: None) -> None:
    boundary = managed(allow("dynamodb:GetItem"))
    arn = role([allow("dynamodb:*")], boundary=boundary)
    caller = callers.service_session(arn, "s")
    assert decide(caller, "dynamodb:GetItem", TABLE_ARN).allowed
    refused = decide(caller, "dynamodb:DeleteTable", TABLE_ARN)
    assert not refused.allowed
    assert refused.message().endswith(
        "because no permissions boundary allows the dynamodb:DeleteTable action"
    )


def test_a_deny_in_the_boundary_denies_what_identity_policies_allow(aws: None) -> None:
    deny = {"Effect": "Deny", "Action": "dynamodb:GetItem", "Resource": "*"}
    arn = role([allow("dynamodb:*")], boundary=managed(allow("*"), deny))
    refused = decide(callers.service_session(arn, "s"), "dynamodb:GetItem", TABLE_ARN)
    assert refused.explicitly_denied
    assert "with an explicit deny in a permissions boundary" in refused.message()


def test_a_boundary_grants_nothing_by_itself(aws: None) -> None:
    arn = role([allow("dynamodb:GetItem")], boundary=managed(allow("*")))
    assert not decide(callers.service_session(arn, "s"), "dynamodb:PutItem", TABLE_ARN).allowed


def table_arn(name: str) -> str:
    return f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{name}"


def create(role_arn: str, stack: str, name: str) -> Any:
    client = boto3.client("cloudformation")
    made = client.create_change_set(
        StackName=stack, ChangeSetName="c", ChangeSetType="CREATE", RoleARN=role_arn,
        TemplateBody=json.dumps({"Resources": {"Table": dynamodb_table(name)}}),
    )  # fmt: skip
    client.execute_change_set(ChangeSetName=made["Id"])
    return client


def status(client: Any, stack: str) -> str:
    return str(client.describe_stacks(StackName=stack)["Stacks"][0]["StackStatus"])


def tables() -> list[str]:
    return list(boto3.client("dynamodb").list_tables()["TableNames"])


def test_a_stack_role_without_create_table_fails_the_table_as_cloudformation_reports_it(
    aws: None,
) -> None:
    arn = role([allow("dynamodb:DescribeTable")])
    stack, name = unique("s"), unique("orders")
    client = create(arn, stack, name)
    assert status(client, stack) == "ROLLBACK_COMPLETE"
    events = client.describe_stack_events(StackName=stack)["StackEvents"]
    failed = [e for e in events if e["ResourceStatus"] == "CREATE_FAILED"]
    role_name = arn.rsplit("/", 1)[-1]
    assert failed[0]["ResourceStatusReason"].startswith(
        f'Resource handler returned message: "User: arn:aws:sts::{ACCOUNT}:assumed-role/'
        f"{role_name}/AWSCloudFormation is not authorized to perform: dynamodb:CreateTable on "
        f"resource: {table_arn(name)} because no identity-based policy allows the "
        "dynamodb:CreateTable action"
    )
    assert name not in tables()


def test_a_stack_role_allowed_everything_creates_and_deletes_as_that_role(aws: None) -> None:
    arn = role([allow("*")])
    stack, name = unique("s"), unique("orders")
    client = create(arn, stack, name)
    assert status(client, stack) == "CREATE_COMPLETE"
    assert stack_role.role_of(client.describe_stacks(StackName=stack)["Stacks"][0]["StackId"])
    boto3.client("iam").delete_role_policy(RoleName=arn.rsplit("/", 1)[-1], PolicyName="p")
    client.delete_stack(StackName=stack)  # the remembered role may no longer delete the table
    assert status(client, stack) == "DELETE_FAILED"
    assert name in tables()


def test_without_a_role_or_a_caller_nothing_is_checked(aws: None) -> None:
    """An in-process call (no request being served) acts as nobody the emulator checks."""
    properties = dynamodb_table(unique("orders"))["Properties"]
    assert stack_role.check("T", "AWS::DynamoDB::Table", properties, None, "create",
                            REGION, ACCOUNT) == frozenset()  # fmt: skip


def test_create_stack_and_update_stack_act_as_the_role_and_roll_back_a_refusal(aws: None) -> None:
    name, other = unique("orders"), unique("other")
    # The table handler lists kms:ListAliases and logs:DescribeLogGroups, which take no resource.
    arn = role([allow("dynamodb:*", table_arn(name)), allow("kms:ListAliases"),
                allow("logs:Describe*")])  # fmt: skip
    client, stack, refused = boto3.client("cloudformation"), unique("s"), unique("t")
    body = {"Resources": {"Table": dynamodb_table(name)}}
    client.create_stack(StackName=stack, RoleARN=arn, TemplateBody=json.dumps(body))
    assert status(client, stack) == "CREATE_COMPLETE"
    body["Resources"]["Second"] = dynamodb_table(other)
    client.update_stack(StackName=stack, TemplateBody=json.dumps(body))  # keeps the role
    assert status(client, stack) == "UPDATE_ROLLBACK_COMPLETE"
    assert other not in tables()
    client.create_stack(StackName=refused, RoleARN=arn, TemplateBody=json.dumps({"Resources": {
        "Other": dynamodb_table(other)}}))  # fmt: skip
    assert status(client, refused) == "ROLLBACK_COMPLETE"
