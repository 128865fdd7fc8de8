"""The local stack refuses what AWS refuses: each guard is shown failing when the thing it
guards is taken away. A stack of its own, whose refusals are expected; its audit log shows
exactly what was refused, to whom, and why."""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import pytest
from botocore.exceptions import ClientError

from offline.stack.driver import ServeProcess
from template_gen.spec import SPEC
from tests.e2e.conftest import multipart, serving

pytestmark = pytest.mark.e2e
STACK = f"{SPEC.project}-dev"


@pytest.fixture(scope="module")
def audit(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Under the run's audit folder, so that what this stack's calls use counts as
    exercised; marked, so that the refusals provoked here do not count as failures."""
    root = Path(os.environ.get("OFFLINE_AUDIT_DIR") or tmp_path_factory.mktemp("audit"))
    return root / f"expected-denials-{uuid.uuid4().hex[:8]}"


@pytest.fixture(scope="module")
def strict(
    built: None, audit: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ServeProcess]:
    env = {"OFFLINE_AUDIT_DIR": str(audit), "OFFLINE_AUDIT_EXPECTED_DENIALS": "1"}
    with serving(tmp_path_factory.mktemp("strict"), "us-east-1", env) as stack:
        yield stack


@pytest.fixture(scope="module")
def dora(strict: ServeProcess) -> str:
    return strict.token("dora")


def refusals(audit: Path) -> list[dict[str, Any]]:
    return [
        entry
        for path in sorted(audit.glob("*.jsonl"))
        for entry in map(json.loads, path.read_text().splitlines())
        if not entry["allowed"]
    ]


def role_policy(stack: ServeProcess, function: str) -> tuple[str, str, dict[str, Any]]:
    role = f"{STACK}-{function}-{stack.region}"
    name = f"{function}-least-privilege"
    document = stack.client("iam").get_role_policy(RoleName=role, PolicyName=name)
    return role, name, document["PolicyDocument"]


def without(document: dict[str, Any], action: str, sid: str) -> dict[str, Any]:
    """The rendered policy with one action taken out of one statement."""
    statements = []
    for statement in document["Statement"]:
        kept = [a for a in statement["Action"] if a != action or statement["Sid"] != sid]
        if kept:
            statements.append({**statement, "Action": kept})
    assert statements != document["Statement"], (action, sid)
    return {**document, "Statement": statements}


@contextmanager
def one_action_short(stack: ServeProcess, function: str, action: str, sid: str) -> Iterator[str]:
    """The function's deployed role without `action` in statement `sid` while the block runs,
    then its rendered policy back; yields the role's name."""
    iam = stack.client("iam")
    role, name, rendered = role_policy(stack, function)
    shortened = without(rendered, action, sid)
    iam.put_role_policy(RoleName=role, PolicyName=name, PolicyDocument=json.dumps(shortened))
    try:
        yield role
    finally:
        iam.put_role_policy(RoleName=role, PolicyName=name, PolicyDocument=json.dumps(rendered))


def test_a_role_one_action_short_fails_its_route_naming_the_action(
    strict: ServeProcess, audit: Path, dora: str
) -> None:
    item = strict.request("POST", "/items", token=dora, body={"name": "Lamp"}).json
    path, headers = f"/items/{item['id']}", {"if-match": '"1"'}
    with one_action_short(strict, "items", "dynamodb:UpdateItem", "WriteItemsTable") as role:
        refused = strict.request("PATCH", path, token=dora, body={"name": "x"}, headers=headers)
    assert refused.status == 500 and refused.json["error"]["code"] == "internal_error"
    (denial,) = [r for r in refusals(audit) if r["action"] == "dynamodb:UpdateItem"]
    assert denial["caller"] == f"arn:aws:sts::123456789012:assumed-role/{role}/{STACK}-items"
    assert denial["resource"].endswith(f":table/{STACK}-items")
    assert (
        denial["reason"] == "because no identity-based policy allows the dynamodb:UpdateItem action"
    )
    # The rendered policy back in place, the same request succeeds: that action was all.
    again = strict.request("PATCH", path, token=dora, body={"name": "x"}, headers=headers)
    assert again.status == 200


def test_a_failed_idempotent_create_clears_its_record(strict: ServeProcess, dora: str) -> None:
    """Powertools deletes the in-progress record when the create fails, so a retry can run
    (this is the idempotency table's DeleteItem grant at work)."""
    headers = {"idempotency-key": f"retry-{uuid.uuid4()}"}
    with one_action_short(strict, "items", "dynamodb:PutItem", "WriteItemsTable"):
        failed = strict.request("POST", "/items", token=dora, body={"name": "D"}, headers=headers)
    assert failed.status == 500
    retried = strict.request("POST", "/items", token=dora, body={"name": "D"}, headers=headers)
    assert retried.status == 201, retried.body


def grant_upload(stack: ServeProcess, token: str, size: int = 1024) -> dict[str, Any]:
    item = stack.request("POST", "/items", token=token, body={"name": "Frame"}).json
    body = {"filename": "frame.png", "content_type": "image/png", "size": size}
    grant = stack.request("POST", f"/items/{item['id']}/attachments", token=token, body=body)
    assert grant.status == 201, grant.body
    return dict(grant.json)


def post(upload: dict[str, Any], content: bytes, **changes: str | None) -> tuple[int, str]:
    """POST the presigned form with `changes` to its fields (None drops one)."""
    return post_form(upload, content, changes)


def post_form(
    upload: dict[str, Any],
    content: bytes,
    changes: dict[str, str | None],
    after: dict[str, str] | None = None,
) -> tuple[int, str]:
    """POST the presigned form with `changes`, and `after` sent after the file."""
    fields = {**upload["fields"], **changes}
    body, content_type = multipart(
        {k: v for k, v in fields.items() if v is not None}, "frame.png", content, after
    )
    request = urllib.request.Request(
        upload["url"], data=body, method="POST", headers={"content-type": content_type}
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, ""
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def test_a_key_policy_missing_the_service_refuses_the_upload(
    strict: ServeProcess, dora: str
) -> None:
    kms = strict.client("kms")
    key = kms.describe_key(KeyId=f"alias/{STACK}")["KeyMetadata"]["KeyId"]
    rendered = kms.get_key_policy(KeyId=key, PolicyName="default")["Policy"]
    document = json.loads(rendered)
    for statement in document["Statement"]:
        if statement["Sid"] == "UseThroughStackServices":
            services = statement["Condition"]["StringEquals"]["kms:ViaService"]
            statement["Condition"]["StringEquals"]["kms:ViaService"] = [
                s for s in services if not s.startswith("s3.")
            ]
    upload = grant_upload(strict, dora)
    kms.put_key_policy(KeyId=key, PolicyName="default", Policy=json.dumps(document))
    try:
        status, text = post(upload, b"x" * 100)
    finally:
        kms.put_key_policy(KeyId=key, PolicyName="default", Policy=rendered)
    assert status == 403 and "<Code>AccessDenied</Code>" in text
    assert "kms:GenerateDataKey" in text and "no resource-based policy allows" in text
    assert "(the s3:PutObject call needs it)" in text
    assert post(upload, b"x" * 100)[0] == 204  # the key policy restored


@pytest.mark.parametrize(
    ("content", "changes", "code"),
    [
        (b"x" * 1025, {}, "EntityTooLarge"),
        (b"x" * 65536, {}, "EntityTooLarge"),
        (b"", {}, "EntityTooSmall"),
        (b"x" * 10, {"Content-Type": "text/html"}, "AccessDenied"),
        (b"x" * 10, {"key": "items/someone-else/frame.png"}, "AccessDenied"),
        (b"x" * 10, {"x-amz-signature": "0" * 64}, "SignatureDoesNotMatch"),
        (b"x" * 10, {"x-amz-signature": None}, "InvalidArgument"),
    ],
    ids=[
        "1025-bytes",
        "64-KiB",
        "empty",
        "text-html",
        "foreign-key",
        "bad-signature",
        "no-signature",
    ],
)
def test_an_upload_that_breaks_its_policy_is_refused(
    strict: ServeProcess, dora: str, content: bytes, changes: dict[str, str | None], code: str
) -> None:
    """The fields POST /items/{id}/attachments hands out: 1,024 bytes of image/png under the
    item's own prefix, and nothing else (offline/s3/post_policy.py)."""
    upload = grant_upload(strict, dora, size=1024)
    status, text = post(upload, content, **changes)
    assert status in (400, 403) and f"<Code>{code}</Code>" in text, text
    assert post(upload, b"x" * 1024)[0] == 204  # the untouched form still works


def test_an_upload_reads_no_field_after_the_file(strict: ServeProcess, dora: str) -> None:
    """The file must be the last field; S3 reads nothing after it
    (https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-HTTPPOSTForms.html): a policy and
    signature sent after it are missing, and a key sent after it is not where the object goes."""
    upload = grant_upload(strict, dora, size=1024)
    moved = {k: upload["fields"][k] for k in ("policy", "x-amz-signature")}
    dropped: dict[str, str | None] = {"policy": None, "x-amz-signature": None}
    status, text = post_form(upload, b"x" * 10, dropped, after=moved)
    assert status == 400 and "<Code>InvalidArgument</Code>" in text, text
    assert "must contain a field named 'X-Amz-Signature'" in text
    elsewhere = f"{upload['key'].rsplit('/', 1)[0]}/elsewhere.png"
    assert post_form(upload, b"y" * 10, {}, after={"key": elsewhere})[0] == 204
    s3, bucket = strict.client("s3"), upload["url"].rstrip("/").rsplit("/", 1)[-1]
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]]
    assert upload["key"] in keys
    assert elsewhere not in keys


def test_an_upload_refusal_carries_the_further_elements_s3_gives(
    strict: ServeProcess, dora: str
) -> None:
    """S3's <Error> document names what was wrong in elements of its own beside Code and
    Message (https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html)."""
    upload = grant_upload(strict, dora, size=1024)
    status, text = post(upload, b"x" * 1025)
    error = ElementTree.fromstring(text)
    assert status == 400 and error.findtext("Code") == "EntityTooLarge", text
    assert (error.findtext("ProposedSize"), error.findtext("MaxSizeAllowed")) == ("1025", "1024")
    status, text = post(upload, b"x" * 10, **{"x-amz-signature": "0" * 64})
    error = ElementTree.fromstring(text)
    assert status == 403 and error.findtext("Code") == "SignatureDoesNotMatch", text
    assert error.findtext("SignatureProvided") == "0" * 64
    assert error.findtext("StringToSign") == upload["fields"]["policy"]
    assert error.findtext("AWSAccessKeyId")


def new_role(iam: Any, prefix: str) -> str:
    """A role anyone in the account may assume: a test writes its policies, then calls as it."""
    trust = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:root"},
                       "Action": "sts:AssumeRole"}],
    }  # fmt: skip
    name = f"{prefix}-{uuid.uuid4().hex[:8]}"
    iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))
    return name


def as_role(stack: ServeProcess, role: str, service: str) -> Any:
    """A client of the stack's emulator in a session of `role`, as its policies allow."""
    credentials = stack.client("sts").assume_role(
        RoleArn=f"arn:aws:iam::123456789012:role/{role}", RoleSessionName=role
    )["Credentials"]
    return stack.emulator.client(service, stack.region, session=credentials)


def test_the_signing_key_is_readable_only_with_a_grant_on_its_key(strict: ServeProcess) -> None:
    """ssm:GetParameter alone is not enough under the parameters' own key. Under the AWS
    managed key it is: the reason the key exists."""
    iam = strict.client("iam")
    parameter = f"/{SPEC.project}/dev/cursor-signing-key"
    arn = f"arn:aws:ssm:{strict.region}:123456789012:parameter{parameter}"
    managed = f"/{SPEC.project}/dev/under-the-managed-key"
    strict.client("ssm").put_parameter(
        Name=managed, Type="SecureString", Value="v", KeyId="alias/aws/ssm"
    )
    reader = new_role(iam, "reader")
    iam.put_role_policy(
        RoleName=reader,
        PolicyName="read-parameters",
        PolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Action": "ssm:GetParameter",
                        "Resource": [arn, arn.replace(parameter, managed)],
                    }
                ],
            }
        ),
    )
    ssm = as_role(strict, reader, "ssm")
    with pytest.raises(ClientError) as refused:
        ssm.get_parameter(Name=parameter, WithDecryption=True)
    assert refused.value.response["Error"]["Code"] == "AccessDeniedException"
    message = refused.value.response["Error"]["Message"]
    assert "kms:Decrypt" in message and "(the ssm:GetParameter call needs it)" in message
    assert ssm.get_parameter(Name=managed, WithDecryption=True)["Parameter"]["Value"] == "v"


def test_a_customer_managed_policy_allows_through_its_default_version(
    strict: ServeProcess,
) -> None:
    """A role's attached managed policy counts as AWS counts it: its default version, and
    only that one (access_policies_managed-versioning.html)."""
    iam = strict.client("iam")
    name = f"/{SPEC.project}/dev/plain-{uuid.uuid4().hex[:8]}"
    strict.client("ssm").put_parameter(Name=name, Type="String", Value="plain")
    arn = f"arn:aws:ssm:{strict.region}:123456789012:parameter{name}"

    def document(action: str) -> str:
        statement = {"Effect": "Allow", "Action": action, "Resource": arn}
        return json.dumps({"Version": "2012-10-17", "Statement": [statement]})

    role = new_role(iam, "managed")
    policy = iam.create_policy(PolicyName=role, PolicyDocument=document("ssm:GetParameter"))
    iam.attach_role_policy(RoleName=role, PolicyArn=policy["Policy"]["Arn"])
    ssm = as_role(strict, role, "ssm")
    assert ssm.get_parameter(Name=name)["Parameter"]["Value"] == "plain"
    # A new default version that grants something else takes the read away.
    iam.create_policy_version(
        PolicyArn=policy["Policy"]["Arn"],
        PolicyDocument=document("ssm:GetParameterHistory"),
        SetAsDefault=True,
    )
    with pytest.raises(ClientError) as refused:
        ssm.get_parameter(Name=name)
    assert refused.value.response["Error"]["Code"] == "AccessDeniedException"
