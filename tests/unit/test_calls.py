"""What each API call needs, as offline/iam/calls.py models it from the AWS pages it cites: the
actions and resources, and the KMS calls a service makes on the caller's behalf."""

from __future__ import annotations

from typing import Any

import pytest

from aws_semantics.policy import Policy
from offline.iam import calls
from offline.iam.calls import Call, NotModelled

ACCOUNT, REGION = "123456789012", "eu-west-1"
KEY = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/k-1"
KEY_POLICY = Policy("key policy", {"Statement": []})


CHANGE_SET = f"arn:aws:cloudformation:eu-west-1:{ACCOUNT}:changeSet/import/cs-1"


class Resources(calls.State):
    """Plain data: one encrypted table, parameter, log group and bucket."""

    def table_key(self, region: str, table: str) -> str | None:
        return KEY if table == "things" else None

    def table_partition_key(self, region: str, table: str) -> str | None:
        return "owner"

    def parameter_key(self, region: str, name: str) -> str | None:
        return "alias/things-parameters" if name in ("/p/secret", "/p/deeper/secret") else None

    def parameters_under(self, region: str, path: str, recursive: bool) -> list[str]:
        found = ["/p/plain", "/p/secret", "/p/deeper/secret"]
        return [n for n in found if n.startswith(path) and (recursive or n.count("/") == 2)]

    def log_group_key(self, region: str, group: str) -> str | None:
        return KEY if group == "/aws/lambda/fn" else None

    def tags(self, region: str, arn: str) -> dict[str, str]:
        return {"team": "things"} if arn.endswith("table/things") else {}

    def bucket_policy(self, bucket: str) -> Policy | None:
        return Policy("bucket policy", {"Statement": []})

    def bucket_key(self, bucket: str) -> tuple[str | None, bool]:
        return (KEY, bucket == "keyed")

    def object_exists(self, bucket: str, key: str) -> bool:
        return key != "missing.png"

    def object_key(self, bucket: str, key: str) -> str | None:
        return KEY

    def object_tags(self, bucket: str, key: str) -> dict[str, str]:
        return {"kind": "photo"}

    def key(self, region: str, key_id: str) -> calls.Key:
        if key_id == "alias/gone":
            raise calls.MissingKey(f"no KMS key {key_id} in {region}")
        return calls.Key(KEY, KEY_POLICY, ["alias/things"])

    def stack_arn(self, region: str, name: str) -> str | None:
        if name == CHANGE_SET:
            name = "app"
        return (
            f"arn:aws:cloudformation:{region}:{ACCOUNT}:stack/{name}/1" if name == "app" else None
        )


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


def test_a_secure_string_named_by_its_arn_is_decrypted_as_by_its_name() -> None:
    """The ARN names the same parameter as the name does
    (https://docs.aws.amazon.com/systems-manager/latest/userguide/sysman-paramstore-su-create.html),
    so decrypting it needs the same kms:Decrypt, a version selector or not."""
    arn = f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter/p/secret"
    for name in (arn, f"{arn}:3", "/p/secret:3"):
        (check,) = key_checks("ssm", "GetParameter", Name=name, WithDecryption=True)
        assert check.action == "kms:Decrypt"
        assert check.context["kms:EncryptionContext:PARAMETER_ARN"] == arn
    assert calls.parameter_name("arn:aws:ssm:r:1:parameter/top") == "top"


@pytest.mark.parametrize(
    ("recursive", "decrypted"), [(False, ["/p/secret"]), (True, ["/p/secret", "/p/deeper/secret"])]
)
def test_parameters_by_path_with_decryption_decrypt_each_secure_string_found(
    recursive: bool, decrypted: list[str]
) -> None:
    """Whichever operation retrieves a decrypted value needs kms:Decrypt on its key
    (https://docs.aws.amazon.com/systems-manager/latest/userguide/ps-restrict-decryption.html)."""
    found = calls.checks(
        Call("ssm", "GetParametersByPath", REGION, ACCOUNT,
             {"Path": "/p", "Recursive": recursive, "WithDecryption": True}),
        Resources(),
    )  # fmt: skip
    assert (found[0].action, found[0].context["ssm:Recursive"]) == (
        "ssm:GetParametersByPath",
        str(recursive).lower(),
    )
    contexts = [c.context["kms:EncryptionContext:PARAMETER_ARN"] for c in found[1:]]
    assert contexts == [f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter{n}" for n in decrypted]
    without = Call("ssm", "GetParametersByPath", REGION, ACCOUNT, {"Path": "/p", "Recursive": True})
    assert [c.action for c in calls.checks(without, Resources())] == ["ssm:GetParametersByPath"]


def s3_call(operation: str, key: str = "a.png", **headers: str) -> list[calls.Check]:
    params = {"Bucket": "plain", "Key": key, "Headers": headers, "Query": {}}
    return calls.checks(Call("s3", operation, REGION, ACCOUNT, params), Resources())


def test_an_upload_with_an_acl_or_tags_needs_those_permissions_too() -> None:
    """API_PutObject.html, "Permissions": s3:PutObjectAcl for an ACL, s3:PutObjectTagging for
    tags, beside s3:PutObject."""
    assert [c.action for c in s3_call("PutObject")] == ["s3:PutObject", "kms:GenerateDataKey"]
    acl = s3_call("PutObject", **{"x-amz-acl": "public-read"})
    assert [c.action for c in acl][:2] == ["s3:PutObject", "s3:PutObjectAcl"]
    assert acl[1].context["s3:x-amz-acl"] == "public-read"
    tagged = s3_call("PutObject", **{"x-amz-tagging": "a=1&b=2"})
    assert [c.action for c in tagged][:2] == ["s3:PutObject", "s3:PutObjectTagging"]
    assert tagged[1].context["s3:RequestObjectTagKeys"] == ["a", "b"]
    assert tagged[1].context["s3:RequestObjectTag/a"] == "1"


def test_a_missing_key_is_answered_by_whether_the_caller_may_list_the_bucket() -> None:
    """API_GetObject.html: 404 with s3:ListBucket, 403 without; no key use for no object."""
    assert [(c.action, c.resource) for c in s3_call("GetObject", "missing.png")] == [
        ("s3:GetObject", "arn:aws:s3:::plain/missing.png"),
        ("s3:ListBucket", "arn:aws:s3:::plain"),
    ]
    assert [c.action for c in s3_call("HeadObject", "missing.png")][-1] == "s3:ListBucket"
    present = s3_call("GetObject", "a.png")
    assert [c.action for c in present] == ["s3:GetObject", "kms:Decrypt"]
    assert present[0].context["s3:ExistingObjectTag/kind"] == "photo"


def test_dynamodb_keys_come_from_the_request() -> None:
    """specifying-conditions.html and transaction-apis-iam.html: the partition key values,
    ReturnValues as sent, and the transaction enclosing each item."""
    (put, _) = calls.checks(
        Call("dynamodb", "PutItem", REGION, ACCOUNT, {
            "TableName": "things", "Item": {"owner": {"S": "alice"}, "id": {"S": "1"}},
            "ReturnValues": "ALL_OLD",
        }),
        Resources(),
    )  # fmt: skip
    assert put.context["dynamodb:LeadingKeys"] == ["alice"]
    assert put.context["dynamodb:ReturnValues"] == "ALL_OLD"
    assert put.context["aws:ResourceTag/team"] == "things"
    assert "dynamodb:EnclosingOperation" not in put.context
    query = calls.checks(
        Call("dynamodb", "Query", REGION, ACCOUNT, {
            "TableName": "plain", "KeyConditionExpression": "#o = :o AND begins_with(id, :p)",
            "ExpressionAttributeNames": {"#o": "owner"},
            "ExpressionAttributeValues": {":o": {"S": "bob"}, ":p": {"S": "x"}},
        }),
        Resources(),
    )  # fmt: skip
    assert query[0].context["dynamodb:LeadingKeys"] == ["bob"]
    items = calls.checks(
        Call("dynamodb", "TransactWriteItems", REGION, ACCOUNT, {"TransactItems": [
            {"Put": {"TableName": "plain", "Item": {"owner": {"S": "carol"}}}},
        ]}),
        Resources(),
    )  # fmt: skip
    assert items[0].context["dynamodb:EnclosingOperation"] == "TransactWriteItems"


def test_kms_keys_describe_the_key_and_its_use() -> None:
    """conditions-kms.html: the encryption context keys, the algorithm of a cryptographic
    operation only, and the alias a request named the key by."""
    (direct,) = calls.checks(
        Call("kms", "Encrypt", REGION, ACCOUNT,
             {"KeyId": "alias/things", "EncryptionContext": {"b": "2", "a": "1"}}),
        Resources(),
    )  # fmt: skip
    assert direct.context["kms:EncryptionContextKeys"] == ["a", "b"]
    assert direct.context["kms:EncryptionAlgorithm"] == "SYMMETRIC_DEFAULT"
    assert direct.context["kms:RequestAlias"] == "alias/things"
    assert "kms:ViaService" not in direct.context
    (described,) = calls.checks(
        Call("kms", "DescribeKey", REGION, ACCOUNT, {"KeyId": KEY}), Resources()
    )
    assert "kms:EncryptionAlgorithm" not in described.context
    assert "kms:RequestAlias" not in described.context


def test_reads_of_a_role_and_its_policies_are_authorized_on_their_arns() -> None:
    policy = f"arn:aws:iam::{ACCOUNT}:policy/app-cloudformation-1"
    assert needs("iam", "ListAttachedRolePolicies", RoleName="app") == [
        ("iam:ListAttachedRolePolicies", f"arn:aws:iam::{ACCOUNT}:role/app")
    ]
    assert needs("iam", "GetPolicyVersion", PolicyArn=policy, VersionId="v1") == [
        ("iam:GetPolicyVersion", policy)
    ]
    with pytest.raises(calls.NotModelled):
        needs("iam", "CreateRole", RoleName="app")


def test_a_change_set_named_by_its_arn_is_authorized_on_its_stack() -> None:
    """A waiter polls DescribeChangeSet with the change set's ARN alone; the call is still
    authorized on the stack the change set belongs to."""
    stack = f"arn:aws:cloudformation:{REGION}:{ACCOUNT}:stack/app/1"
    assert needs("cloudformation", "DescribeChangeSet", ChangeSetName=CHANGE_SET) == [
        ("cloudformation:DescribeChangeSet", stack)
    ]
    gone = CHANGE_SET.replace("cs-1", "cs-2")
    assert needs("cloudformation", "DescribeChangeSet", ChangeSetName=gone) == []


def test_a_key_that_does_not_exist_is_answered_not_found_unchecked() -> None:
    """API_DescribeKey.html: KMS answers NotFoundException for a missing alias; no policy
    decides, so the emulator makes no check. A service's use of a missing key stays loud."""
    assert needs("kms", "DescribeKey", KeyId="alias/gone") == []
    with pytest.raises(calls.NotModelled):
        calls.key_use(Resources(), Call("ssm", "GetParameter", REGION, ACCOUNT, {}),
                      "kms:Decrypt", "alias/gone", "ssm", {}, "ssm:GetParameter")  # fmt: skip


def test_a_change_set_with_a_service_role_needs_to_pass_it_to_cloudformation() -> None:
    """using-iam-servicerole.html: passing the role needs iam:PassRole, which AWS checks with
    iam:PassedToService; the call itself is authorized on the stack with its condition keys
    (list_awscloudformation.html)."""
    role = f"arn:aws:iam::{ACCOUNT}:role/app-cloudformation"
    params = {"Action": "CreateChangeSet", "StackName": "app", "ChangeSetName": "cs-1",
              "RoleARN": role, "TemplateURL": "https://bucket/t.json",
              "Tags.member.1.Key": "project", "Tags.member.1.Value": "app"}  # fmt: skip
    create, passing = calls.checks(
        Call("cloudformation", "CreateChangeSet", REGION, ACCOUNT, params), Resources()
    )
    assert create.action == "cloudformation:CreateChangeSet"
    assert create.resource == f"arn:aws:cloudformation:{REGION}:{ACCOUNT}:stack/app/1"
    assert create.context["cloudformation:RoleArn"] == role
    assert create.context["cloudformation:ChangeSetName"] == "cs-1"
    assert create.context["aws:TagKeys"] == ["project"]
    assert (passing.action, passing.resource) == ("iam:PassRole", role)
    assert passing.context == {"iam:PassedToService": "cloudformation.amazonaws.com"}
    new = calls.checks(
        Call("cloudformation", "CreateChangeSet", REGION, ACCOUNT, {"StackName": "fresh"}),
        Resources(),
    )
    assert [c.resource for c in new] == [
        f"arn:aws:cloudformation:{REGION}:{ACCOUNT}:stack/fresh/new"
    ]
    assert needs("cloudformation", "DescribeStacks") == [("cloudformation:DescribeStacks", "*")]
    assert needs("cloudformation", "ListStacks") == [("cloudformation:ListStacks", "*")]


def test_head_bucket_is_list_bucket_and_a_pool_call_names_its_pool() -> None:
    """API_HeadBucket.html: s3:ListBucket; a user pool's calls are on the pool's ARN."""
    assert [(c.action, c.resource) for c in s3_call("HeadBucket", "")] == [
        ("s3:ListBucket", "arn:aws:s3:::plain")
    ]
    assert needs("cognito-idp", "DescribeUserPool", UserPoolId="eu-west-1_abc") == [
        (
            "cognito-idp:DescribeUserPool",
            f"arn:aws:cognito-idp:{REGION}:{ACCOUNT}:userpool/eu-west-1_abc",
        )
    ]
    assert needs("cognito-idp", "ListUserPools", MaxResults=60) == [
        ("cognito-idp:ListUserPools", "*")
    ]


def test_a_function_configuration_is_read_on_the_function_or_its_qualified_arn() -> None:
    function = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:app-users"
    read = "lambda:GetFunctionConfiguration"
    assert needs("lambda", "GetFunctionConfiguration", FunctionName="app-users") == [
        (read, function)
    ]
    assert needs("lambda", "GetFunctionConfiguration", FunctionName=function,
                 Qualifier="live") == [(read, f"{function}:live")]  # fmt: skip
    with pytest.raises(NotModelled):
        needs("lambda", "POST /2015-03-31/functions/app-users/invocations")
