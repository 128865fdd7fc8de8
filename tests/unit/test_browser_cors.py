"""CORS as a browser meets it at the emulator: a bucket's rules evaluated as S3 evaluates them
(offline/s3/cors.py), and the gate answering preflights and giving each answer its headers
(offline/enforcement/browsers.py) in place of moto's, which allow every origin. The gate runs
here in-process in front of a stand-in for moto that answers as moto's CORS layer does;
tests/integration/test_emulator_browsers.py sends the same over real HTTP."""

from __future__ import annotations

import io
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from offline.enforcement import gate
from offline.iam.audit import Audit
from offline.s3 import cors

ORIGIN = "http://localhost:5173"
EXPOSED = "x-amzn-RequestId,x-amzn-ErrorType,x-amzn-ErrorMessage,Date"
RULES = [
    cors.Rule((ORIGIN, "https://*.example.com"), ("POST", "PUT"), ("content-type", "x-amz-*"),
              ("ETag",), 600),
    cors.Rule(("*",), ("GET",)),
]  # fmt: skip


# --- The evaluation ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pattern", "value", "matched"),
    [
        ("http://localhost:5173", "http://localhost:5173", True),
        ("http://localhost:5173", "http://localhost:5174", False),
        ("http://localhost:5173", "http://localhost:5173/", False),
        ("https://*.example.com", "https://app.example.com", True),
        ("https://*.example.com", "https://example.com", False),
        ("https://*.example.com", "http://app.example.com", False),
        ("*", "null", True),
        ("prefix*", "prefix", True),  # `*` matches the empty run too
        ("*suffix", "x.suffix.get", False),  # anchored at both ends
    ],
)
def test_a_pattern_holds_one_wildcard_anchored_at_both_ends(
    pattern: str, value: str, matched: bool
) -> None:
    assert cors.matches(pattern, value) is matched


def test_the_first_rule_that_matches_origin_method_and_every_header_is_used() -> None:
    assert cors.first_match(RULES, ORIGIN, "POST", ["content-type", "x-amz-meta-a"]) is RULES[0]
    assert cors.first_match(RULES, "https://app.example.com", "PUT", []) is RULES[0]
    assert cors.first_match(RULES, ORIGIN, "GET", []) is RULES[1]  # the second rule's method
    assert cors.first_match(RULES, ORIGIN, "POST", ["authorization"]) is None  # one header
    assert cors.first_match(RULES, ORIGIN, "DELETE", []) is None
    assert cors.first_match(RULES, "http://evil.example", "POST", []) is None
    assert cors.requested_headers(" Content-Type,X-Amz-Date ,") == ["content-type", "x-amz-date"]


class Bucket:
    """moto's bucket, as far as its CORS configuration goes."""

    def __init__(self, *rules: dict[str, Any]) -> None:
        self.cors = [type("CorsRule", (), rule)() for rule in rules]


def moto_rule(**fields: Any) -> dict[str, Any]:
    return {"allowed_origins": None, "allowed_methods": None, "allowed_headers": None,
            "exposed_headers": None, "max_age_seconds": None, **fields}  # fmt: skip


def test_a_preflight_is_refused_in_s3s_words() -> None:
    configured = Bucket(moto_rule(allowed_origins=[ORIGIN], allowed_methods=["POST"]))
    assert cors.preflight(configured, "k", None, "POST", []) == cors.Refused(
        400, "BadRequest", "Insufficient information. Origin request header needed."
    )
    assert cors.preflight(None, "k", ORIGIN, "POST", []) == cors.Refused(
        403, "AccessForbidden", "CORSResponse: Bucket not found",
        (("Method", "POST"), ("ResourceType", "BUCKET")),
    )  # fmt: skip
    assert cors.preflight(Bucket(), "k", ORIGIN, "POST", []) == cors.Refused(
        403, "AccessForbidden", "CORSResponse: CORS is not enabled for this bucket.",
        (("Method", "POST"), ("ResourceType", "BUCKET")),
    )  # fmt: skip
    refused = cors.preflight(configured, "k", ORIGIN, "PUT", [])
    assert isinstance(refused, cors.Refused)
    assert refused.message.startswith("CORSResponse: This CORS request is not allowed.")
    assert refused.details == (("Method", "PUT"), ("ResourceType", "OBJECT"))
    no_method = cors.preflight(configured, "", ORIGIN, None, [])
    assert isinstance(no_method, cors.Refused)
    assert no_method.details == (("Method", "OPTIONS"), ("ResourceType", "BUCKET"))


def test_an_allowed_preflight_gets_the_rules_headers() -> None:
    bucket = Bucket(moto_rule(allowed_origins=[ORIGIN], allowed_methods=["POST", "PUT"],
                              allowed_headers=["Content-Type"], exposed_headers=["ETag"],
                              max_age_seconds="600"))  # fmt: skip
    assert cors.preflight(bucket, "k", ORIGIN, "POST", ["content-type"]) == [
        ("Access-Control-Allow-Origin", ORIGIN),
        ("Access-Control-Allow-Methods", "POST, PUT"),
        ("Access-Control-Allow-Headers", "content-type"),
        ("Access-Control-Expose-Headers", "ETag"),
        ("Access-Control-Max-Age", "600"),
        ("Access-Control-Allow-Credentials", "true"),
        ("Vary", "Origin, Access-Control-Request-Headers, Access-Control-Request-Method"),
    ]
    everyone = Bucket(moto_rule(allowed_origins=["*"], allowed_methods=["GET"]))
    assert cors.preflight(everyone, "k", ORIGIN, "GET", []) == [
        ("Access-Control-Allow-Origin", "*"),
        ("Access-Control-Allow-Methods", "GET"),
        ("Vary", "Origin, Access-Control-Request-Headers, Access-Control-Request-Method"),
    ]


def test_a_request_that_is_not_a_preflight_gets_headers_only_from_a_matching_rule() -> None:
    bucket = Bucket(moto_rule(allowed_origins=[ORIGIN], allowed_methods=["POST"],
                              exposed_headers=["ETag"]))  # fmt: skip
    answered = dict(cors.actual(bucket, ORIGIN, "POST", []))
    assert answered["Access-Control-Allow-Origin"] == ORIGIN
    assert answered["Access-Control-Expose-Headers"] == "ETag"
    assert "Access-Control-Allow-Headers" not in answered
    assert cors.actual(bucket, None, "POST", []) == []  # no Origin: not a CORS request
    assert cors.actual(bucket, "http://evil.example", "POST", []) == []
    assert cors.actual(bucket, ORIGIN, "GET", []) == []
    assert cors.actual(Bucket(), ORIGIN, "POST", []) == []
    assert cors.actual(None, ORIGIN, "POST", []) == []


# --- The gate in front of moto -----------------------------------------------------------------

# What moto's server adds to every answer (flask-cors): the origin allowed, whoever it is.
MOTO_CORS = [
    ("Access-Control-Allow-Origin", "*"),
    ("Vary", "Origin"),
    ("Access-Control-Allow-Methods", "DELETE, GET, HEAD, OPTIONS, PATCH, POST, PUT"),
]


class Moto:
    """Stands in for moto's server: records what reaches it, answers 200 with moto's CORS."""

    def __init__(self) -> None:
        self.served: list[str] = []

    def __call__(self, environ: dict[str, Any], start_response: Any) -> list[bytes]:
        self.served.append(f"{environ['REQUEST_METHOD']} {environ['PATH_INFO']}")
        start_response("200 OK", [("Content-Type", "application/json"), *MOTO_CORS])
        return [b"{}"]


@pytest.fixture
def bucket() -> Iterator[str]:
    with mock_aws():
        name = f"assets-{uuid.uuid4().hex[:8]}"
        s3 = boto3.client("s3", region_name="us-east-1")
        s3.create_bucket(Bucket=name)
        s3.put_bucket_cors(Bucket=name, CORSConfiguration={"CORSRules": [
            {"AllowedMethods": ["POST"], "AllowedOrigins": [ORIGIN], "ExposeHeaders": ["ETag"],
             "MaxAgeSeconds": 600},
        ]})  # fmt: skip
        yield name


def call(
    app: Any, method: str, path: str, headers: dict[str, str], body: bytes = b""
) -> tuple[int, dict[str, str], bytes]:
    environ = {
        "REQUEST_METHOD": method, "PATH_INFO": path, "QUERY_STRING": "", "RAW_URI": path,
        "SERVER_NAME": "127.0.0.1", "SERVER_PORT": "5000", "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(body), "CONTENT_LENGTH": str(len(body)),
        "REMOTE_ADDR": "127.0.0.1",
        **{"HTTP_" + name.upper().replace("-", "_"): value for name, value in headers.items()},
    }  # fmt: skip
    if "HTTP_CONTENT_TYPE" in environ:
        environ["CONTENT_TYPE"] = environ.pop("HTTP_CONTENT_TYPE")
    answered: dict[str, Any] = {}

    def start_response(status: str, response_headers: list[tuple[str, str]], *_: Any) -> None:
        answered["status"] = int(status.split()[0])
        answered["headers"] = dict(response_headers)

    content = b"".join(app(environ, start_response))
    return answered["status"], answered["headers"], content


def cors_headers(headers: dict[str, str]) -> dict[str, str]:
    return {k: v for k, v in headers.items() if k.lower().startswith("access-control-")
            or k.lower() == "vary"}  # fmt: skip


def test_the_user_pools_preflight_is_answered_by_the_gate(bucket: str) -> None:
    moto = Moto()
    requested = "cache-control,content-type,x-amz-target,x-amz-user-agent"
    status, headers, content = call(gate.Enforcement(moto, Audit(None)), "OPTIONS", "/", {
        "Origin": ORIGIN, "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": requested,
    })  # fmt: skip
    assert (status, content, moto.served) == (200, b"", [])
    assert cors_headers(headers) == {
        "Access-Control-Allow-Origin": "*",
        "Access-Control-Allow-Headers": requested,
        "Access-Control-Allow-Methods": "POST",
        "Access-Control-Expose-Headers": EXPOSED,
        "Access-Control-Max-Age": "172800",
    }


def test_a_user_pool_call_carries_cognitos_headers_and_no_others(bucket: str) -> None:
    enforcement = gate.Enforcement(Moto(), Audit(None))
    target = {"X-Amz-Target": "AWSCognitoIdentityProviderService.InitiateAuth",
              "Content-Type": "application/x-amz-json-1.1"}  # fmt: skip
    _, from_page, _ = call(enforcement, "POST", "/", {**target, "Origin": ORIGIN}, b"{}")
    assert cors_headers(from_page) == {
        "Access-Control-Allow-Origin": "*",
        "Access-Control-Expose-Headers": EXPOSED,
    }
    _, not_from_page, _ = call(enforcement, "POST", "/", target, b"{}")
    assert cors_headers(not_from_page) == {}
    # An operation refused unsigned carries them too.
    refused = {**target, "X-Amz-Target": "AWSCognitoIdentityProviderService.AdminGetUser"}
    status, headers, _ = call(enforcement, "POST", "/", {**refused, "Origin": ORIGIN}, b"{}")
    assert status == 400
    assert headers["Access-Control-Allow-Origin"] == "*"


def test_an_s3_preflight_is_answered_from_the_bucket_unsigned(bucket: str) -> None:
    moto = Moto()
    enforcement = gate.Enforcement(moto, Audit(None))
    asked = {"Origin": ORIGIN, "Access-Control-Request-Method": "POST"}
    status, headers, _ = call(enforcement, "OPTIONS", f"/{bucket}", asked)
    assert status == 200
    assert headers["Access-Control-Allow-Origin"] == ORIGIN
    assert headers["Access-Control-Max-Age"] == "600"
    status, headers, content = call(enforcement, "OPTIONS", f"/{bucket}/k",
                                    {**asked, "Origin": "http://evil.example"})  # fmt: skip
    assert status == 403
    assert cors_headers(headers) == {}
    error = ET.fromstring(content)
    assert error.findtext("Code") == "AccessForbidden"
    assert error.findtext("Method") == "POST"
    assert error.findtext("ResourceType") == "OBJECT"
    assert moto.served == []


def test_motos_cors_headers_give_way_to_the_buckets(bucket: str) -> None:
    """An S3 answer carries CORS headers only for an Origin a rule allows, with that rule's
    headers; moto's blanket ones are dropped."""
    enforcement = gate.Enforcement(Moto(), Audit(None))
    form = {"Content-Type": "multipart/form-data; boundary=x"}
    # (A form that is not well formed is refused before moto: the refusal carries them too.)
    _, allowed, _ = call(enforcement, "POST", f"/{bucket}", {**form, "Origin": ORIGIN}, b"--x--")
    assert cors_headers(allowed) == {
        "Access-Control-Allow-Origin": ORIGIN,
        "Access-Control-Allow-Methods": "POST",
        "Access-Control-Expose-Headers": "ETag",
        "Access-Control-Max-Age": "600",
        "Access-Control-Allow-Credentials": "true",
        "Vary": "Origin, Access-Control-Request-Headers, Access-Control-Request-Method",
    }
    _, foreign, _ = call(enforcement, "POST", f"/{bucket}", {**form, "Origin": "http://x.y"},
                         b"--x--")  # fmt: skip
    assert cors_headers(foreign) == {}
    _, no_origin, _ = call(enforcement, "GET", "/moto-api/", {})
    assert "Access-Control-Allow-Origin" in no_origin  # the emulator's own page: moto's
