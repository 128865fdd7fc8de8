"""The emulator authenticates and authorizes as AWS does, one rule per test, through real
clients against `make emulator`'s process: each test shows the request AWS refuses refused,
and the one it allows allowed, so it fails if the rule is taken away either way."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError

from offline.common.endpoint import ACCOUNT, Endpoint
from tests.templates import trust_policy, unique

pytestmark = pytest.mark.integration
REGION = "eu-central-1"
TRUST = trust_policy("lambda")


@pytest.fixture
def admin(emulator_url: str) -> Callable[[str], Any]:
    return lambda service: Endpoint(emulator_url).client(service, REGION)


def role_with(admin: Callable[[str], Any], *statements: dict[str, Any]) -> dict[str, str]:
    """A new role allowed exactly `statements`; the credentials of a session of it."""
    iam, name = admin("iam"), unique("role")
    iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(TRUST))
    document = {"Version": "2012-10-17", "Statement": list(statements)}
    iam.put_role_policy(RoleName=name, PolicyName="p", PolicyDocument=json.dumps(document))
    session = admin("sts").assume_role(
        RoleArn=f"arn:aws:iam::{ACCOUNT}:role/{name}", RoleSessionName=name
    )
    return dict(session["Credentials"])


def as_session(emulator_url: str, session: dict[str, str], service: str, **config: Any) -> Any:
    return Endpoint(emulator_url).client(service, REGION, session=session, **config)


def code(error: pytest.ExceptionInfo[ClientError]) -> str:
    return str(error.value.response["Error"]["Code"])


def allow(action: str | list[str], resource: str | list[str]) -> dict[str, Any]:
    return {"Effect": "Allow", "Action": action, "Resource": resource}


@pytest.fixture
def bucket(admin: Callable[[str], Any]) -> str:
    """A private bucket with public access blocked, as every bucket of the product is."""
    name = unique("private")
    s3 = admin("s3")
    s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": REGION})
    s3.put_public_access_block(Bucket=name, PublicAccessBlockConfiguration={
        "BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True,
        "RestrictPublicBuckets": True})  # fmt: skip
    s3.put_object(Bucket=name, Key="items/present.txt", Body=b"here")
    return name


def http(method: str, url: str, body: bytes | None = None) -> tuple[int, str]:
    headers = {"Content-Type": "text/plain"} if body is not None else {}
    request = urllib.request.Request(url, data=body, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


# --- 1. SecureStrings -----------------------------------------------------------------------


def test_a_secure_string_is_decrypted_only_with_its_key_by_name_arn_or_path(
    emulator_url: str, admin: Callable[[str], Any]
) -> None:
    """Whichever operation retrieves a decrypted value needs kms:Decrypt on its key
    (https://docs.aws.amazon.com/systems-manager/latest/userguide/ps-restrict-decryption.html)."""
    kms, ssm = admin("kms"), admin("ssm")
    key = kms.create_key()["KeyMetadata"]["Arn"]
    path = f"/{unique('app')}"
    ssm.put_parameter(Name=f"{path}/secret", Type="SecureString", Value="s", KeyId=key)
    arn = f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter{path}/secret"
    reads = [arn, f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter{path}"]
    actions = ["ssm:GetParameter", "ssm:GetParametersByPath"]
    without_key = as_session(emulator_url, role_with(admin, allow(actions, reads)), "ssm")
    for read in (
        lambda c: c.get_parameter(Name=f"{path}/secret", WithDecryption=True),
        lambda c: c.get_parameter(Name=arn, WithDecryption=True),
        lambda c: c.get_parameters_by_path(Path=path, Recursive=True, WithDecryption=True),
    ):
        with pytest.raises(ClientError) as refused:
            read(without_key)
        assert code(refused) == "AccessDeniedException"
        assert "kms:Decrypt" in refused.value.response["Error"]["Message"]
    # Without decryption nothing is decrypted, so nothing more is needed.
    assert without_key.get_parameter(Name=arn)["Parameter"]["Name"] == f"{path}/secret"
    with_key = as_session(
        emulator_url, role_with(admin, allow(actions, reads), allow("kms:Decrypt", key)), "ssm"
    )
    assert with_key.get_parameter(Name=arn, WithDecryption=True)["Parameter"]["Value"] == "s"
    found = with_key.get_parameters_by_path(Path=path, Recursive=True, WithDecryption=True)
    assert [p["Value"] for p in found["Parameters"]] == ["s"]


# --- 2. S3 object keys and sub-permissions --------------------------------------------------


def test_an_encoded_slash_is_part_of_the_key_not_a_way_out_of_a_prefix(
    emulator_url: str, admin: Callable[[str], Any], bucket: str
) -> None:
    """A key is the URI decoded once (object-keys.html): `items%2Fx` is not under `items/`."""
    session = role_with(admin, allow("s3:PutObject", f"arn:aws:s3:::{bucket}/items/*"))
    s3 = as_session(emulator_url, session, "s3")
    s3.put_object(Bucket=bucket, Key="items/inside.txt", Body=b"in")
    with pytest.raises(ClientError) as refused:
        s3.put_object(Bucket=bucket, Key="items%2Foutside.txt", Body=b"out")
    assert code(refused) == "AccessDenied"
    assert (
        f"arn:aws:s3:::{bucket}/items%2Foutside.txt" in refused.value.response["Error"]["Message"]
    )
    keys = [o["Key"] for o in admin("s3").list_objects_v2(Bucket=bucket)["Contents"]]
    assert "items/inside.txt" in keys and not any("outside" in k for k in keys)


def test_an_upload_with_an_acl_or_tags_needs_their_permissions(
    emulator_url: str, admin: Callable[[str], Any], bucket: str
) -> None:
    """API_PutObject.html, "Permissions": s3:PutObjectAcl for an ACL, s3:PutObjectTagging for
    tags."""
    objects = f"arn:aws:s3:::{bucket}/items/*"
    plain = as_session(emulator_url, role_with(admin, allow("s3:PutObject", objects)), "s3")
    with pytest.raises(ClientError) as refused:
        plain.put_object(Bucket=bucket, Key="items/a", Body=b"a", ACL="bucket-owner-full-control")
    assert "s3:PutObjectAcl" in refused.value.response["Error"]["Message"]
    with pytest.raises(ClientError) as refused:
        plain.put_object(Bucket=bucket, Key="items/a", Body=b"a", Tagging="kind=photo")
    assert "s3:PutObjectTagging" in refused.value.response["Error"]["Message"]
    allowed = allow(["s3:PutObject", "s3:PutObjectAcl", "s3:PutObjectTagging"], objects)
    full = as_session(emulator_url, role_with(admin, allowed), "s3")
    full.put_object(Bucket=bucket, Key="items/a", Body=b"a", ACL="bucket-owner-full-control",
                    Tagging="kind=photo")  # fmt: skip


def test_a_missing_key_is_404_only_to_a_caller_who_may_list_the_bucket(
    emulator_url: str, admin: Callable[[str], Any], bucket: str
) -> None:
    """API_GetObject.html: 404 with s3:ListBucket, 403 without."""
    read = allow("s3:GetObject", f"arn:aws:s3:::{bucket}/*")
    listing = allow("s3:ListBucket", f"arn:aws:s3:::{bucket}")
    reader = as_session(emulator_url, role_with(admin, read), "s3")
    assert reader.get_object(Bucket=bucket, Key="items/present.txt")["Body"].read() == b"here"
    with pytest.raises(ClientError) as refused:
        reader.get_object(Bucket=bucket, Key="items/absent.txt")
    assert code(refused) == "AccessDenied"
    lister = as_session(emulator_url, role_with(admin, read, listing), "s3")
    with pytest.raises(ClientError) as missing:
        lister.get_object(Bucket=bucket, Key="items/absent.txt")
    assert code(missing) == "NoSuchKey"


# --- 3. Unsigned and query-signed requests --------------------------------------------------


def test_an_unsigned_request_is_anonymous_and_a_private_bucket_refuses_it(
    emulator_url: str, admin: Callable[[str], Any], bucket: str
) -> None:
    """sigv4-HTTPPOSTForms.html: no signature is an anonymous request; only a bucket policy
    naming everyone could allow one (ErrorResponses.html: AccessDenied, 403)."""
    url = f"{emulator_url}/{bucket}/items/anonymous.txt"
    status, text = http("PUT", url, b"anonymous")
    assert status == 403 and "<Code>AccessDenied</Code>" in text
    assert http("GET", f"{emulator_url}/{bucket}/items/present.txt")[0] == 403
    keys = [o["Key"] for o in admin("s3").list_objects_v2(Bucket=bucket)["Contents"]]
    assert "items/anonymous.txt" not in keys
    # Other services answer an unsigned call as missing its authentication.
    request = urllib.request.Request(
        emulator_url, data=b"{}", method="POST",
        headers={"X-Amz-Target": "DynamoDB_20120810.ListTables",
                 "Content-Type": "application/x-amz-json-1.0"},
    )  # fmt: skip
    with pytest.raises(urllib.error.HTTPError) as unsigned:
        urllib.request.urlopen(request, timeout=10)
    assert "MissingAuthenticationToken" in unsigned.value.read().decode()


def test_presigned_urls_are_checked_then_authorized_as_their_signer(
    emulator_url: str, admin: Callable[[str], Any], bucket: str
) -> None:
    """sigv4-query-string-auth.html: a presigned GET or PUT is its signer's request, response
    header overrides included; it expires; a SigV2 one is refused."""
    objects = f"arn:aws:s3:::{bucket}/items/*"
    session = role_with(admin, allow(["s3:GetObject", "s3:PutObject"], objects))
    signer = as_session(emulator_url, session, "s3", signature_version="s3v4")
    put = signer.generate_presigned_url(
        "put_object", Params={"Bucket": bucket, "Key": "items/presigned.txt"}
    )
    assert http("PUT", put, b"presigned")[0] == 200
    get = signer.generate_presigned_url("get_object", Params={
        "Bucket": bucket, "Key": "items/presigned.txt",
        "ResponseContentDisposition": "attachment"})  # fmt: skip
    assert http("GET", get) == (200, "presigned")
    outside = signer.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "x"})
    assert http("GET", outside)[0] == 403
    expired = signer.generate_presigned_url(
        "get_object", Params={"Bucket": bucket, "Key": "items/presigned.txt"}, ExpiresIn=1
    )
    time.sleep(2)  # past its one second
    status, text = http("GET", expired)
    assert status == 403 and "Request has expired" in text
    tampered = get.replace("items/presigned.txt", "items/present.txt")
    status, text = http("GET", tampered)
    assert status == 403 and "<Code>SignatureDoesNotMatch</Code>" in text
    version_2 = as_session(emulator_url, session, "s3", signature_version="s3")
    old = version_2.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "k"})
    status, text = http("GET", old)
    assert status == 400 and "AWS4-HMAC-SHA256" in text


def test_a_signature_must_verify_against_the_callers_secret(
    emulator_url: str, admin: Callable[[str], Any]
) -> None:
    """A wrong secret, a key nobody issued and a session without its token are refused as
    DynamoDB refuses them (CommonErrors.html); the right ones are served."""
    session = role_with(admin, allow("dynamodb:ListTables", "*"))
    right = as_session(emulator_url, session, "dynamodb")
    right.list_tables()
    for credentials, expected in [
        ({**session, "SecretAccessKey": "wrong"}, "InvalidSignatureException"),
        ({**session, "AccessKeyId": "AKIDNOBODYISSUED"}, "UnrecognizedClientException"),
        ({**session, "SessionToken": "another"}, "UnrecognizedClientException"),
    ]:
        with pytest.raises(ClientError) as refused:
            as_session(emulator_url, credentials, "dynamodb").list_tables()
        assert code(refused) == expected


# --- Refusals in the query protocol ------------------------------------------------------------


def test_a_refusal_of_a_query_protocol_call_is_spelled_as_that_service_spells_it(
    emulator_url: str, admin: Callable[[str], Any]
) -> None:
    """CloudFormation and IAM answer in XML (the query protocol): a refused call must parse
    as the SDK's ClientError, naming the action, not as a response it cannot read. The body
    of the request (an Action= form) is what tells the protocol."""
    session = role_with(
        admin, allow("cloudformation:DescribeStacks", "arn:aws:cloudformation:*:*:stack/mine/*")
    )
    cloudformation = as_session(emulator_url, session, "cloudformation")
    with pytest.raises(ClientError) as refused:
        cloudformation.describe_stacks(StackName="theirs")
    assert code(refused) == "AccessDenied"
    assert "cloudformation:DescribeStacks" in refused.value.response["Error"]["Message"]
    iam = as_session(emulator_url, session, "iam")
    with pytest.raises(ClientError) as not_allowed:
        iam.get_role(RoleName="anyone")
    assert "iam:GetRole" in not_allowed.value.response["Error"]["Message"]
