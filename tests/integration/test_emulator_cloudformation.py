"""The emulator's CloudFormation against the AWS behaviour it models, one rule per test,
through the public API as any client calls it."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError, WaiterError

from offline.common.endpoint import Endpoint
from tests.templates import dynamodb_table, unique

pytestmark = pytest.mark.integration


def table(name: str, **extra: Any) -> dict[str, Any]:
    return {**dynamodb_table(name), "DeletionPolicy": "Retain", **extra}


@pytest.fixture
def client(emulator_url: str) -> Callable[[str], Any]:
    def make(service: str, region: str = "eu-central-1") -> Any:
        return Endpoint(emulator_url).client(service, region)

    return make


def run_change_set(cloudformation: Any, stack: str, kind: str, body: Any, **extra: Any) -> str:
    change_set = cloudformation.create_change_set(
        StackName=stack,
        ChangeSetName=unique("cs"),
        ChangeSetType=kind,
        TemplateBody=body if isinstance(body, str) else json.dumps(body),
        **extra,
    )
    described = cloudformation.describe_change_set(ChangeSetName=change_set["Id"])
    if described["Status"] == "CREATE_COMPLETE":
        cloudformation.execute_change_set(ChangeSetName=change_set["Id"])
    return str(described["Status"])


def status(cloudformation: Any, stack: str) -> str:
    return str(cloudformation.describe_stacks(StackName=stack)["Stacks"][0]["StackStatus"])


def test_the_sam_transform_runs_when_the_change_set_is_created(client: Callable) -> None:
    cloudformation = client("cloudformation")
    stack, name = unique("sam"), unique("simple")
    sam = (
        "Transform: AWS::Serverless-2016-10-31\n"
        "Resources:\n"
        "  Things:\n"
        "    Type: AWS::Serverless::SimpleTable\n"
        "    Properties:\n"
        f"      TableName: !Sub '{name}'\n"
    )
    run_change_set(cloudformation, stack, "CREATE", sam)
    assert status(cloudformation, stack) == "CREATE_COMPLETE"
    resources = cloudformation.list_stack_resources(StackName=stack)["StackResourceSummaries"]
    assert [(r["LogicalResourceId"], r["ResourceType"]) for r in resources] == [
        ("Things", "AWS::DynamoDB::Table")
    ]
    assert client("dynamodb").describe_table(TableName=name)["Table"]["TableName"] == name
    original = cloudformation.get_template(StackName=stack)["TemplateBody"]
    assert "AWS::Serverless::SimpleTable" in original  # as submitted, YAML text
    expanded = cloudformation.get_template(StackName=stack, TemplateStage="Processed")
    assert "Transform" not in expanded["TemplateBody"]


def test_a_template_uploaded_to_s3_is_read_from_the_emulators_s3(
    client: Callable, emulator_url: str
) -> None:
    """SAM CLI uploads templates to its bucket and passes a path-style URL on 127.0.0.1."""
    s3, bucket, stack = client("s3"), unique("templates"), unique("from-s3")
    s3.create_bucket(
        Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": "eu-central-1"}
    )
    body = {"Resources": {"Things": table(unique("t"))}}
    s3.put_object(Bucket=bucket, Key="stack.template", Body=json.dumps(body).encode())
    cloudformation = client("cloudformation")
    cloudformation.create_stack(
        StackName=stack, TemplateURL=f"{emulator_url}/{bucket}/stack.template"
    )
    assert status(cloudformation, stack) == "CREATE_COMPLETE"


def test_a_failed_create_rolls_back_with_its_reason(client: Callable) -> None:
    cloudformation, taken = client("cloudformation"), unique("taken")
    client("dynamodb").create_table(
        TableName=taken,
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
    )
    stack = unique("clash")
    run_change_set(cloudformation, stack, "CREATE", {"Resources": {"Things": table(taken)}})
    assert status(cloudformation, stack) == "ROLLBACK_COMPLETE"
    events = cloudformation.describe_stack_events(StackName=stack)["StackEvents"]
    reasons = [e.get("ResourceStatusReason", "") for e in events]
    assert any("ResourceInUse" in r or "already exists" in r for r in reasons), reasons
    with pytest.raises(WaiterError):
        cloudformation.get_waiter("stack_create_complete").wait(
            StackName=stack, WaiterConfig={"Delay": 1, "MaxAttempts": 2}
        )


def test_an_update_with_nothing_changed_is_refused_as_cloudformation_does(
    client: Callable,
) -> None:
    cloudformation, stack = client("cloudformation"), unique("same")
    body = {
        "Parameters": {"Label": {"Type": "String", "Default": "x"}},
        "Resources": {"Things": table(unique("t"))},
    }
    run_change_set(cloudformation, stack, "CREATE", body)
    # SAM CLI passes UsePreviousValue for each parameter it does not override.
    again = run_change_set(
        cloudformation,
        stack,
        "UPDATE",
        body,
        Parameters=[{"ParameterKey": "Label", "UsePreviousValue": True}],
    )
    assert again == "FAILED"
    summaries = cloudformation.list_change_sets(StackName=stack)["Summaries"]
    assert "didn't contain changes" in summaries[-1]["StatusReason"]
    changed = run_change_set(
        cloudformation,
        stack,
        "UPDATE",
        body,
        Parameters=[{"ParameterKey": "Label", "ParameterValue": "y"}],
    )
    assert changed == "CREATE_COMPLETE"


def test_an_import_adopts_existing_resources_with_their_data(client: Callable) -> None:
    cloudformation, dynamodb = client("cloudformation"), client("dynamodb")
    name, stack = unique("kept"), unique("adopter")
    dynamodb.create_table(
        TableName=name,
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
    )
    dynamodb.put_item(TableName=name, Item={"id": {"S": "kept"}})
    imports = [
        {
            "ResourceType": "AWS::DynamoDB::Table",
            "LogicalResourceId": "Things",
            "ResourceIdentifier": {"TableName": name},
        }
    ]
    body = {"Resources": {"Things": table(name)}}
    run_change_set(cloudformation, stack, "IMPORT", body, ResourcesToImport=imports)
    assert status(cloudformation, stack) == "IMPORT_COMPLETE"
    (resource,) = cloudformation.list_stack_resources(StackName=stack)["StackResourceSummaries"]
    assert resource["PhysicalResourceId"] == name
    assert dynamodb.get_item(TableName=name, Key={"id": {"S": "kept"}})["Item"]


@pytest.mark.parametrize(
    ("resources", "refusal"),
    [
        ({"Things": {"DeletionPolicy": None}}, "needs a DeletionPolicy"),
        ({"Extra": "table"}, "exactly the resources to import"),
    ],
    ids=["without-deletion-policy", "with-a-resource-not-imported"],
)
def test_an_import_follows_the_rules_aws_sets(
    client: Callable, resources: dict[str, Any], refusal: str
) -> None:
    cloudformation, name = client("cloudformation"), unique("rule")
    body: dict[str, Any] = {"Resources": {"Things": table(name)}}
    if resources.get("Things", {}).get("DeletionPolicy", "") is None:
        del body["Resources"]["Things"]["DeletionPolicy"]
    if "Extra" in resources:
        body["Resources"]["Extra"] = table(unique("extra"))
    imports = [
        {
            "ResourceType": "AWS::DynamoDB::Table",
            "LogicalResourceId": "Things",
            "ResourceIdentifier": {"TableName": name},
        }
    ]
    with pytest.raises(ClientError, match=refusal):
        run_change_set(cloudformation, unique("refused"), "IMPORT", body,
                       ResourcesToImport=imports)  # fmt: skip


def function_stack(version: str, description: str, code: dict[str, str]) -> dict[str, Any]:
    """A function with a published version and an alias on it, as SAM expands
    AutoPublishAlias: a new version resource each time the code or its key changes."""
    role = {
        "Type": "AWS::IAM::Role",
        "Properties": {
            "AssumeRolePolicyDocument": {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"Service": "lambda.amazonaws.com"},
                        "Action": "sts:AssumeRole",
                    }
                ],
            }
        },
    }
    function = {
        "Type": "AWS::Lambda::Function",
        "Properties": {
            "Runtime": "python3.12",
            "Handler": "index.handler",
            "Role": {"Fn::GetAtt": ["Role", "Arn"]},
            "Description": description,
            "Code": code,
        },
    }
    return {
        "Resources": {
            "Role": role,
            "Function": function,
            version: {
                "Type": "AWS::Lambda::Version",
                "DeletionPolicy": "Retain",
                "Properties": {"FunctionName": {"Ref": "Function"}},
            },
            "Live": {
                "Type": "AWS::Lambda::Alias",
                "Properties": {
                    "FunctionName": {"Ref": "Function"},
                    "FunctionVersion": {"Fn::GetAtt": [version, "Version"]},
                    "Name": "live",
                },
            },
        }
    }


def uploaded_code(s3: Any) -> dict[str, str]:
    """A handler zip in the emulator's S3, where `sam deploy` puts the built zips."""
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("index.py", "def handler(event, context):\n    return 1\n")
    bucket = unique("code")
    s3.create_bucket(
        Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": "eu-central-1"}
    )
    s3.put_object(Bucket=bucket, Key="function.zip", Body=archive.getvalue())
    return {"S3Bucket": bucket, "S3Key": "function.zip"}


def test_an_update_publishes_the_new_version_after_the_function_changes(
    client: Callable,
) -> None:
    """Dependency order: the function's new configuration, then the version that Refs it,
    then the alias on that version. moto's own order publishes before it updates."""
    cloudformation, stack = client("cloudformation"), unique("versions")
    code = uploaded_code(client("s3"))
    run_change_set(cloudformation, stack, "CREATE", function_stack("VersionA", "first", code))
    run_change_set(cloudformation, stack, "UPDATE", function_stack("VersionB", "second", code))
    assert status(cloudformation, stack) == "UPDATE_COMPLETE"
    lambda_ = client("lambda")
    name = cloudformation.describe_stack_resource(StackName=stack, LogicalResourceId="Function")[
        "StackResourceDetail"
    ]["PhysicalResourceId"]
    live = lambda_.get_alias(FunctionName=name, Name="live")["FunctionVersion"]
    assert live == "2"
    described = lambda_.get_function_configuration(FunctionName=name, Qualifier=live)
    assert described["Description"] == "second"
    # The version the template dropped is retained, as its DeletionPolicy says.
    versions = lambda_.list_versions_by_function(FunctionName=name)["Versions"]
    assert [v["Version"] for v in versions] == ["$LATEST", "1", "2"]


def test_every_resource_has_a_physical_id_and_a_permission_is_its_functions_statement(
    client: Callable,
) -> None:
    """DescribeStackResources names each resource by its physical id; a Lambda permission's is
    the Id of the statement CloudFormation added to the function's policy
    (https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-lambda-permission.html#aws-resource-lambda-permission-return-values)."""
    cloudformation, stack = client("cloudformation"), unique("permission")
    body = function_stack("Version", "first", uploaded_code(client("s3")))
    body["Resources"]["InvokedByApi"] = {
        "Type": "AWS::Lambda::Permission",
        "Properties": {
            "Action": "lambda:InvokeFunction",
            "FunctionName": {"Ref": "Live"},
            "Principal": "apigateway.amazonaws.com",
        },
    }
    body["Outputs"] = {"PermissionId": {"Value": {"Fn::GetAtt": ["InvokedByApi", "Id"]}}}
    run_change_set(cloudformation, stack, "CREATE", body)
    assert status(cloudformation, stack) == "CREATE_COMPLETE"
    resources = cloudformation.describe_stack_resources(StackName=stack)["StackResources"]
    unnamed = [r["LogicalResourceId"] for r in resources if not r.get("PhysicalResourceId")]
    assert unnamed == []
    (permission,) = [r for r in resources if r["ResourceType"] == "AWS::Lambda::Permission"]
    statement_id = permission["PhysicalResourceId"]
    assert statement_id.startswith(f"{stack}-InvokedByApi-")
    (function,) = [r for r in resources if r["ResourceType"] == "AWS::Lambda::Function"]
    policy = client("lambda").get_policy(
        FunctionName=function["PhysicalResourceId"], Qualifier="live"
    )
    sids = [s["Sid"] for s in json.loads(policy["Policy"])["Statement"]]
    assert statement_id in sids
    outputs = cloudformation.describe_stacks(StackName=stack)["Stacks"][0]["Outputs"]
    assert outputs == [{"OutputKey": "PermissionId", "OutputValue": statement_id}]


def test_a_removed_resource_is_deleted_unless_retained(client: Callable) -> None:
    cloudformation, dynamodb, stack = client("cloudformation"), client("dynamodb"), unique("drop")
    kept, dropped = unique("kept"), unique("dropped")
    body = {"Resources": {"Kept": table(kept), "Dropped": table(dropped, DeletionPolicy="Delete")}}
    run_change_set(cloudformation, stack, "CREATE", body)
    run_change_set(cloudformation, stack, "UPDATE", {"Resources": {"Other": table(unique("o"))}})
    assert status(cloudformation, stack) == "UPDATE_COMPLETE"
    assert dynamodb.describe_table(TableName=kept)["Table"]["TableName"] == kept
    with pytest.raises(ClientError, match="ResourceNotFound"):
        dynamodb.describe_table(TableName=dropped)


def test_a_resource_whose_condition_is_false_is_neither_made_nor_listed(
    client: Callable,
) -> None:
    cloudformation, stack = client("cloudformation"), unique("conditions")
    body: dict[str, Any] = {
        "Parameters": {"Email": {"Type": "String", "Default": ""}},
        "Conditions": {"HasEmail": {"Fn::Not": [{"Fn::Equals": [{"Ref": "Email"}, ""]}]}},
        "Resources": {
            "Topic": {"Type": "AWS::SNS::Topic"},
            "Subscription": {
                "Type": "AWS::SNS::Subscription",
                "Condition": "HasEmail",
                "Properties": {
                    "TopicArn": {"Ref": "Topic"},
                    "Protocol": "email",
                    "Endpoint": {"Ref": "Email"},
                },
            },
        },
    }
    run_change_set(cloudformation, stack, "CREATE", body)
    summaries = cloudformation.list_stack_resources(StackName=stack)["StackResourceSummaries"]
    assert [s["LogicalResourceId"] for s in summaries] == ["Topic"]
    # An update that touches it while its condition stays false leaves it uncreated.
    body["Resources"]["Subscription"]["Properties"]["Protocol"] = "email-json"
    run_change_set(cloudformation, stack, "UPDATE", body)
    assert status(cloudformation, stack) == "UPDATE_COMPLETE"
    topic = cloudformation.describe_stack_resource(StackName=stack, LogicalResourceId="Topic")
    arn = topic["StackResourceDetail"]["PhysicalResourceId"]
    assert client("sns").list_subscriptions_by_topic(TopicArn=arn)["Subscriptions"] == []


def test_a_stack_made_tables_encryption_is_described_as_the_api_describes_it(
    client: Callable,
) -> None:
    """CloudFormation's SSESpecification says SSEEnabled where the API says Enabled
    (https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-properties-dynamodb-table-ssespecification.html);
    the table is the same either way: DescribeTable gives its SSEDescription, with the key
    (https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_SSEDescription.html)."""
    cloudformation, stack, name = client("cloudformation"), unique("sse"), unique("encrypted")
    root = {"Fn::Sub": "arn:aws:iam::${AWS::AccountId}:root"}
    statement = {"Effect": "Allow", "Principal": {"AWS": root}, "Action": "kms:*", "Resource": "*"}
    key_policy = {"Version": "2012-10-17", "Statement": [statement]}
    things = table(name)
    things["Properties"]["SSESpecification"] = {
        "SSEEnabled": True,
        "SSEType": "KMS",
        "KMSMasterKeyId": {"Fn::GetAtt": ["Key", "Arn"]},
    }
    body = {
        "Resources": {
            "Key": {"Type": "AWS::KMS::Key", "Properties": {"KeyPolicy": key_policy}},
            "Things": things,
        },
        "Outputs": {"KeyArn": {"Value": {"Fn::GetAtt": ["Key", "Arn"]}}},
    }
    run_change_set(cloudformation, stack, "CREATE", body)
    assert status(cloudformation, stack) == "CREATE_COMPLETE"
    outputs = cloudformation.describe_stacks(StackName=stack)["Stacks"][0]["Outputs"]
    (key_arn,) = [o["OutputValue"] for o in outputs if o["OutputKey"] == "KeyArn"]
    described = client("dynamodb").describe_table(TableName=name)["Table"]
    assert described.get("SSEDescription") == {
        "Status": "ENABLED",
        "SSEType": "KMS",
        "KMSMasterKeyArn": key_arn,
    }


def iam_stack(document: dict[str, Any], inline: str, name: str) -> dict[str, Any]:
    trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
             "Principal": {"Service": "lambda.amazonaws.com"}}]}  # fmt: skip
    return {
        "Resources": {
            "Managed": {
                "Type": "AWS::IAM::ManagedPolicy",
                "Properties": {"ManagedPolicyName": f"{name}-managed", "PolicyDocument": document},
            },
            "Role": {
                "Type": "AWS::IAM::Role",
                "Properties": {
                    "RoleName": name,
                    "AssumeRolePolicyDocument": trust,
                    "ManagedPolicyArns": [{"Ref": "Managed"}],
                    "Policies": [{"PolicyName": inline, "PolicyDocument": document}],
                },
            },
        }
    }


def test_a_role_takes_its_managed_policies_and_an_update_changes_them(client: Callable) -> None:
    """aws-resource-iam-role.html: ManagedPolicyArns are attached, and a role's policies
    change in place; aws-resource-iam-managedpolicy.html: a changed document is a new default
    version of the same policy."""
    cloudformation, iam = client("cloudformation"), client("iam")
    stack, name = unique("iam"), unique("role")
    read = {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}
    first: dict[str, Any] = {"Version": "2012-10-17", "Statement": [read]}
    run_change_set(cloudformation, stack, "CREATE", iam_stack(first, "one", name))
    attached = iam.list_attached_role_policies(RoleName=name)["AttachedPolicies"]
    assert [p["PolicyName"] for p in attached] == [f"{name}-managed"]

    second = {**first, "Statement": [{**read, "Action": "s3:PutObject"}]}
    run_change_set(cloudformation, stack, "UPDATE", iam_stack(second, "two", name))
    arn = attached[0]["PolicyArn"]
    policy = iam.get_policy(PolicyArn=arn)["Policy"]
    version = iam.get_policy_version(PolicyArn=arn, VersionId=policy["DefaultVersionId"])
    assert version["PolicyVersion"]["Document"]["Statement"][0]["Action"] == "s3:PutObject"
    assert iam.list_role_policies(RoleName=name)["PolicyNames"] == ["two"]
