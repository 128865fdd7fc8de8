"""What each API call needs, as offline/calls.py models it from the AWS pages it cites: the
actions and resources, and the KMS calls a service makes on the caller's behalf."""

from __future__ import annotations

from typing import Any

import pytest

from offline import calls
from offline.calls import Call, NotModelled
from offline.policy import Policy

ACCOUNT, REGION = "123456789012", "eu-west-1"
KEY = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/k-1"
KEY_POLICY = Policy("key policy", {"Statement": []})


class Resources(calls.State):
    """Plain data: one encrypted table, parameter, log group and bucket."""

    def table_key(self, region: str, table: str) -> str | None:
        return KEY if table == "things" else None

    def parameter_key(self, region: str, name: str) -> str | None:
        return "alias/things-parameters" if name == "/p/secret" else None

    def log_group_key(self, region: str, group: str) -> str | None:
        return KEY if group == "/aws/lambda/fn" else None

    def bucket_policy(self, bucket: str) -> Policy | None:
        return Policy("bucket policy", {"Statement": []})

    def bucket_key(self, bucket: str) -> tuple[str | None, bool]:
        return (KEY, bucket == "keyed")

    def object_key(self, bucket: str, key: str) -> str | None:
        return KEY

    def key(self, region: str, key_id: str) -> tuple[str, Policy, list[str]]:
        return KEY, KEY_POLICY, ["alias/things"]


def needs(service: str, operation: str, **params: Any) -> list[tuple[str, str]]:
    found = calls.checks(Call(service, operation, REGION, ACCOUNT, params), Resources())
    return [(c.action, c.resource) for c in found]


def key_checks(service: str, operation: str, **params: Any) -> list[calls.Check]:
    found = calls.checks(Call(service, operation, REGION, ACCOUNT, params), Resources())
    return [c for c in found if c.action.startswith("kms:")]


TABLE = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/things"


def test_a_transaction_needs_the_action_of_each_item() -> None:
    """transaction-apis-iam.html: TransactWriteItems is authorized per item."""
    found = needs(
        "dynamodb",
        "TransactWriteItems",
        TransactItems=[
            {"Put": {"TableName": "things", "Item": {}}},
            {"Delete": {"TableName": "other", "Key": {}}},
            {"ConditionCheck": {"TableName": "things", "Key": {}}},
        ],
    )
    assert found[:3] == [
        ("dynamodb:PutItem", TABLE),
        ("dynamodb:DeleteItem", TABLE.replace("things", "other")),
        ("dynamodb:ConditionCheckItem", TABLE),
    ]


def test_a_query_of_an_index_is_authorized_on_the_index() -> None:
    assert needs("dynamodb", "Query", TableName="things", IndexName="by-created")[0] == (
        "dynamodb:Query",
        f"{TABLE}/index/by-created",
    )
    assert needs("dynamodb", "Query", TableName="plain") == [
        ("dynamodb:Query", TABLE.replace("things", "plain"))
    ]


def test_dynamodb_decrypts_an_encrypted_tables_key_as_the_caller() -> None:
    """services-dynamodb.html: Decrypt of the table key, with the table and the account as
    encryption context; once per table of the request."""
    (check,) = key_checks(
        "dynamodb",
        "TransactWriteItems",
        TransactItems=[
            {"Put": {"TableName": "things", "Item": {}}},
            {"Update": {"TableName": "things", "Key": {}}},
        ],
    )
    assert (check.action, check.resource, check.resource_required) == ("kms:Decrypt", KEY, True)
    assert check.context["kms:ViaService"] == f"dynamodb.{REGION}.amazonaws.com"
    assert check.context["kms:EncryptionContext:aws:dynamodb:tableName"] == "things"
    assert check.context["kms:EncryptionContext:aws:dynamodb:subscriberId"] == ACCOUNT
    assert check.on_behalf_of == "dynamodb:TransactWriteItems"
    assert key_checks("dynamodb", "DescribeTable", TableName="things") == []  # no data


def test_a_secure_string_is_decrypted_through_ssm_with_its_arn_as_context() -> None:
    arn = f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter/p/secret"
    assert needs("ssm", "GetParameter", Name="/p/secret")[0] == ("ssm:GetParameter", arn)
    (check,) = key_checks("ssm", "GetParameter", Name="/p/secret", WithDecryption=True)
    assert check.context["kms:ViaService"] == f"ssm.{REGION}.amazonaws.com"
    assert check.context["kms:EncryptionContext:PARAMETER_ARN"] == arn
    assert check.context["kms:ResourceAliases"] == ["alias/things"]
    assert key_checks("ssm", "GetParameter", Name="/p/secret") == []  # not decrypted


def test_log_events_to_an_encrypted_group_need_a_data_key_through_logs() -> None:
    stream = "arn:aws:logs:eu-west-1:123456789012:log-group:/aws/lambda/fn:log-stream:s"
    params = {"logGroupName": "/aws/lambda/fn", "logStreamName": "s"}
    assert needs("logs", "PutLogEvents", **params)[0] == ("logs:PutLogEvents", stream)
    (check,) = key_checks("logs", "PutLogEvents", **params)
    assert check.action == "kms:GenerateDataKey"
    assert check.context["kms:EncryptionContext:aws:logs:arn"] == stream.split(":log-stream")[0]
    assert key_checks("logs", "CreateLogStream", **params) == []


@pytest.mark.parametrize(
    ("bucket", "context"), [("keyed", "arn:aws:s3:::keyed"), ("plain", "arn:aws:s3:::plain/a.png")]
)
def test_an_upload_generates_a_data_key_with_the_bucket_or_object_as_context(
    bucket: str, context: str
) -> None:
    """bucket-key.html: with S3 Bucket Keys the context is the bucket's ARN."""
    found = calls.checks(
        Call("s3", "PutObject", REGION, ACCOUNT, {"Bucket": bucket, "Key": "a.png"}), Resources()
    )
    assert found[0].action == "s3:PutObject" and found[0].resource_policy is not None
    assert found[1].action == "kms:GenerateDataKey"
    assert found[1].context["kms:EncryptionContext:aws:s3:arn"] == context


def test_get_caller_identity_needs_nothing_and_unknown_calls_are_not_guessed() -> None:
    assert needs("sts", "GetCallerIdentity") == []
    with pytest.raises(NotModelled):
        needs("sts", "AssumeRole")
    with pytest.raises(NotModelled):
        needs("sqs", "SendMessage")
    with pytest.raises(NotModelled):
        needs("s3", "PUT bucket ?policy", Bucket="b")
