"""Browser uploads (S3 POST Object) are refused the way S3 refuses them.

The forms are real presigned POSTs made by botocore offline, as the product makes them, then
tampered with. Pages:
- https://docs.aws.amazon.com/AmazonS3/latest/developerguide/sigv4-HTTPPOSTForms.html
- https://docs.aws.amazon.com/AmazonS3/latest/developerguide/sigv4-HTTPPOSTConstructPolicy.html
- https://docs.aws.amazon.com/AmazonS3/latest/developerguide/sigv4-authentication-HTTPPOST.html
- https://docs.aws.amazon.com/AmazonS3/latest/developerguide/sigv4-post-example.html
- https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html#ErrorCodeList
"""

from __future__ import annotations

import base64
import json
import os
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from botocore.auth import S3SigV4PostAuth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials

from offline.s3.post_policy import (
    Refusal,
    Signer,
    Upload,
    check_upload,
    object_key,
    policy_signature,
    scope_of,
    secrets,
    signer_of,
)

REGION = "eu-west-1"
BUCKET = "assets"
KEY = "items/u-1/i-1/6f1c/photo.png"
SIZE = 2048
UPLOADER = Signer("AKIAUPLOADER", "uploader/secret+key")
ROLE = Signer("ASIAROLE", "role/secret+key")  # a Lambda role's temporary credentials
TOKEN = "IQoJb3JpZ2luX2VjEOr//////////wEaCWV1LXdlc3QtMSJHMEUCIQD-session-token"
KNOWN = secrets([UPLOADER, ROLE])

# https://docs.aws.amazon.com/AmazonS3/latest/developerguide/sigv4-post-example.html
EXAMPLE_SIGNER = Signer("AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")
EXAMPLE_POLICY = (
    "eyAiZXhwaXJhdGlvbiI6ICIyMDE1LTEyLTMwVDEyOjAwOjAwLjAwMFoiLA0KICAiY29uZGl0aW9ucyI6IFsNCiAgICB7"
    "ImJ1Y2tldCI6ICJzaWd2NGV4YW1wbGVidWNrZXQifSwNCiAgICBbInN0YXJ0cy13aXRoIiwgIiRrZXkiLCAidXNlci91"
    "c2VyMS8iXSwNCiAgICB7ImFjbCI6ICJwdWJsaWMtcmVhZCJ9LA0KICAgIHsic3VjY2Vzc19hY3Rpb25fcmVkaXJlY3Qi"
    "OiAiaHR0cDovL3NpZ3Y0ZXhhbXBsZWJ1Y2tldC5zMy5hbWF6b25hd3MuY29tL3N1Y2Nlc3NmdWxfdXBsb2FkLmh0bWwi"
    "fSwNCiAgICBbInN0YXJ0cy13aXRoIiwgIiRDb250ZW50LVR5cGUiLCAiaW1hZ2UvIl0sDQogICAgeyJ4LWFtei1tZXRh"
    "LXV1aWQiOiAiMTQzNjUxMjM2NTEyNzQifSwNCiAgICB7IngtYW16LXNlcnZlci1zaWRlLWVuY3J5cHRpb24iOiAiQUVT"
    "MjU2In0sDQogICAgWyJzdGFydHMtd2l0aCIsICIkeC1hbXotbWV0YS10YWciLCAiIl0sDQoNCiAgICB7IngtYW16LWNy"
    "ZWRlbnRpYWwiOiAiQUtJQUlPU0ZPRE5ON0VYQU1QTEUvMjAxNTEyMjkvdXMtZWFzdC0xL3MzL2F3czRfcmVxdWVzdCJ9"
    "LA0KICAgIHsieC1hbXotYWxnb3JpdGhtIjogIkFXUzQtSE1BQy1TSEEyNTYifSwNCiAgICB7IngtYW16LWRhdGUiOiAi"
    "MjAxNTEyMjlUMDAwMDAwWiIgfQ0KICBdDQp9"
)
EXAMPLE_SIGNATURE = "8afdbf4008c03f22c2cd3cdb72e4afbb1f6a588f3255ac628749a66d7f09699e"
EXAMPLE_FORM = {
    "key": "user/user1/${filename}",
    "acl": "public-read",
    "success_action_redirect": "http://sigv4examplebucket.s3.amazonaws.com/successful_upload.html",
    "Content-Type": "image/jpeg",
    "x-amz-meta-uuid": "14365123651274",
    "x-amz-server-side-encryption": "AES256",
    "X-Amz-Credential": "AKIAIOSFODNN7EXAMPLE/20151229/us-east-1/s3/aws4_request",
    "X-Amz-Algorithm": "AWS4-HMAC-SHA256",
    "X-Amz-Date": "20151229T000000Z",
    "x-amz-meta-tag": "",
    "Policy": EXAMPLE_POLICY,
    "X-Amz-Signature": EXAMPLE_SIGNATURE,
}


@pytest.fixture(autouse=True)
def no_aws_configuration(monkeypatch: pytest.MonkeyPatch) -> None:
    """Presigning needs no network; nothing of this machine's AWS set-up may take part."""
    monkeypatch.setenv("AWS_CONFIG_FILE", os.devnull)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", os.devnull)


def presign(
    key: str = KEY,
    fields: dict[str, str] | None = None,
    conditions: list[Any] | None = None,
    signer: Signer = UPLOADER,
    token: str | None = None,
) -> dict[str, str]:
    """A presigned POST's form fields, made by botocore (SigV4) and expiring in 900 s."""
    s3 = boto3.client(
        "s3",
        region_name=REGION,
        aws_access_key_id=signer.access_key_id,
        aws_secret_access_key=signer.secret_access_key,
        aws_session_token=token,
        config=Config(signature_version="s3v4"),
    )
    post = s3.generate_presigned_post(
        Bucket=BUCKET, Key=key, Fields=fields, Conditions=conditions, ExpiresIn=900
    )
    return post["fields"]


def product_form(content_type: str = "image/png", token: str | None = None) -> dict[str, str]:
    """The form functions/items/attachments.py hands out for an attachment of SIZE bytes."""
    signer = ROLE if token else UPLOADER
    conditions = [{"Content-Type": content_type}, ["content-length-range", 1, SIZE]]
    fields = {"Content-Type": content_type}
    return presign(fields=fields, conditions=conditions, signer=signer, token=token)


def signed(policy: dict[str, Any], fields: dict[str, str] | None = None) -> dict[str, str]:
    """Any policy document, signed by botocore's own POST signer, as a form."""
    request = AWSRequest(method="POST", url=f"https://{BUCKET}.s3.amazonaws.com/")
    request.context["s3-presign-post-fields"] = {"key": KEY, **(fields or {})}
    request.context["s3-presign-post-policy"] = policy
    credentials = Credentials(UPLOADER.access_key_id, UPLOADER.secret_access_key)
    S3SigV4PostAuth(credentials, "s3", REGION).add_auth(request)
    return request.context["s3-presign-post-fields"]


def signed_at(form: dict[str, str]) -> datetime:
    return datetime.strptime(form["x-amz-date"], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)


def expiration(form: dict[str, str]) -> datetime:
    document = json.loads(base64.b64decode(form["policy"]))
    return datetime.strptime(document["expiration"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)


def check(
    form: dict[str, str],
    size: int = SIZE,
    bucket: str = BUCKET,
    now: datetime | None = None,
    filename: str | None = "photo.png",
) -> Refusal | None:
    when = now or datetime.now(UTC)  # the forms were signed just now, for 900 s
    return check_upload(Upload(bucket, form, size, when, filename), KNOWN)


def denied(condition: str) -> Refusal:
    message = f"Invalid according to Policy: Policy Condition failed: {condition}"
    return Refusal(403, "AccessDenied", message)


def missing(name: str) -> Refusal:
    message = (
        f"Bucket POST must contain a field named '{name}'.  "
        "If it is specified, please check the order of the fields."
    )
    return Refusal(400, "InvalidArgument", message, (("ArgumentName", name), ("ArgumentValue", "")))


def test_the_products_presigned_post_is_accepted() -> None:
    """The untampered form passes every rule of sigv4-HTTPPOSTConstructPolicy.html."""
    assert check(product_form()) is None


def test_a_lambda_roles_presigned_post_with_a_session_token_is_accepted() -> None:
    """Session credentials add one x-amz-security-token field, which botocore also puts in the
    conditions (sigv4-HTTPPOSTForms.html: "If the request is using session credentials, it
    requires one x-amz-security-token form")."""
    form = product_form(token=TOKEN)
    assert form["x-amz-security-token"] == TOKEN
    assert signer_of(form) == ROLE.access_key_id
    assert check(form) is None


def test_the_session_token_is_not_exempt_from_the_policy() -> None:
    """Only x-amz-signature, file, policy and x-ignore-* need no condition
    (sigv4-HTTPPOSTConstructPolicy.html, "Conditions"): a token the policy does not name is an
    extra field, and a form without the token it names fails that condition."""
    added = {**product_form(), "x-amz-security-token": TOKEN}
    message = "Invalid according to Policy: Extra input fields: x-amz-security-token"
    assert check(added) == Refusal(403, "AccessDenied", message)

    dropped = product_form(token=TOKEN)
    del dropped["x-amz-security-token"]
    assert check(dropped) == denied(f'["eq", "$x-amz-security-token", "{TOKEN}"]')


def test_the_aws_example_form_is_accepted() -> None:
    """AWS's own example (sigv4-post-example.html): capitalized field names ("The post
    parameters are case insensitive"), an expiration with milliseconds, ${filename} in the key,
    starts-with on Content-Type and an empty prefix."""
    now = datetime(2015, 12, 29, 12, tzinfo=UTC)
    upload = Upload("sigv4examplebucket", EXAMPLE_FORM, 10, now, "C:\\Pictures\\cat.jpg")
    assert check_upload(upload, secrets([EXAMPLE_SIGNER])) is None
    assert object_key(upload) == "user/user1/cat.jpg"  # the text after the last backslash


def test_the_signature_is_the_aws_example_vector() -> None:
    """HMAC-SHA256, hex, over the base64 policy with the key of the credential's scope
    (sigv4-authentication-HTTPPOST.html); the value sigv4-post-example.html states."""
    secret = EXAMPLE_SIGNER.secret_access_key
    assert policy_signature(EXAMPLE_POLICY, secret, "20151229", "us-east-1") == EXAMPLE_SIGNATURE


def test_starts_with_an_empty_prefix_still_needs_the_field() -> None:
    """[\"starts-with\", \"$x-amz-meta-tag\", \"\"] allows any value ("Matching Any Content",
    sigv4-HTTPPOSTConstructPolicy.html), but the condition is on a field the form must send."""
    form = {name: value for name, value in EXAMPLE_FORM.items() if name != "x-amz-meta-tag"}
    upload = Upload("sigv4examplebucket", form, 10, datetime(2015, 12, 29, tzinfo=UTC))
    refusal = check_upload(upload, secrets([EXAMPLE_SIGNER]))
    assert refusal == denied('["starts-with", "$x-amz-meta-tag", ""]')


def test_one_byte_over_the_declared_size_is_entity_too_large() -> None:
    """content-length-range (sigv4-HTTPPOSTConstructPolicy.html, "Specifying Ranges");
    EntityTooLarge is 400 Bad Request (ErrorResponses.html)."""
    message = "Your proposed upload exceeds the maximum allowed size"
    details = (("ProposedSize", str(SIZE + 1)), ("MaxSizeAllowed", str(SIZE)))
    assert check(product_form(), size=SIZE + 1) == Refusal(400, "EntityTooLarge", message, details)


def test_an_empty_file_is_entity_too_small() -> None:
    """The product's range starts at 1 byte; EntityTooSmall is 400 Bad Request
    (ErrorResponses.html)."""
    message = "Your proposed upload is smaller than the minimum allowed size"
    details = (("ProposedSize", "0"), ("MinSizeAllowed", "1"))
    assert check(product_form(), size=0) == Refusal(400, "EntityTooSmall", message, details)


def test_the_size_bounds_are_inclusive() -> None:
    """\"content-length-range\", 1048576, 10485760 "allows a file size from 1 to 10 MiB"
    (sigv4-HTTPPOSTConstructPolicy.html)."""
    form = product_form()
    assert check(form, size=1) is None
    assert check(form, size=SIZE) is None


def test_another_content_type_fails_its_condition() -> None:
    """Exact match (sigv4-HTTPPOSTConstructPolicy.html, "Exact Matches"); S3 prints an object
    condition as its "eq" array."""
    form = {**product_form("image/png"), "Content-Type": "image/gif"}
    assert check(form) == denied('["eq", "$Content-Type", "image/png"]')


def test_a_key_outside_the_prefix_fails_starts_with() -> None:
    """[\"starts-with\", \"$key\", \"items/\"] (sigv4-HTTPPOSTConstructPolicy.html, "Starts
    With")."""
    form = presign(key="items/photo.png", conditions=[["starts-with", "$key", "items/"]])
    assert check(form) is None
    assert check({**form, "key": "private/photo.png"}) == denied(
        '["starts-with", "$key", "items/"]'
    )


def test_a_key_with_filename_is_matched_expanded() -> None:
    """The key is matched expanded: "All variables within the form are expanded prior to
    validating the POST policy" (sigv4-HTTPPOSTConstructPolicy.html); only the text after the
    last slash is the name (sigv4-HTTPPOSTForms.html). botocore turns such a key into a
    starts-with condition."""
    form = presign(key="items/${filename}")
    assert check(form, filename="../../etc/photo.png") is None
    upload = Upload(BUCKET, form, SIZE, signed_at(form), "../../etc/photo.png")
    assert object_key(upload) == "items/photo.png"


def test_a_changed_policy_does_not_match_its_signature() -> None:
    """The policy as sent is the string to sign (sigv4-authentication-HTTPPOST.html);
    SignatureDoesNotMatch is 403 Forbidden (ErrorResponses.html)."""
    form = product_form()
    document = json.loads(base64.b64decode(form["policy"]))
    document["conditions"][1] = ["content-length-range", 1, 10 * SIZE]
    tampered = base64.b64encode(json.dumps(document).encode()).decode()
    refusal = check({**form, "policy": tampered}, size=5 * SIZE)
    assert refusal is not None
    assert (refusal.status, refusal.code) == (403, "SignatureDoesNotMatch")
    assert ("StringToSign", tampered) in refusal.details


def test_a_removed_signature_is_a_missing_field() -> None:
    """x-amz-signature is "Required for authenticated requests" (sigv4-HTTPPOSTForms.html)."""
    form = product_form()
    del form["x-amz-signature"]
    assert check(form) == missing("X-Amz-Signature")


def test_a_signature_without_its_policy_is_a_missing_field() -> None:
    """policy is "Required for authenticated requests"; the signature is over it
    (sigv4-HTTPPOSTForms.html)."""
    form = product_form()
    del form["policy"]
    assert check(form) == missing("Policy")


@pytest.mark.parametrize("kept", [("key", "Content-Type"), ("key", "Content-Type", "policy")])
def test_a_post_without_a_signature_is_anonymous_and_refused(kept: tuple[str, ...]) -> None:
    """Without the fields of an authenticated request the POST is anonymous and "will succeed
    only if you have configured the bucket for public read and write" (sigv4-HTTPPOSTForms.html);
    no bucket of this product allows that: AccessDenied, 403 (ErrorResponses.html)."""
    form = {name: value for name, value in product_form().items() if name in kept}
    assert check(form) == Refusal(403, "AccessDenied", "Access Denied")


def test_a_post_without_a_key_is_refused() -> None:
    """key is required (sigv4-HTTPPOSTForms.html)."""
    form = product_form()
    del form["key"]
    assert check(form) == missing("key")


def test_a_wrong_secret_does_not_match() -> None:
    """The signing key is derived from the secret of the credential's access key
    (sigv4-authentication-HTTPPOST.html)."""
    form = presign(signer=Signer(UPLOADER.access_key_id, "not-the-secret"))
    refusal = check(form)
    assert refusal is not None
    assert (refusal.status, refusal.code) == (403, "SignatureDoesNotMatch")


def test_an_unknown_access_key_is_invalid() -> None:
    """InvalidAccessKeyId is 403 Forbidden (ErrorResponses.html)."""
    form = presign(signer=Signer("AKIAUNKNOWN", "whatever"))
    message = "The AWS Access Key Id you provided does not exist in our records."
    expected = Refusal(403, "InvalidAccessKeyId", message, (("AWSAccessKeyId", "AKIAUNKNOWN"),))
    assert check(form) == expected


def test_an_expired_policy_is_refused() -> None:
    """The policy "is not valid after" its expiration (sigv4-HTTPPOSTConstructPolicy.html,
    "Expiration"); the product's forms expire after 900 s."""
    form = product_form()
    ends = expiration(form)
    assert ends - signed_at(form) <= timedelta(seconds=900)
    assert check(form, now=ends) is None
    expired = "Invalid according to Policy: Policy expired."
    assert check(form, now=ends + timedelta(microseconds=1)) == Refusal(
        403, "AccessDenied", expired
    )


def test_an_extra_field_is_refused() -> None:
    """Each form field but x-amz-signature, file, policy and x-ignore-* "must appear in the
    list of conditions" (sigv4-HTTPPOSTConstructPolicy.html); S3 names it in lower case."""
    form = {**product_form(), "X-Amz-Meta-Note": "hello"}
    message = "Invalid according to Policy: Extra input fields: x-amz-meta-note"
    assert check(form) == Refusal(403, "AccessDenied", message)


def test_x_ignore_fields_need_no_condition() -> None:
    """Toolkits should "prefix x-ignore- to the field so Amazon S3 ignores" it
    (sigv4-HTTPPOSTConstructPolicy.html)."""
    assert check({**product_form(), "x-ignore-tracker": "1"}) is None


def test_a_bucket_mismatch_fails_the_bucket_condition() -> None:
    """bucket "Specifies the acceptable bucket name" (sigv4-HTTPPOSTConstructPolicy.html); it is
    the bucket posted to."""
    assert check(product_form(), bucket="other") == denied(f'["eq", "$bucket", "{BUCKET}"]')


def test_field_names_are_compared_in_any_case() -> None:
    """AWS: "The post parameters are case insensitive. For example, you can specify x-amz-signature
    or X-Amz-Signature" (sigv4-post-example.html)."""
    form = {name.upper(): value for name, value in product_form().items()}
    assert check(form) is None


def test_condition_names_are_compared_in_any_case() -> None:
    """The "$" names of conditions name the same case-insensitive fields
    (sigv4-post-example.html); values stay case-sensitive ("Exact Matches",
    sigv4-HTTPPOSTConstructPolicy.html)."""
    fields = {"Content-Type": "image/png", "X-Amz-Meta-Note": "n"}
    conditions = [["eq", "$CONTENT-TYPE", "image/png"], {"x-amz-meta-note": "n"}]
    form = presign(fields=fields, conditions=conditions)
    assert check(form) is None
    assert check({**form, "Content-Type": "IMAGE/PNG"}) == denied(
        '["eq", "$CONTENT-TYPE", "image/png"]'
    )


def test_every_content_type_of_a_list_must_start_with_the_prefix() -> None:
    """AWS: "Content-Types values for a starts-with condition that include commas are
    interpreted as lists. Each value in the list must meet the condition"
    (sigv4-HTTPPOSTConstructPolicy.html)."""
    fields = {"Content-Type": "image/png,image/gif"}
    form = presign(fields=fields, conditions=[["starts-with", "$Content-Type", "image/"]])
    assert check(form) is None
    mixed = {**form, "Content-Type": "image/png,text/html"}
    assert check(mixed) == denied('["starts-with", "$Content-Type", "image/"]')


def test_the_algorithm_must_be_signature_version_4() -> None:
    """x-amz-algorithm: "For AWS Signature Version 4, the value is AWS4-HMAC-SHA256"
    (sigv4-HTTPPOSTForms.html); InvalidRequest "Please use AWS4-HMAC-SHA256.", 400
    (ErrorResponses.html). A Signature Version 2 form is refused alike."""
    expected = Refusal(400, "InvalidRequest", "Please use AWS4-HMAC-SHA256.")
    assert check({**product_form(), "x-amz-algorithm": "AWS4-HMAC-SHA1"}) == expected
    version_2 = {
        "key": KEY,
        "AWSAccessKeyId": "AKIAUPLOADER",
        "policy": "e30=",
        "signature": "c2ln",
    }
    assert check(version_2) == expected


@pytest.mark.parametrize(
    "credential",
    [
        "AKIAUPLOADER/20240101/eu-west-1/s3",
        "/20240101/eu-west-1/s3/aws4_request",
        "AKIAUPLOADER/2024-01-01/eu-west-1/s3/aws4_request",
        "AKIAUPLOADER/20240101/eu-west-1/sqs/aws4_request",
        "AKIAUPLOADER/20240101/eu-west-1/s3/aws5_request",
    ],
)
def test_the_credential_must_be_an_s3_scope(credential: str) -> None:
    """x-amz-credential: "<your-access-key-id>/<date>/<aws-region>/<aws-service>/aws4_request
    ... For Amazon S3, the aws-service string is s3" (sigv4-HTTPPOSTForms.html);
    InvalidArgument, 400."""
    refusal = check({**product_form(), "x-amz-credential": credential})
    assert refusal is not None
    assert (refusal.status, refusal.code) == (400, "InvalidArgument")
    assert refusal.details == (("ArgumentName", "X-Amz-Credential"), ("ArgumentValue", credential))


def test_the_date_must_be_iso8601_basic() -> None:
    """x-amz-date is "the date value in ISO8601 format. For example, 20130728T000000Z"
    (sigv4-HTTPPOSTForms.html)."""
    refusal = check({**product_form(), "x-amz-date": "2024-01-01T00:00:00Z"})
    assert refusal is not None
    assert (refusal.status, refusal.code) == (400, "InvalidArgument")


@pytest.mark.parametrize(
    ("policy", "reason"),
    [
        (
            {"expiration": "2030-01-01T00:00:00+02:00", "conditions": []},
            "Invalid 'expiration' value: '2030-01-01T00:00:00+02:00'",
        ),
        ({"conditions": []}, "Policy missing expiration."),
        (
            {"expiration": "2030-01-01T00:00:00Z", "conditions": [{"key": KEY, "acl": "private"}]},
            "Invalid Simple-Condition: Simple-Conditions must have exactly one property specified.",
        ),
        (
            {"expiration": "2030-01-01T00:00:00Z", "conditions": [{"Content-Length": 5}]},
            "Invalid Simple-Condition: value must be a string.",
        ),
        (
            {
                "expiration": "2030-01-01T00:00:00Z",
                "conditions": [["content-length-range", 0, 1.5]],
            },
            "Invalid JSON.",
        ),
    ],
)
def test_a_malformed_policy_is_an_invalid_policy_document(
    policy: dict[str, Any], reason: str
) -> None:
    """AWS: "The POST policy always contains the expiration and conditions elements", the
    expiration "in ISO8601 GMT date format" (sigv4-HTTPPOSTConstructPolicy.html);
    InvalidPolicyDocument is 400 Bad Request (ErrorResponses.html)."""
    now = datetime(2029, 1, 1, tzinfo=UTC)
    refusal = check(signed(policy), now=now)
    assert refusal == Refusal(400, "InvalidPolicyDocument", f"Invalid Policy: {reason}")


def test_a_policy_that_is_not_json_is_an_invalid_policy_document() -> None:
    """The policy is "base64-encoded ... JSON" (sigv4-HTTPPOSTConstructPolicy.html); the
    signature is checked first, over the text as sent."""
    form = product_form()
    scope = form["x-amz-credential"].split("/")
    garbage = base64.b64encode(b"not json").decode()
    signature = policy_signature(garbage, UPLOADER.secret_access_key, scope[1], scope[2])
    refusal = check({**form, "policy": garbage, "x-amz-signature": signature})
    assert refusal == Refusal(400, "InvalidPolicyDocument", "Invalid Policy: Invalid JSON.")


def test_a_condition_s3_cannot_apply_fails() -> None:
    """A condition names its field with "$" ("[ \"eq\", \"$acl\", \"public-read\" ]",
    sigv4-HTTPPOSTConstructPolicy.html); one without it can never hold."""
    policy = {"expiration": "2030-01-01T00:00:00Z", "conditions": [["eq", "key", KEY]]}
    refusal = check(signed(policy), now=datetime(2029, 1, 1, tzinfo=UTC))
    assert refusal == denied(f'["eq", "key", "{KEY}"]')


def test_signer_of_names_the_credentials_access_key() -> None:
    """x-amz-credential is "<your-access-key-id>/<date>/<aws-region>/<aws-service>/aws4_request"
    (sigv4-HTTPPOSTForms.html), in any case of its name."""
    form = product_form()
    assert signer_of(form) == UPLOADER.access_key_id
    assert signer_of({"X-Amz-Credential": form["x-amz-credential"]}) == UPLOADER.access_key_id
    assert signer_of({"key": KEY}) is None
    assert signer_of({"x-amz-credential": "AKIAUPLOADER"}) is None


def test_scope_of_reads_the_signers_key_and_region() -> None:
    """The region the emulator authorizes the upload's PutObject in is the credential's."""
    form = product_form()
    scope = scope_of({"X-Amz-Credential": form["x-amz-credential"]})
    assert scope is not None
    assert (scope.access_key_id, scope.region) == (UPLOADER.access_key_id, REGION)
    assert scope_of({"x-amz-credential": "AKIAUPLOADER/2024/eu-west-1/s3/aws4_request"}) is None
