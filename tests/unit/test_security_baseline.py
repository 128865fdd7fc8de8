"""The security baseline (docs/security.md, "Security baseline, as rendered"), row by row,
on the rendered template."""

from __future__ import annotations

import re
from typing import Any

import pytest

from template_gen.naming import table_id
from template_gen.parameters import ORIGIN_PARAMETER_PATTERN
from template_gen.spec import SPEC
from tests.conftest import of_type

KEY_ARN = {"Fn::GetAtt": ["StackKey", "Arn"]}
RETAIN = {"DeletionPolicy": "Retain", "UpdateReplacePolicy": "Retain"}


def test_buckets_are_private_versioned_logged_and_retained(resources: dict[str, Any]) -> None:
    buckets = of_type(resources, "AWS::S3::Bucket")
    assert set(buckets) == {"AssetsBucket", "AccessLogsBucket"}
    for name, bucket in buckets.items():
        p = bucket["Properties"]
        assert p["PublicAccessBlockConfiguration"] == {
            "BlockPublicAcls": True,
            "BlockPublicPolicy": True,
            "IgnorePublicAcls": True,
            "RestrictPublicBuckets": True,
        }, name
        assert p["OwnershipControls"] == {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}
        assert p["VersioningConfiguration"] == {"Status": "Enabled"}, name
        assert p["LifecycleConfiguration"]["Rules"], name
        assert {k: bucket[k] for k in RETAIN} == RETAIN, name


def test_assets_bucket_uses_the_stack_key_and_logs_access(resources: dict[str, Any]) -> None:
    p = resources["AssetsBucket"]["Properties"]
    (rule,) = p["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert rule["BucketKeyEnabled"] is True
    assert rule["ServerSideEncryptionByDefault"] == {
        "SSEAlgorithm": "aws:kms",
        "KMSMasterKeyID": KEY_ARN,
    }
    assert p["LoggingConfiguration"]["DestinationBucketName"] == {"Ref": "AccessLogsBucket"}
    (cors,) = p["CorsConfiguration"]["CorsRules"]
    assert cors["AllowedOrigins"] == {"Ref": "AllowedOrigins"}


def test_access_log_bucket_uses_sse_s3(resources: dict[str, Any]) -> None:
    p = resources["AccessLogsBucket"]["Properties"]
    (rule,) = p["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert rule["ServerSideEncryptionByDefault"] == {"SSEAlgorithm": "AES256"}


def test_every_bucket_policy_denies_plain_http(resources: dict[str, Any]) -> None:
    policies = of_type(resources, "AWS::S3::BucketPolicy")
    covered = set()
    for policy in policies.values():
        statements = policy["Properties"]["PolicyDocument"]["Statement"]
        (deny,) = [s for s in statements if s["Sid"] == "DenyInsecureTransport"]
        assert deny["Effect"] == "Deny"
        assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
        covered.add(policy["Properties"]["Bucket"]["Ref"])
    assert covered == set(of_type(resources, "AWS::S3::Bucket"))


def test_tables_are_on_demand_encrypted_recoverable_and_retained(
    resources: dict[str, Any],
) -> None:
    tables = of_type(resources, "AWS::DynamoDB::Table")
    assert set(tables) == {table_id(table.name) for table in SPEC.tables}
    for name, table in tables.items():
        p = table["Properties"]
        assert p["BillingMode"] == "PAY_PER_REQUEST", name
        assert p["SSESpecification"] == {
            "SSEEnabled": True,
            "SSEType": "KMS",
            "KMSMasterKeyId": KEY_ARN,
        }
        assert p["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
        assert p["DeletionProtectionEnabled"] == {"Fn::If": ["IsProd", True, False]}
        assert {k: table[k] for k in RETAIN} == RETAIN, name


def test_table_keys_carry_tenancy_uniqueness_and_expiry(resources: dict[str, Any]) -> None:
    items = resources["ItemsTable"]["Properties"]
    assert items["KeySchema"][0] == {"AttributeName": "owner", "KeyType": "HASH"}
    users = resources["UsersTable"]["Properties"]
    (index,) = users["GlobalSecondaryIndexes"]
    # The listing index must not project emails.
    assert index["Projection"] == {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["id", "name"]}
    idempotency = resources["IdempotencyTable"]["Properties"]
    assert idempotency["TimeToLiveSpecification"] == {
        "AttributeName": "expiration",
        "Enabled": True,
    }


def test_stack_key_rotates_is_retained_and_names_its_users(resources: dict[str, Any]) -> None:
    key = resources["StackKey"]
    assert key["Properties"]["EnableKeyRotation"] is True
    assert {k: key[k] for k in RETAIN} == RETAIN
    statements = key["Properties"]["KeyPolicy"]["Statement"]
    principals = {s["Sid"]: s["Principal"] for s in statements}
    assert principals["EncryptStackLogGroups"] == {
        "Service": {"Fn::Sub": "logs.${AWS::Region}.amazonaws.com"}
    }
    assert principals["PublishStackAlarms"] == {"Service": "cloudwatch.amazonaws.com"}
    for statement in statements:
        if statement["Effect"] == "Allow":  # only a Deny may name everyone
            assert statement["Principal"] != "*" and statement["Principal"] != {"AWS": "*"}
        if statement["Sid"] != "KeyAdministration":
            assert "Condition" in statement, statement["Sid"]
    (deny,) = [s for s in statements if s["Effect"] == "Deny"]
    assert deny["Action"] == "kms:CreateGrant"
    assert deny["Condition"]["BoolIfExists"]["kms:GrantIsForAWSResource"] == "false"
    (admin,) = [s for s in statements if s["Sid"] == "KeyAdministration"]
    assert not {"kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"} & set(admin["Action"])


def test_api_authorizes_with_the_user_pool_and_logs_json(resources: dict[str, Any]) -> None:
    p = resources["HttpApi"]["Properties"]
    assert p["Auth"]["DefaultAuthorizer"] == "CognitoJwt"
    jwt = p["Auth"]["Authorizers"]["CognitoJwt"]["JwtConfiguration"]
    assert jwt["audience"] == [{"Ref": "UserPoolClient"}]
    assert "${UserPool}" in jwt["issuer"]["Fn::Sub"]
    assert p["DefinitionBody"]["x-amazon-apigateway-cors"]["allowOrigins"] == {
        "Ref": "AllowedOrigins"
    }
    assert p["AccessLogSettings"]["DestinationArn"] == {"Fn::GetAtt": ["HttpApiAccessLogs", "Arn"]}
    assert p["AccessLogSettings"]["Format"].startswith("{")
    assert resources["HttpApiAccessLogs"]["Properties"]["KmsKeyId"] == KEY_ARN
    assert p["DefaultRouteSettings"]["ThrottlingRateLimit"] == {"Ref": "ApiThrottlingRateLimit"}
    assert p["DefaultRouteSettings"]["ThrottlingBurstLimit"] == {"Ref": "ApiThrottlingBurstLimit"}


def test_no_wildcard_in_any_cors_setting(template: dict[str, Any]) -> None:
    default = template["Parameters"]["AllowedOrigins"]["Default"]
    assert "*" not in default
    cors = template["Resources"]["HttpApi"]["Properties"]["DefinitionBody"]
    cors = cors["x-amazon-apigateway-cors"]
    for key in ("allowHeaders", "allowMethods", "exposeHeaders"):
        assert "*" not in cors[key], key


def test_several_origins_stay_a_list_through_the_sam_transform(template: dict[str, Any]) -> None:
    """The transform resolves parameters it sees in CorsConfiguration into one string; the
    origins must reach API Gateway as the parameter's list."""
    from template_gen.expand import expand

    origins = "https://a.example.com,https://b.example.com"
    expanded = expand(template, parameters={"AllowedOrigins": origins})
    body = expanded["Resources"]["HttpApi"]["Properties"]["Body"]
    assert body["x-amazon-apigateway-cors"]["allowOrigins"] == {"Ref": "AllowedOrigins"}


@pytest.mark.parametrize(
    ("origin", "allowed"),
    [
        ("https://app.example.com", True),
        ("http://localhost:5173", True),
        ("*", False),
        ("https://*.example.com", False),
        ("https://app.example.com/", False),
        ("app.example.com", False),
    ],
)
def test_allowed_origins_parameter_refuses_wildcards(origin: str, allowed: bool) -> None:
    assert bool(re.fullmatch(ORIGIN_PARAMETER_PATTERN, origin)) is allowed


def test_user_pool_is_protected_in_prod(resources: dict[str, Any]) -> None:
    pool = resources["UserPool"]
    assert pool["Properties"]["DeletionProtection"] == {"Fn::If": ["IsProd", "ACTIVE", "INACTIVE"]}
    assert pool["Properties"]["Policies"]["PasswordPolicy"]["MinimumLength"] >= 12
    assert {k: pool[k] for k in RETAIN} == RETAIN


def test_outputs_include_the_url_built_from_the_api(template: dict[str, Any]) -> None:
    outputs = template["Outputs"]
    assert outputs["ApiUrl"]["Value"] == {
        "Fn::Sub": "https://${HttpApi}.execute-api.${AWS::Region}.${AWS::URLSuffix}/"
    }
    for name in ("UserPoolId", "UserPoolClientId", "AlarmTopicArn", "UsersTableName",
                 "ItemsTableName", "IdempotencyTableName", "AssetsBucketName"):  # fmt: skip
        assert name in outputs


def test_prod_behaviour_comes_from_a_condition(template: dict[str, Any]) -> None:
    assert template["Conditions"]["IsProd"] == {"Fn::Equals": [{"Ref": "Environment"}, "prod"]}
    assert template["Parameters"]["Environment"]["AllowedValues"] == ["dev", "staging", "prod"]
