"""What a web page meets at the emulator, over real HTTP against an emulator process: a sign-in
with Cognito's own client library (amazon-cognito-identity-js, USER_SRP_AUTH, run by Node.js
from tests/integration/cognito_sign_in.cjs), the user pool endpoint's CORS, and S3's CORS from
a bucket's configuration, set through the API or by CloudFormation
(offline/cognito/srp.py, offline/enforcement/browsers.py, offline/s3/cors.py)."""

from __future__ import annotations

import json
import subprocess
import urllib.error
import urllib.request
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from offline.common.endpoint import Endpoint
from tests.templates import unique

pytestmark = pytest.mark.integration

REGION = "eu-west-1"
ROOT = Path(__file__).resolve().parents[2]
SIGN_IN = ROOT / "tests" / "integration" / "cognito_sign_in.cjs"
NODE_TIMEOUT_S = 60
ORIGIN = "http://localhost:5173"
PASSWORD = "Correct-Horse-9!"
EXPOSED = "x-amzn-RequestId,x-amzn-ErrorType,x-amzn-ErrorMessage,Date"
VARY = "Origin, Access-Control-Request-Headers, Access-Control-Request-Method"


@pytest.fixture
def client(emulator_url: str) -> Callable[[str], Any]:
    def make(service: str, **config: Any) -> Any:
        return Endpoint(emulator_url).client(service, REGION, **config)

    return make


def http(
    url: str, method: str, headers: dict[str, str], body: bytes | None = None
) -> tuple[int, dict[str, str], bytes]:
    """One request as a browser sends it (no signature); the status, headers (lower-case
    names) and body, whatever the status."""
    request = urllib.request.Request(url, data=body, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, {k.lower(): v for k, v in response.headers.items()}, (
                response.read())  # fmt: skip
    except urllib.error.HTTPError as error:
        return error.code, {k.lower(): v for k, v in error.headers.items()}, error.read()


def cors_of(headers: dict[str, str]) -> dict[str, str]:
    return {k: v for k, v in headers.items() if k.startswith("access-control-") or k == "vary"}


# --- Signing in with Cognito's client library ----------------------------------------------------


def pool_with_user(cognito: Any, username: str, **settings: Any) -> tuple[str, str]:
    """A pool whose app client allows USER_SRP_AUTH only (the template's), and a user with a
    permanent password: the pool's and the client's ids."""
    pool = cognito.create_user_pool(PoolName=unique("pool"), **settings)["UserPool"]["Id"]
    client_id = cognito.create_user_pool_client(
        UserPoolId=pool, ClientName="web", GenerateSecret=False,
        ExplicitAuthFlows=["ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
    )["UserPoolClient"]["ClientId"]  # fmt: skip
    cognito.admin_create_user(UserPoolId=pool, Username=username, MessageAction="SUPPRESS")
    cognito.admin_set_user_password(UserPoolId=pool, Username=username, Password=PASSWORD,
                                    Permanent=True)  # fmt: skip
    return pool, client_id


def library_sign_in(
    emulator_url: str, pool: str, client_id: str, username: str, password: str
) -> dict[str, Any]:
    run = subprocess.run(
        ["node", str(SIGN_IN), emulator_url, pool, client_id, username, password],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=NODE_TIMEOUT_S,
    )
    assert run.returncode == 0, run.stderr
    return dict(json.loads(run.stdout.strip().splitlines()[-1]))


def test_cognitos_library_signs_in_with_the_right_password_only(
    client: Callable, emulator_url: str
) -> None:
    cognito = client("cognito-idp")
    pool, client_id = pool_with_user(cognito, "ann")
    signed = library_sign_in(emulator_url, pool, client_id, "ann", PASSWORD)
    assert signed["outcome"] == "tokens", signed
    assert cognito.get_user(AccessToken=signed["accessToken"])["Username"] == "ann"
    refused = library_sign_in(emulator_url, pool, client_id, "ann", PASSWORD + "!")
    assert refused == {
        "outcome": "refused",
        "code": "NotAuthorizedException",
        "message": "Incorrect username or password.",
    }


def test_with_mfa_required_the_library_is_asked_to_set_up_totp(
    client: Callable, emulator_url: str
) -> None:
    cognito = client("cognito-idp")
    pool, client_id = pool_with_user(cognito, "bo", MfaConfiguration="ON")
    cognito.set_user_pool_mfa_config(UserPoolId=pool, MfaConfiguration="ON",
                                     SoftwareTokenMfaConfiguration={"Enabled": True})  # fmt: skip
    signed = library_sign_in(emulator_url, pool, client_id, "bo", PASSWORD)
    assert signed == {"outcome": "challenge", "challenge": "MFA_SETUP"}
    wrong = library_sign_in(emulator_url, pool, client_id, "bo", "Not-The-Password-1!")
    assert wrong["code"] == "NotAuthorizedException"


# --- The user pool endpoint's CORS ---------------------------------------------------------------


def test_the_user_pool_endpoint_answers_a_preflight_as_cognito_does(emulator_url: str) -> None:
    requested = "cache-control,content-type,x-amz-target,x-amz-user-agent"
    status, headers, content = http(f"{emulator_url}/", "OPTIONS", {
        "Origin": ORIGIN, "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": requested,
    })  # fmt: skip
    assert (status, content) == (200, b"")
    assert cors_of(headers) == {
        "access-control-allow-origin": "*",
        "access-control-allow-headers": requested,
        "access-control-allow-methods": "POST",
        "access-control-expose-headers": EXPOSED,
        "access-control-max-age": "172800",
    }


def test_a_call_from_a_page_carries_the_user_pools_cors_headers(emulator_url: str) -> None:
    """moto allowed the calling origin on every answer, and `*` without one."""
    call = {"Content-Type": "application/x-amz-json-1.1",
            "X-Amz-Target": "AWSCognitoIdentityProviderService.InitiateAuth"}  # fmt: skip
    body = json.dumps({"ClientId": "nosuchclient", "AuthFlow": "USER_SRP_AUTH",
                       "AuthParameters": {"USERNAME": "x", "SRP_A": "2"}}).encode()  # fmt: skip
    status, headers, _ = http(f"{emulator_url}/", "POST", {**call, "Origin": ORIGIN}, body)
    assert status == 400  # an error answer too
    assert cors_of(headers) == {
        "access-control-allow-origin": "*",
        "access-control-expose-headers": EXPOSED,
    }
    _, without_origin, _ = http(f"{emulator_url}/", "POST", call, body)
    assert cors_of(without_origin) == {}


# --- S3's CORS ---------------------------------------------------------------------------------


@pytest.fixture
def bucket(client: Callable) -> str:
    """A bucket whose first rule lets the page POST and PUT, the second anyone GET."""
    s3 = client("s3")
    name = f"cors-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": REGION})
    s3.put_bucket_cors(Bucket=name, CORSConfiguration={"CORSRules": [
        {"AllowedOrigins": [ORIGIN, "https://*.example.com"], "AllowedMethods": ["POST", "PUT"],
         "AllowedHeaders": ["content-type", "x-amz-*"], "ExposeHeaders": ["ETag"],
         "MaxAgeSeconds": 600},
        {"AllowedOrigins": ["*"], "AllowedMethods": ["GET"]},
    ]})  # fmt: skip
    s3.put_object(Bucket=name, Key="photo.png", Body=b"png")
    return name


def preflight(url: str, origin: str | None, method: str | None, headers: str | None = None
              ) -> tuple[int, dict[str, str], bytes]:  # fmt: skip
    asked = {"Origin": origin, "Access-Control-Request-Method": method,
             "Access-Control-Request-Headers": headers}  # fmt: skip
    return http(url, "OPTIONS", {k: v for k, v in asked.items() if v is not None})


def test_a_preflight_is_answered_by_the_first_rule_that_allows_it(
    emulator_url: str, bucket: str
) -> None:
    url = f"{emulator_url}/{bucket}/photo.png"
    status, headers, content = preflight(url, ORIGIN, "PUT", "Content-Type,X-Amz-Meta-Album")
    assert (status, content) == (200, b"")
    assert cors_of(headers) == {
        "access-control-allow-origin": ORIGIN,
        "access-control-allow-methods": "POST, PUT",
        "access-control-allow-headers": "content-type, x-amz-meta-album",
        "access-control-expose-headers": "ETag",
        "access-control-max-age": "600",
        "access-control-allow-credentials": "true",
        "vary": VARY,
    }
    status, headers, _ = preflight(url, "https://shop.example.com", "POST")
    assert (status, headers["access-control-allow-origin"]) == (200, "https://shop.example.com")
    status, headers, _ = preflight(url, "http://anyone.test", "GET")
    assert cors_of(headers) == {
        "access-control-allow-origin": "*",
        "access-control-allow-methods": "GET",
        "vary": VARY,
    }


@pytest.mark.parametrize(
    ("origin", "method", "headers"),
    [
        ("http://evil.test", "POST", None),  # no rule allows the origin
        (ORIGIN, "DELETE", None),  # nor the method
        (ORIGIN, "PUT", "authorization"),  # nor every requested header
        ("https://example.com", "POST", None),  # `*.` needs a subdomain
    ],
)
def test_a_preflight_no_rule_allows_is_refused_in_s3s_words(
    emulator_url: str, bucket: str, origin: str, method: str, headers: str | None
) -> None:
    status, answered, content = preflight(f"{emulator_url}/{bucket}/photo.png", origin, method,
                                          headers)  # fmt: skip
    assert status == 403
    assert cors_of(answered) == {}
    error = ET.fromstring(content)
    assert error.findtext("Code") == "AccessForbidden"
    assert (error.findtext("Message") or "").startswith(
        "CORSResponse: This CORS request is not allowed."
    )
    assert (error.findtext("Method"), error.findtext("ResourceType")) == (method, "OBJECT")


def test_a_preflight_without_an_origin_a_configuration_or_a_bucket_is_refused(
    client: Callable, emulator_url: str, bucket: str
) -> None:
    status, _, content = preflight(f"{emulator_url}/{bucket}/photo.png", None, "POST")
    assert status == 400
    assert ET.fromstring(content).findtext("Code") == "BadRequest"
    bare = f"bare-{uuid.uuid4().hex[:12]}"
    located = {"LocationConstraint": REGION}
    client("s3").create_bucket(Bucket=bare, CreateBucketConfiguration=located)
    status, _, content = preflight(f"{emulator_url}/{bare}", ORIGIN, "POST")
    assert status == 403
    assert ET.fromstring(content).findtext("Message") == (
        "CORSResponse: CORS is not enabled for this bucket.")  # fmt: skip
    status, _, content = preflight(f"{emulator_url}/no-{bare}/k", ORIGIN, "POST")
    assert status == 403
    assert ET.fromstring(content).findtext("Message") == "CORSResponse: Bucket not found"


def test_an_answer_carries_cors_headers_only_for_an_origin_a_rule_allows(
    client: Callable, bucket: str
) -> None:
    """moto added `Access-Control-Allow-Origin: *` to an answer without an Origin, and
    allowed any origin on every other."""
    s3 = client("s3", signature_version="s3v4")
    get = s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "photo.png"})
    status, headers, content = http(get, "GET", {})
    assert (status, content, cors_of(headers)) == (200, b"png", {})
    _, headers, _ = http(get, "GET", {"Origin": ORIGIN})  # the second rule: anyone may GET
    assert (headers["access-control-allow-origin"], headers["vary"]) == ("*", VARY)
    put = s3.generate_presigned_url("put_object", Params={"Bucket": bucket, "Key": "other"})
    status, headers, _ = http(put, "PUT", {"Origin": "http://evil.test"}, b"x")
    assert (status, cors_of(headers)) == (200, {})  # served, but not to that page
    status, headers, _ = http(put, "PUT", {"Origin": ORIGIN}, b"y")
    assert status == 200
    assert headers["access-control-allow-origin"] == ORIGIN
    assert headers["access-control-expose-headers"] == "ETag"


def test_a_browsers_form_upload_gets_the_buckets_cors_headers(
    client: Callable, bucket: str
) -> None:
    post = client("s3", signature_version="s3v4").generate_presigned_post(bucket, "upload.png")
    boundary = uuid.uuid4().hex
    parts = [f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'
             for name, value in post["fields"].items()]  # fmt: skip
    parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
                 f'filename="upload.png"\r\n\r\npng\r\n--{boundary}--\r\n')  # fmt: skip
    status, headers, _ = http(
        post["url"], "POST",
        {"Content-Type": f"multipart/form-data; boundary={boundary}", "Origin": ORIGIN},
        "".join(parts).encode(),
    )  # fmt: skip
    assert status in (200, 204)
    assert headers["access-control-allow-origin"] == ORIGIN
    assert headers["access-control-expose-headers"] == "ETag"


def test_cloudformation_sets_a_buckets_cors_configuration(client: Callable) -> None:
    """AWS::S3::Bucket's CorsConfiguration, on create and on update."""
    cloudformation, s3, stack = client("cloudformation"), client("s3"), unique("cors")
    name = f"cfn-cors-{uuid.uuid4().hex[:12]}"

    def template(origins: list[str]) -> str:
        rules = [{"AllowedMethods": ["POST"], "AllowedOrigins": origins,
                  "ExposedHeaders": ["ETag"], "MaxAge": 600}]  # fmt: skip
        return json.dumps({"Resources": {"Assets": {
            "Type": "AWS::S3::Bucket",
            "Properties": {"BucketName": name, "CorsConfiguration": {"CorsRules": rules}},
        }}})  # fmt: skip

    for kind, origins in (("CREATE", [ORIGIN]), ("UPDATE", ["https://app.example.com"])):
        change_set = cloudformation.create_change_set(
            StackName=stack, ChangeSetName=unique("cs"), ChangeSetType=kind,
            TemplateBody=template(origins),
        )  # fmt: skip
        cloudformation.execute_change_set(ChangeSetName=change_set["Id"])
        assert s3.get_bucket_cors(Bucket=name)["CORSRules"] == [{
            "AllowedMethods": ["POST"], "AllowedOrigins": origins, "ExposeHeaders": ["ETag"],
            "MaxAgeSeconds": 600,
        }]  # fmt: skip
