"""The emulator's CloudFormation acts as the stack's service role, or as its caller, for every
resource operation (https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/using-iam-servicerole.html);
the role's policy is built with template_gen.deploy_permissions.needs, so the test proves the
policy the bootstrap renders and the check the emulator makes agree."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from offline.common.endpoint import ACCOUNT, Endpoint
from offline.common.ports import free_ports
from offline.iam.audit import AUDIT_DIRECTORY, EXPECTED_DENIALS
from offline.stack.emulator_process import EmulatorProcess
from template_gen.deploy_permissions import Place, Resource, needs
from tests.templates import dynamodb_table, trust_policy, unique

pytestmark = pytest.mark.integration
REGION = "eu-central-1"
TRUST = trust_policy("cloudformation")
LAMBDA_TRUST = trust_policy("lambda")
OPERATIONS = ("create", "read", "update", "delete")


@pytest.fixture(scope="module")
def audit(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("audit")


@pytest.fixture(scope="module")
def emulator_url(audit: Path) -> Iterator[str]:
    """An emulator of this module's own, whose audit log the tests read."""
    settings = {AUDIT_DIRECTORY: str(audit), EXPECTED_DENIALS: "1"}
    emulator = EmulatorProcess(free_ports(1)[0], environment=settings)
    endpoint = emulator.start()
    try:
        yield endpoint.url
    finally:
        emulator.stop()


@pytest.fixture
def admin(emulator_url: str) -> Callable[[str], Any]:
    return lambda service: Endpoint(emulator_url).client(service, REGION)


def function_role(name: str) -> dict[str, Any]:
    return {
        "Type": "AWS::IAM::Role",
        "Properties": {"RoleName": name, "AssumeRolePolicyDocument": LAMBDA_TRUST},
    }


def function(name: str, role: str) -> dict[str, Any]:
    return {
        "Type": "AWS::Lambda::Function",
        "Properties": {
            "FunctionName": name,
            "Runtime": "python3.12",
            "Handler": "index.handler",
            "Role": {"Fn::GetAtt": [role, "Arn"]},
            "Code": {"ZipFile": "def handler(event, context):\n    return 1\n"},
        },
    }


def grants(resources: dict[str, Any]) -> list[dict[str, Any]]:
    """The statements the execution role needs for `resources`, from deploy_permissions.needs,
    on concrete ARNs (every resource here is named, and a GetAtt of a role is its ARN)."""
    statements: list[dict[str, Any]] = []
    for resource in resources.values():
        properties = dict(resource["Properties"])
        if isinstance(properties.get("Role"), dict):
            role = resources[properties["Role"]["Fn::GetAtt"][0]]["Properties"]["RoleName"]
            properties["Role"] = f"arn:aws:iam::{ACCOUNT}:role/{role}"
        for operation in OPERATIONS:
            found, _ = needs(
                Resource(resource["Type"], properties), operation, Place.concrete(REGION, ACCOUNT)
            )
            for need in found:
                statement: dict[str, Any] = {
                    "Effect": "Allow", "Action": need.action, "Resource": need.resource,
                }  # fmt: skip
                if need.context:
                    statement["Condition"] = {"StringEquals": dict(need.context)}
                statements.append(statement)
    return statements


def execution_role(admin: Callable[[str], Any], statements: list[dict[str, Any]]) -> str:
    iam, name = admin("iam"), unique("cfn-exec")
    iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(TRUST))
    document = {"Version": "2012-10-17", "Statement": statements}
    iam.put_role_policy(RoleName=name, PolicyName="deploy", PolicyDocument=json.dumps(document))
    return f"arn:aws:iam::{ACCOUNT}:role/{name}"


def run_change_set(cloudformation: Any, stack: str, kind: str, body: Any, **extra: Any) -> None:
    change_set = cloudformation.create_change_set(
        StackName=stack, ChangeSetName=unique("cs"), ChangeSetType=kind,
        TemplateBody=json.dumps(body), **extra,
    )  # fmt: skip
    described = cloudformation.describe_change_set(ChangeSetName=change_set["Id"])
    assert described["Status"] == "CREATE_COMPLETE", described
    cloudformation.execute_change_set(ChangeSetName=change_set["Id"])


def status(cloudformation: Any, stack: str) -> str:
    return str(cloudformation.describe_stacks(StackName=stack)["Stacks"][0]["StackStatus"])


def events(cloudformation: Any, stack: str) -> list[dict[str, Any]]:
    return list(cloudformation.describe_stack_events(StackName=stack)["StackEvents"])


def decisions(audit: Path, role: str) -> list[dict[str, Any]]:
    lines = [json.loads(line) for f in audit.glob("*.jsonl") for line in f.read_text().splitlines()]
    return [line for line in lines if line.get("role") == role]


def small_template(names: dict[str, str]) -> dict[str, Any]:
    return {
        "Resources": {
            "Table": dynamodb_table(names["table"]),
            "FunctionRole": function_role(names["role"]),
            "Function": function(names["function"], "FunctionRole"),
        }
    }


def names() -> dict[str, str]:
    return {"table": unique("t"), "role": unique("fn-role"), "function": unique("fn")}


def test_a_stack_with_a_role_allowed_what_it_needs_is_created_and_deleted_as_that_role(
    admin: Callable[[str], Any], audit: Path
) -> None:
    named = names()
    template = small_template(named)
    role_arn = execution_role(admin, grants(template["Resources"]))
    role = role_arn.rsplit("/", 1)[-1]
    cloudformation, stack = admin("cloudformation"), unique("stack")
    run_change_set(cloudformation, stack, "CREATE", template, RoleARN=role_arn)
    assert status(cloudformation, stack) == "CREATE_COMPLETE", events(cloudformation, stack)
    made = decisions(audit, role)
    assert {"dynamodb:CreateTable", "iam:CreateRole", "lambda:CreateFunction"} <= {
        d["action"] for d in made
    }
    assert all(d["allowed"] for d in made)
    assert {d["caller"] for d in made} == {
        f"arn:aws:sts::{ACCOUNT}:assumed-role/{role}/AWSCloudFormation"
    }
    # DeleteStack names no role: the stack keeps the one it was created with.
    cloudformation.delete_stack(StackName=stack)
    deleted = {d["action"] for d in decisions(audit, role)[len(made) :]}
    assert {"dynamodb:DeleteTable", "iam:DeleteRole", "lambda:DeleteFunction"} <= deleted
    assert named["table"] not in admin("dynamodb").list_tables()["TableNames"]


def test_a_role_without_create_table_fails_the_table_and_rolls_the_stack_back(
    admin: Callable[[str], Any],
) -> None:
    named = names()
    template = small_template(named)
    statements = [s for s in grants(template["Resources"]) if s["Action"] != "dynamodb:CreateTable"]
    role_arn = execution_role(admin, statements)
    role = role_arn.rsplit("/", 1)[-1]
    cloudformation, stack = admin("cloudformation"), unique("stack")
    run_change_set(cloudformation, stack, "CREATE", template, RoleARN=role_arn)
    assert status(cloudformation, stack) == "ROLLBACK_COMPLETE"
    failed = [e for e in events(cloudformation, stack) if e["ResourceStatus"] == "CREATE_FAILED"]
    assert [e["LogicalResourceId"] for e in failed] == ["Table"]
    table_arn = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{named['table']}"
    reason = failed[0]["ResourceStatusReason"]
    assert reason.startswith(
        f'Resource handler returned message: "User: arn:aws:sts::{ACCOUNT}:assumed-role/{role}'
        f"/AWSCloudFormation is not authorized to perform: dynamodb:CreateTable on resource: "
        f"{table_arn} because no identity-based policy allows the dynamodb:CreateTable action"
        " (Service: DynamoDb, Status Code: 400, Request ID: "
    ), reason
    assert reason.endswith("HandlerErrorCode: AccessDenied)")
    # Nothing is left: what was made before the table was deleted in the rollback.
    assert named["table"] not in admin("dynamodb").list_tables()["TableNames"]
    functions = admin("lambda").list_functions()["Functions"]
    assert named["function"] not in {f["FunctionName"] for f in functions}
    roles = admin("iam").list_roles()["Roles"]
    assert named["role"] not in {r["RoleName"] for r in roles}


def test_an_update_whose_new_resource_is_refused_rolls_back(
    admin: Callable[[str], Any],
) -> None:
    first, second = unique("t"), unique("t")
    template = {"Resources": {"Table": dynamodb_table(first)}}
    role_arn = execution_role(admin, grants(template["Resources"]))
    cloudformation, stack = admin("cloudformation"), unique("stack")
    run_change_set(cloudformation, stack, "CREATE", template, RoleARN=role_arn)
    assert status(cloudformation, stack) == "CREATE_COMPLETE"
    updated = {"Resources": {"Table": dynamodb_table(first), "Second": dynamodb_table(second)}}
    run_change_set(cloudformation, stack, "UPDATE", updated)  # keeps the stack's role
    assert status(cloudformation, stack) == "UPDATE_ROLLBACK_COMPLETE"
    failed = [e for e in events(cloudformation, stack) if e["ResourceStatus"] == "CREATE_FAILED"]
    assert [e["LogicalResourceId"] for e in failed] == ["Second"]
    assert "dynamodb:CreateTable" in failed[0]["ResourceStatusReason"]
    tables = admin("dynamodb").list_tables()["TableNames"]
    assert first in tables and second not in tables
    listed = cloudformation.list_stack_resources(StackName=stack)["StackResourceSummaries"]
    assert [r["LogicalResourceId"] for r in listed] == ["Table"]


def test_a_delete_the_remembered_role_may_not_make_fails(
    admin: Callable[[str], Any],
) -> None:
    name = unique("t")
    template = {"Resources": {"Table": dynamodb_table(name)}}
    creates = [s for s in grants(template["Resources"]) if s["Action"] != "dynamodb:DeleteTable"]
    role_arn = execution_role(admin, creates)
    cloudformation, stack = admin("cloudformation"), unique("stack")
    run_change_set(cloudformation, stack, "CREATE", template, RoleARN=role_arn)
    assert status(cloudformation, stack) == "CREATE_COMPLETE"
    cloudformation.delete_stack(StackName=stack)
    assert status(cloudformation, stack) == "DELETE_FAILED"
    assert name in admin("dynamodb").list_tables()["TableNames"]


def test_a_stack_without_a_role_acts_as_the_calling_session(
    admin: Callable[[str], Any], emulator_url: str, audit: Path
) -> None:
    name = unique("t")
    template = {"Resources": {"Table": dynamodb_table(name)}}
    deploying = [
        {"Effect": "Allow", "Action": "cloudformation:*", "Resource": "*"},
        *[s for s in grants(template["Resources"]) if s["Action"] != "dynamodb:CreateTable"],
    ]
    iam, role = admin("iam"), unique("deployer")
    iam.create_role(RoleName=role, AssumeRolePolicyDocument=json.dumps(LAMBDA_TRUST))
    document = {"Version": "2012-10-17", "Statement": deploying}
    iam.put_role_policy(RoleName=role, PolicyName="p", PolicyDocument=json.dumps(document))
    session = admin("sts").assume_role(
        RoleArn=f"arn:aws:iam::{ACCOUNT}:role/{role}", RoleSessionName="deployer"
    )["Credentials"]
    cloudformation = Endpoint(emulator_url).client("cloudformation", REGION, session=session)
    stack = unique("stack")
    run_change_set(cloudformation, stack, "CREATE", template)
    assert status(cloudformation, stack) == "ROLLBACK_COMPLETE"
    failed = [e for e in events(cloudformation, stack) if e["ResourceStatus"] == "CREATE_FAILED"]
    assert (
        f"assumed-role/{role}/deployer is not authorized to perform: dynamodb:CreateTable"
        in (failed[0]["ResourceStatusReason"])
    )
    refused = [d for d in decisions(audit, role) if d["action"] == "dynamodb:CreateTable"]
    assert refused and not refused[0]["allowed"]


def import_change_set(
    admin: Callable[[str], Any], statements: list[dict[str, Any]]
) -> tuple[Any, str, str, str]:
    """An existing table, imported as a role allowed `statements`, its name given by a
    parameter of the import template (resolved from the change set, not the new stack)."""
    prefix = unique("p")
    admin("dynamodb").create_table(**dynamodb_table(f"{prefix}-kept")["Properties"])
    named = {**dynamodb_table(f"{prefix}-kept"), "DeletionPolicy": "Retain"}
    named["Properties"] = {**named["Properties"], "TableName": {"Fn::Sub": "${Prefix}-kept"}}
    body = {"Parameters": {"Prefix": {"Type": "String"}}, "Resources": {"Kept": named}}
    cloudformation, stack = admin("cloudformation"), unique("adopter")
    role_arn = execution_role(admin, statements)
    imports = [{"ResourceType": "AWS::DynamoDB::Table", "LogicalResourceId": "Kept",
                "ResourceIdentifier": {"TableName": f"{prefix}-kept"}}]  # fmt: skip
    run_change_set(
        cloudformation, stack, "IMPORT", body, ResourcesToImport=imports,
        Parameters=[{"ParameterKey": "Prefix", "ParameterValue": prefix}],
        RoleARN=role_arn,
    )  # fmt: skip
    return cloudformation, stack, f"{prefix}-kept", role_arn.rsplit("/", 1)[-1]


def test_an_import_reads_each_resource_as_the_role_on_its_resolved_name(
    admin: Callable[[str], Any], audit: Path
) -> None:
    needed = grants({"Kept": dynamodb_table("*")})
    cloudformation, stack, name, role = import_change_set(admin, needed)
    assert status(cloudformation, stack) == "IMPORT_COMPLETE", events(cloudformation, stack)
    (resource,) = cloudformation.list_stack_resources(StackName=stack)["StackResourceSummaries"]
    assert resource["PhysicalResourceId"] == name
    read = decisions(audit, role)
    assert "dynamodb:DescribeTable" in {d["action"] for d in read}
    assert all(d["allowed"] for d in read)


def test_an_import_the_role_may_not_read_rolls_back_and_keeps_the_resource(
    admin: Callable[[str], Any],
) -> None:
    needed = grants({"Kept": dynamodb_table("*")})
    cloudformation, stack, name, _ = import_change_set(
        admin, [s for s in needed if s["Action"] != "dynamodb:DescribeTable"]
    )
    assert status(cloudformation, stack) == "IMPORT_ROLLBACK_COMPLETE"
    failed = [e for e in events(cloudformation, stack) if e["ResourceStatus"] == "IMPORT_FAILED"]
    assert [e["LogicalResourceId"] for e in failed] == ["Kept"]
    table_arn = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{name}"
    assert f"dynamodb:DescribeTable on resource: {table_arn}" in failed[0]["ResourceStatusReason"]
    assert name in admin("dynamodb").list_tables()["TableNames"]
