"""SigV4 signatures checked as AWS checks them (offline/enforcement/sigv4.py).

The requests are the ones botocore really produces: what boto3 clients send (signed here by
botocore's CRT signer, since awscrt is installed), what botocore's Python signers
(`SigV4Auth`, `S3SigV4Auth`, `SigV4QueryAuth`, `S3SigV4QueryAuth`) produce from an
`AWSRequest`, and the S3 API Reference's own worked examples; each presented as werkzeug's
server presents it to the WSGI app (a round trip on loopback checks that). Every one verifies;
every tampering is caught as its kind, and answered as the service answers it.

Pages:
- https://docs.aws.amazon.com/AmazonS3/latest/API/sig-v4-header-based-auth.html (examples)
- https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-query-string-auth.html (example)
- https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-streaming.html (example)
- https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-streaming-trailers.html
- https://docs.aws.amazon.com/STS/latest/APIReference/CommonErrors.html
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import io
import threading
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any
from urllib.parse import unquote, urlsplit

import pytest
from botocore.auth import S3SigV4Auth, S3SigV4QueryAuth, SigV4Auth, SigV4QueryAuth
from botocore.awsrequest import AWSRequest, AWSResponse, HTTPHeaders
from botocore.config import Config
from botocore.credentials import Credentials
from botocore.exceptions import ClientError
from werkzeug.serving import WSGIRequestHandler, make_server
from werkzeug.test import EnvironBuilder

from offline.common.endpoint import new_client
from offline.enforcement import sigv4

KEY, SECRET = "AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
TOKEN = "session-token/+=="
REGION = "eu-west-1"
URL = "http://127.0.0.1:5000"
TIMEOUT = 5  # seconds, for everything that talks over a socket


# ------------------------------------------------------------------------ requests as sent


@dataclass
class Arrived:
    """A request as werkzeug's server presents it to the WSGI app, and its body."""

    environ: dict[str, Any]
    body: bytes


def arrived(method: str, url: str, headers: dict[str, str], body: bytes) -> Arrived:
    """What werkzeug's server makes of a request sent to `url`: RAW_URI is the request target
    as sent, PATH_INFO its decoded path, each header HTTP_* as sent (Content-Type and
    Content-Length without the prefix), and a Host header as the HTTP client adds it."""
    split = urlsplit(url)
    target = split.path + (f"?{split.query}" if split.query else "")
    environ = EnvironBuilder(method=method, path=unquote(split.path), query_string=split.query,
                             data=body).get_environ()  # fmt: skip
    for key in [key for key in environ if key.startswith("HTTP_")]:
        del environ[key]
    environ["RAW_URI"] = environ["REQUEST_URI"] = target
    sent = dict(headers)
    if not any(name.lower() == "host" for name in sent):
        sent["Host"] = split.netloc
    for name, value in sent.items():
        key = name.upper().replace("-", "_")
        environ[key if key in ("CONTENT_TYPE", "CONTENT_LENGTH") else f"HTTP_{key}"] = value
    return Arrived(environ, body)


def _text(value: str | bytes) -> str:
    return value.decode() if isinstance(value, bytes) else value


def _bytes(body: Any) -> bytes:
    if body is None:
        return b""
    if hasattr(body, "read"):
        body.seek(0)
        return bytes(body.read())
    return body if isinstance(body, bytes) else str(body).encode()


def signed_by_python(request: AWSRequest, body: bytes = b"") -> Arrived:
    """A request botocore's Python signer signed (AWSRequest), as it arrives."""
    headers = {name: _text(value) for name, value in request.headers.items()}
    return arrived(str(request.method), str(request.url), headers, body)


def sent(request: Any) -> Arrived:
    """A request botocore prepared (AWSPreparedRequest), as it arrives."""
    headers = {name: _text(value) for name, value in request.headers.items()}
    return arrived(request.method, request.url, headers, _bytes(request.body))


class Captured(Exception):
    def __init__(self, request: Any) -> None:
        super().__init__("captured")
        self.request = request


def client(service: str, token: str | None = None, **config: Any) -> Any:
    return new_client(
        service, region_name=REGION, endpoint_url=URL, aws_access_key_id=KEY,
        aws_secret_access_key=SECRET, aws_session_token=token,
        config=Config(retries={"total_max_attempts": 1}, connect_timeout=TIMEOUT,
                      read_timeout=TIMEOUT, **config),
    )  # fmt: skip


def capture(service: str, call: Callable[[Any], Any], token: str | None = None) -> Arrived:
    """The request a boto3 client sends for `call`, stopped by botocore's before-send hook."""
    made = client(service, token)

    def stop(request: Any, **_: Any) -> None:
        raise Captured(request)

    made.meta.events.register("before-send", stop)
    with pytest.raises(Captured) as captured:
        call(made)
    return sent(captured.value.request)


class _Raw:
    def stream(self, **_: Any) -> Iterator[bytes]:
        yield b""


def record(made: Any) -> list[Arrived]:
    """Every request `made` sends from now on, answered 200 without leaving the process (for
    calls that make several requests, or run them on threads: upload_fileobj)."""
    seen: list[Arrived] = []

    def answer(request: Any, **_: Any) -> AWSResponse:
        seen.append(sent(request))
        return AWSResponse(request.url, 200, HTTPHeaders.from_pairs([("ETag", '"e"')]), _Raw())

    made.meta.events.register("before-send", answer)
    return seen


def kind(request: Arrived, secret: str = SECRET, token: str | None = None,
         now: datetime | None = None) -> str | None:  # fmt: skip
    """None when the request verifies; else the kind of its failure."""
    failure = failure_of(request, secret, token, now)
    return failure.kind if failure else None


def failure_of(request: Arrived, secret: str = SECRET, token: str | None = None,
               now: datetime | None = None) -> sigv4.Failure | None:  # fmt: skip
    signature = sigv4.signature_of(request.environ)
    assert signature is not None
    moment = now or signature.signed_at
    return sigv4.verify(request.environ, request.body, signature, secret, token, moment)


def answer(request: Arrived, failure: sigv4.Failure | None) -> tuple[int, str]:
    signature = sigv4.signature_of(request.environ)
    assert signature is not None
    protocol = sigv4.protocol_of(request.environ, request.body, signature.service)
    status, code, _ = sigv4.error_for(signature.service, protocol, failure)
    return status, code


# ------------------------------------------------------------------------ what boto3 sends

REQUESTS: dict[str, tuple[str, Callable[[Any], Any]]] = {
    "dynamodb-get-item": ("dynamodb", lambda c: c.get_item(TableName="t", Key={"id": {"S": "ü"}})),
    "ssm-get-parameter": ("ssm", lambda c: c.get_parameter(Name="/a/b c", WithDecryption=True)),
    "kms-encrypt": ("kms", lambda c: c.encrypt(KeyId="alias/k", Plaintext=b"\x00\xff")),
    "logs-put-events": ("logs", lambda c: c.put_log_events(
        logGroupName="/aws/lambda/f", logStreamName="s",
        logEvents=[{"timestamp": 1, "message": "ü"}])),
    "sts-caller": ("sts", lambda c: c.get_caller_identity()),
    "sts-assume-role": ("sts", lambda c: c.assume_role(
        RoleArn="arn:aws:iam::123456789012:role/r", RoleSessionName="s+1/2")),
    "lambda-get-function-arn": ("lambda", lambda c: c.get_function(
        FunctionName="arn:aws:lambda:eu-west-1:123456789012:function:f", Qualifier="$LATEST")),
    "lambda-invoke": ("lambda", lambda c: c.invoke(FunctionName="f", Payload=b'{"a": "b c"}')),
    "s3-put": ("s3", lambda c: c.put_object(Bucket="b", Key="items/a b+c/ü:%2F.png",
                                            Body=b"x" * 70, ContentType="image/png",
                                            ACL="private", Metadata={"tag": " a  b "})),
    "s3-get": ("s3", lambda c: c.get_object(
        Bucket="b", Key="k ü", Range="bytes=0-9", ResponseContentType="text/plain",
        ResponseContentDisposition='attachment; filename="a b"')),
    "s3-head": ("s3", lambda c: c.head_object(Bucket="b", Key="k")),
    "s3-delete": ("s3", lambda c: c.delete_object(Bucket="b", Key="dir/k")),
    "s3-list": ("s3", lambda c: c.list_objects_v2(Bucket="b", Prefix="items/a b", Delimiter="/")),
    "s3-copy": ("s3", lambda c: c.copy_object(Bucket="b", Key="to",
                                              CopySource={"Bucket": "b", "Key": "from ü"})),
    "s3-multipart": ("s3", lambda c: c.create_multipart_upload(Bucket="b", Key="big")),
    "s3-delete-objects": ("s3", lambda c: c.delete_objects(
        Bucket="b", Delete={"Objects": [{"Key": "a"}, {"Key": "b c"}]})),
}  # fmt: skip


@pytest.mark.parametrize("name", REQUESTS)
@pytest.mark.parametrize("token", [None, TOKEN], ids=["long-term", "session"])
def test_what_a_boto3_client_sends_verifies(name: str, token: str | None) -> None:
    service, call = REQUESTS[name]
    request = capture(service, call, token)
    signature = sigv4.signature_of(request.environ)
    assert signature is not None and not signature.in_query
    assert (signature.access_key, signature.service, signature.region) == (KEY, service, REGION)
    assert signature.session_token == token
    assert kind(request, token=token) is None
    assert kind(request, secret=SECRET[:-1], token=token) == sigv4.MISMATCH


@pytest.mark.parametrize("name", REQUESTS)
def test_any_change_to_what_was_signed_is_a_mismatch(name: str) -> None:
    """The method, the path, the query and the body all count (a body changed under S3's
    payload hash is its own kind, below)."""
    service, call = REQUESTS[name]
    request = capture(service, call)
    raw = request.environ["RAW_URI"]
    changes: list[Callable[[Arrived], None]] = [
        lambda r: r.environ.update(REQUEST_METHOD="PATCH"),
        lambda r: r.environ.update(RAW_URI=raw.replace("/", "/x", 1)),
        lambda r: r.environ.update(RAW_URI=raw + ("&" if "?" in raw else "?") + "extra=1"),
    ]
    if service != "s3":
        changes.append(lambda r: setattr(r, "body", r.body + b" "))
    for change in changes:
        tampered = Arrived(dict(request.environ), request.body)
        change(tampered)
        assert kind(tampered) == sigv4.MISMATCH


def test_a_changed_signed_header_or_query_value_is_a_mismatch() -> None:
    dynamodb = capture("dynamodb", REQUESTS["dynamodb-get-item"][1])
    dynamodb.environ["HTTP_X_AMZ_TARGET"] = "DynamoDB_20120810.DeleteItem"
    assert kind(dynamodb) == sigv4.MISMATCH
    listing = capture("s3", REQUESTS["s3-list"][1])
    assert "prefix=items%2Fa%20b" in listing.environ["RAW_URI"]
    listing.environ["RAW_URI"] = listing.environ["RAW_URI"].replace("items%2Fa%20b", "items%2F")
    assert kind(listing) == sigv4.MISMATCH
    put = capture("s3", REQUESTS["s3-put"][1])
    assert "x-amz-acl" in sigv4.signature_of(put.environ).signed_headers  # type: ignore[union-attr]
    put.environ["HTTP_X_AMZ_ACL"] = "public-read"
    assert kind(put) == sigv4.MISMATCH
    host = capture("sts", REQUESTS["sts-caller"][1])
    host.environ["HTTP_HOST"] = "evil.example"
    assert kind(host) == sigv4.MISMATCH


def test_the_path_is_the_raw_request_uri_encoded_once_for_s3_twice_for_the_rest() -> None:
    """S3 signs its path as sent; every other service normalises it and encodes it again
    (reference_sigv-create-signed-request.html, CanonicalURI). A key holding "%2F" and one
    holding "/" decode alike, and only the raw URI tells them apart."""
    put = capture("s3", REQUESTS["s3-put"][1])
    assert put.environ["RAW_URI"] == "/b/items/a%20b%2Bc/%C3%BC%3A%252F.png"
    assert kind(put) is None
    rebuilt = Arrived({**put.environ, "RAW_URI": "/b/items/a%20b%2Bc/%C3%BC%3A%2F.png"}, put.body)
    assert kind(rebuilt) == sigv4.MISMATCH
    function = capture("lambda", REQUESTS["lambda-get-function-arn"][1])
    assert function.environ["RAW_URI"].startswith(
        "/2015-03-31/functions/arn%3Aaws%3Alambda%3Aeu-west-1%3A123456789012%3Afunction%3Af"
    )
    assert kind(function) is None
    decoded = Arrived({**function.environ, "RAW_URI": unquote(function.environ["RAW_URI"])}, b"")
    assert kind(decoded) == sigv4.MISMATCH
    without = {k: v for k, v in put.environ.items() if k not in ("RAW_URI", "REQUEST_URI")}
    with pytest.raises(ValueError, match="raw request URI"):
        sigv4.signature_of(without)


# ------------------------------------------------------------------------ S3 payloads


def test_s3_over_http_signs_the_body_and_checks_it_against_its_hash() -> None:
    """Over http, botocore signs an S3 payload: x-amz-content-sha256 is the body's SHA-256, and
    a flexible checksum (x-amz-checksum-crc32) goes in a signed header, not in an aws-chunked
    trailer (that is https only). S3 checks the body against the hash
    (XAmzContentSHA256Mismatch, ErrorResponses.html)."""
    request = capture("s3", REQUESTS["s3-put"][1])
    body_hash = hashlib.sha256(b"x" * 70).hexdigest()
    assert request.environ["HTTP_X_AMZ_CONTENT_SHA256"] == body_hash
    signed = sigv4.signature_of(request.environ)
    assert signed is not None and "x-amz-checksum-crc32" in signed.signed_headers
    assert "HTTP_CONTENT_ENCODING" not in request.environ
    swapped = Arrived(request.environ, b"y" * 70)
    assert kind(swapped) == sigv4.PAYLOAD
    assert answer(swapped, failure_of(swapped)) == (400, "XAmzContentSHA256Mismatch")


def test_upload_fileobj_sends_one_signed_put_that_verifies() -> None:
    made = client("s3")
    seen = record(made)
    made.upload_fileobj(io.BytesIO(b"z" * 9000), "b", "up load/ü")
    assert len(seen) == 1
    (upload,) = seen
    assert upload.environ["REQUEST_METHOD"] == "PUT"
    assert upload.environ["RAW_URI"] == "/b/up%20load/%C3%BC"
    assert upload.environ["HTTP_X_AMZ_CONTENT_SHA256"] == hashlib.sha256(b"z" * 9000).hexdigest()
    assert kind(upload) is None
    assert kind(Arrived(upload.environ, b"z" * 8999 + b"!")) == sigv4.PAYLOAD


def test_unsigned_payload_is_taken_as_s3_takes_it() -> None:
    """UNSIGNED-PAYLOAD: the body is not signed, so any body verifies
    (sig-v4-header-based-auth.html, "Unsigned payload option")."""
    made = client("s3", s3={"payload_signing_enabled": False})
    seen = record(made)
    made.put_object(Bucket="b", Key="k", Body=b"abc")
    (request,) = seen
    assert request.environ["HTTP_X_AMZ_CONTENT_SHA256"] == sigv4.UNSIGNED_PAYLOAD
    assert kind(request) is None
    assert kind(Arrived(request.environ, b"another body")) is None


def test_other_services_sign_their_body_whatever_the_header_says() -> None:
    """UNSIGNED-PAYLOAD is S3's: for DynamoDB the payload line is the body's hash, so a request
    signed over "UNSIGNED-PAYLOAD" does not verify, body changed or not."""
    body = b'{"TableName": "t"}'
    unsigned = {
        "X-Amz-Target": "DynamoDB_20120810.Scan",
        "X-Amz-Content-SHA256": "UNSIGNED-PAYLOAD",
    }
    signed = AWSRequest("POST", f"{URL}/", unsigned, body)
    SigV4Auth(Credentials(KEY, SECRET), "dynamodb", REGION).add_auth(signed)
    request = signed_by_python(signed, body)
    assert kind(request) == sigv4.MISMATCH
    honest = AWSRequest("POST", f"{URL}/", {"X-Amz-Target": "DynamoDB_20120810.Scan"}, body)
    SigV4Auth(Credentials(KEY, SECRET), "dynamodb", REGION).add_auth(honest)
    request = signed_by_python(honest, body)
    assert kind(request) is None
    assert kind(Arrived(request.environ, b'{"TableName": "u"}')) == sigv4.MISMATCH


def test_s3_needs_an_x_amz_content_sha256_header_it_takes() -> None:
    """sigv4-auth-using-authorization-header.html: the header "is required for all AWS
    Signature Version 4 requests", a hex SHA-256 or one of S3's constants."""
    bare = AWSRequest("GET", f"{URL}/b/k", {})
    SigV4Auth(Credentials(KEY, SECRET), "s3", REGION).add_auth(bare)  # adds no payload header
    request = signed_by_python(bare, b"")
    assert kind(request) == sigv4.NO_CONTENT_SHA256
    assert answer(request, failure_of(request)) == (400, "InvalidRequest")
    odd = AWSRequest("GET", f"{URL}/b/k", {"X-Amz-Content-SHA256": "SIGNED-SOMEHOW"})
    SigV4Auth(Credentials(KEY, SECRET), "s3", REGION).add_auth(odd)
    request = signed_by_python(odd, b"")
    assert kind(request) == sigv4.BAD_CONTENT_SHA256
    assert answer(request, failure_of(request)) == (400, "InvalidArgument")


def test_s3_refuses_x_amz_headers_that_were_not_signed() -> None:
    """S3 signs "any x-amz-* headers that you plan to add to the request"
    (sigv4-query-string-auth.html; sig-v4-header-based-auth.html): an x-amz-acl added to a
    request or to a presigned URL's is refused, not applied."""
    request = capture("s3", REQUESTS["s3-head"][1])
    assert kind(request) is None
    request.environ["HTTP_X_AMZ_ACL"] = "public-read"
    failure = failure_of(request)
    assert failure is not None and failure.kind == sigv4.UNSIGNED_HEADERS
    assert ("HeadersNotSigned", "x-amz-acl") in failure.details
    assert answer(request, failure) == (403, "AccessDenied")
    url = presigned_url("put_object")
    plain = arrived("PUT", url, {}, b"data")
    assert kind(plain, token=TOKEN) is None
    acl = arrived("PUT", url, {"x-amz-acl": "public-read"}, b"data")
    assert kind(acl, token=TOKEN) == sigv4.UNSIGNED_HEADERS


# ------------------------------------------------------------------------ botocore's Python signers


def _python_signed(signer: SigV4Auth, method: str, url: str, headers: dict[str, str],
                   body: bytes = b"") -> Arrived:  # fmt: skip
    request = AWSRequest(method, url, headers, body)
    signer.add_auth(request)
    return signed_by_python(request, body)


def test_botocore_python_signers_verify() -> None:
    credentials = Credentials(KEY, SECRET, TOKEN)
    json_call = _python_signed(
        SigV4Auth(credentials, "dynamodb", REGION), "POST", f"{URL}/",
        {"X-Amz-Target": "DynamoDB_20120810.GetItem",
         "Content-Type": "application/x-amz-json-1.0"}, b'{"TableName": "t"}')  # fmt: skip
    form = _python_signed(
        SigV4Auth(credentials, "sts", REGION), "POST", f"{URL}/",
        {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"},
        b"Action=GetCallerIdentity&Version=2011-06-15")  # fmt: skip
    body = b"hello"
    s3_put = _python_signed(
        S3SigV4Auth(credentials, "s3", REGION), "PUT", f"{URL}/b/a%20b%2Bc",
        {"Content-Type": "text/plain"}, body)  # fmt: skip
    for request in (json_call, form, s3_put):
        assert kind(request, token=TOKEN) is None
    assert s3_put.environ["HTTP_X_AMZ_CONTENT_SHA256"] == hashlib.sha256(body).hexdigest()


def test_botocore_python_query_signers_verify() -> None:
    """SigV4QueryAuth moves a query call's form into the URL (an STS presigned
    GetCallerIdentity); S3SigV4QueryAuth signs no payload."""
    credentials = Credentials(KEY, SECRET, TOKEN)
    sts = AWSRequest("GET", f"{URL}/", {}, {"Action": "GetCallerIdentity", "Version": "2011-06-15"})
    SigV4QueryAuth(credentials, "sts", REGION, expires=60).add_auth(sts)
    request = arrived("GET", str(sts.url), {}, b"")
    assert sigv4.protocol_of(request.environ, b"", "sts") == sigv4.QUERY
    s3 = AWSRequest("PUT", f"{URL}/b/a%20b", {})
    S3SigV4QueryAuth(credentials, "s3", REGION, expires=60).add_auth(s3)
    upload = arrived("PUT", str(s3.url), {}, b"any body at all")
    for presigned in (request, upload):
        signature = sigv4.signature_of(presigned.environ)
        assert signature is not None and signature.in_query and signature.expires == 60
        assert kind(presigned, token=TOKEN) is None
        late = signature.signed_at + timedelta(seconds=61)
        assert kind(presigned, token=TOKEN, now=late) == sigv4.EXPIRED


class _SignsEveryHeader(SigV4Auth):
    """A signer that signs every header it sends, as the AWS SDK for Java 1.x does (it skips
    only Connection and X-Amzn-Trace-Id); botocore never signs User-Agent nor Expect."""

    def headers_to_sign(self, request: AWSRequest) -> HTTPHeaders:
        headers = HTTPHeaders()
        for name, value in request.headers.items():
            headers[name.lower()] = value
        headers["host"] = urlsplit(str(request.url)).netloc
        return headers


class _LeavesPayloadHeaderUnsigned(S3SigV4Auth):
    def headers_to_sign(self, request: AWSRequest) -> HTTPHeaders:
        headers = HTTPHeaders()
        for name, value in super().headers_to_sign(request).items():
            if name != "x-amz-content-sha256":
                headers[name] = value
        return headers


def test_every_header_named_signed_is_signed() -> None:
    """Whatever the request lists in SignedHeaders counts, headers botocore would not sign
    included."""
    signer = _SignsEveryHeader(Credentials(KEY, SECRET), "ssm", REGION)
    headers = {"User-Agent": "sdk/1.0", "Expect": "100-continue",
               "X-Amz-Target": "AmazonSSM.GetParameter"}  # fmt: skip
    request = _python_signed(signer, "POST", f"{URL}/", headers, b'{"Name": "p"}')
    signature = sigv4.signature_of(request.environ)
    assert signature is not None
    assert {"user-agent", "expect"} <= set(signature.signed_headers)
    assert kind(request) is None
    request.environ["HTTP_USER_AGENT"] = "sdk/2.0"
    assert kind(request) == sigv4.MISMATCH


def test_s3_need_not_sign_its_payload_header() -> None:
    """S3: "you are not required to include the x-amz-content-sha256 header as a canonical
    header" (sig-v4-header-based-auth.html); the payload line carries its value all the same."""
    body = b"payload"
    signer = _LeavesPayloadHeaderUnsigned(Credentials(KEY, SECRET), "s3", REGION)
    request = _python_signed(signer, "PUT", f"{URL}/b/k", {}, body)
    signature = sigv4.signature_of(request.environ)
    assert signature is not None and "x-amz-content-sha256" not in signature.signed_headers
    assert signature.content_sha256 == hashlib.sha256(body).hexdigest()
    assert kind(request) is None
    assert kind(Arrived(request.environ, b"another")) == sigv4.PAYLOAD
    request.environ["HTTP_X_AMZ_CONTENT_SHA256"] = hashlib.sha256(b"another").hexdigest()
    assert kind(Arrived(request.environ, b"another")) == sigv4.MISMATCH


def test_a_request_may_be_dated_by_its_date_header() -> None:
    """Without X-Amz-Date: "If we can't find an x-amz-date header, then we look for a date
    header" (reference_sigv-signing-elements.html); botocore signs with Date when a request has
    one."""
    request = _python_signed(
        SigV4Auth(Credentials(KEY, SECRET), "ssm", REGION), "POST", f"{URL}/",
        {"Date": "Thu, 01 Jan 2026 00:00:00 GMT", "X-Amz-Target": "AmazonSSM.GetParameter"},
        b'{"Name": "p"}')  # fmt: skip
    assert "HTTP_X_AMZ_DATE" not in request.environ
    signature = sigv4.signature_of(request.environ)
    assert signature is not None
    assert abs(signature.signed_at - datetime.now(UTC)) < timedelta(minutes=1)
    assert kind(request) is None
    request.environ["HTTP_DATE"] = format_datetime(signature.signed_at - timedelta(days=1), True)
    with pytest.raises(sigv4.Malformed, match="Date in Credential scope"):
        sigv4.signature_of(request.environ)


# ------------------------------------------------------------------------ S3's own examples

EXAMPLE_KEY, EXAMPLE_SECRET = "AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
EXAMPLE_NOW = datetime(2013, 5, 24, tzinfo=UTC)
EXAMPLE_HOST = "examplebucket.s3.amazonaws.com"
EMPTY = hashlib.sha256(b"").hexdigest()


def _example_authorization(signed: str, signature: str) -> str:
    return (f"AWS4-HMAC-SHA256 Credential={EXAMPLE_KEY}/20130524/us-east-1/s3/aws4_request,"
            f"SignedHeaders={signed},Signature={signature}")  # fmt: skip


# sig-v4-header-based-auth.html, "Examples: Signature Calculations"; sigv4-query-string-auth.html,
# "An Example".
EXAMPLES: dict[str, tuple[str, str, dict[str, str], bytes]] = {
    "get-object": ("GET", "/test.txt", {
        "Range": "bytes=0-9", "x-amz-content-sha256": EMPTY, "x-amz-date": "20130524T000000Z",
        "Authorization": _example_authorization(
            "host;range;x-amz-content-sha256;x-amz-date",
            "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41")}, b""),
    "put-object": ("PUT", "/test%24file.text", {
        "Date": "Fri, 24 May 2013 00:00:00 GMT", "x-amz-date": "20130524T000000Z",
        "x-amz-storage-class": "REDUCED_REDUNDANCY",
        "x-amz-content-sha256": hashlib.sha256(b"Welcome to Amazon S3.").hexdigest(),
        "Authorization": _example_authorization(
            "date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class",
            "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd")},
        b"Welcome to Amazon S3."),
    "get-lifecycle": ("GET", "/?lifecycle", {
        "x-amz-date": "20130524T000000Z", "x-amz-content-sha256": EMPTY,
        "Authorization": _example_authorization(
            "host;x-amz-content-sha256;x-amz-date",
            "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543")}, b""),
    "list-objects": ("GET", "/?max-keys=2&prefix=J", {
        "x-amz-date": "20130524T000000Z", "x-amz-content-sha256": EMPTY,
        "Authorization": _example_authorization(
            "host;x-amz-content-sha256;x-amz-date",
            "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7")}, b""),
    "presigned-get": ("GET", "/test.txt?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential="
        "AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date="
        "20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host&X-Amz-Signature="
        "aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404", {}, b""),
}  # fmt: skip


def example(name: str) -> Arrived:
    method, target, headers, body = EXAMPLES[name]
    return arrived(method, f"http://{EXAMPLE_HOST}{target}", headers, body)


@pytest.mark.parametrize("name", EXAMPLES)
def test_the_s3_api_references_examples_verify(name: str) -> None:
    request = example(name)
    assert kind(request, secret=EXAMPLE_SECRET, now=EXAMPLE_NOW) is None
    assert kind(request, secret=SECRET, now=EXAMPLE_NOW) == sigv4.MISMATCH
    target = request.environ["RAW_URI"]
    request.environ["RAW_URI"] = target.replace("t", "T", 1) if "t" in target else target + "x"
    assert kind(request, secret=EXAMPLE_SECRET, now=EXAMPLE_NOW) == sigv4.MISMATCH


def test_the_examples_are_refused_today() -> None:
    """Dated 2013: a header signature is 15 minutes good, the presigned one a day."""
    now = datetime.now(UTC)
    assert kind(example("get-object"), secret=EXAMPLE_SECRET, now=now) == sigv4.SKEWED
    assert kind(example("presigned-get"), secret=EXAMPLE_SECRET, now=now) == sigv4.EXPIRED
    day = EXAMPLE_NOW + timedelta(seconds=86400)
    assert kind(example("presigned-get"), secret=EXAMPLE_SECRET, now=day) is None
    late = day + timedelta(seconds=1)
    assert kind(example("presigned-get"), secret=EXAMPLE_SECRET, now=late) == sigv4.EXPIRED


# ------------------------------------------------------------------------ chunked uploads

CHUNKED_SIGNATURES = (
    "ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648",
    "0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497",
    "b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9",
)


def chunked_example(chunks: tuple[bytes, ...] = (b"a" * 65536, b"a" * 1024, b"")) -> Arrived:
    """sigv4-streaming.html, "Example: PUT Object": 66560 bytes in chunks of 64 KB."""
    body = b"".join(
        f"{len(chunk):x};chunk-signature={signature}\r\n".encode() + chunk + b"\r\n"
        for chunk, signature in zip(chunks, CHUNKED_SIGNATURES, strict=True)
    )
    headers = {
        "Host": "s3.amazonaws.com", "x-amz-date": "20130524T000000Z",
        "x-amz-storage-class": "REDUCED_REDUNDANCY",
        "x-amz-content-sha256": sigv4.STREAMING_SIGNED, "Content-Encoding": "aws-chunked",
        "x-amz-decoded-content-length": "66560", "Content-Length": "66824",
        "Authorization": _example_authorization(
            "content-encoding;content-length;host;x-amz-content-sha256;x-amz-date;"
            "x-amz-decoded-content-length;x-amz-storage-class",
            "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9"),
    }  # fmt: skip
    return arrived("PUT", "http://s3.amazonaws.com/examplebucket/chunkObject.txt", headers, body)


def test_the_chunked_upload_example_verifies_chunk_by_chunk() -> None:
    request = chunked_example()
    assert len(request.body) == 66824
    assert kind(request, secret=EXAMPLE_SECRET, now=EXAMPLE_NOW) is None
    changed = chunked_example((b"a" * 65536, b"a" * 1023 + b"b", b""))
    failure = failure_of(changed, secret=EXAMPLE_SECRET, now=EXAMPLE_NOW)
    assert failure is not None and failure.kind == sigv4.MISMATCH
    assert "chunk at byte 65626" in failure.detail  # the second chunk: the first one verified
    cut = Arrived(request.environ, request.body[:-86])  # without its last, empty, chunk
    assert kind(cut, secret=EXAMPLE_SECRET, now=EXAMPLE_NOW) == sigv4.INCOMPLETE_BODY


def _signing_key(secret: str, date: str, region: str, service: str) -> bytes:
    key = f"AWS4{secret}".encode()
    for part in (date, region, service, "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return key


def _chunked_with_trailer(data: bytes, checksum: str, decoded: int | None = None,
                          tamper_trailer: bool = False) -> Arrived:  # fmt: skip
    """A STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER upload, its chunks and trailer signed as
    sigv4-streaming.html and sigv4-streaming-trailers.html lay out, over a seed botocore signed."""
    headers = {
        "X-Amz-Content-SHA256": sigv4.STREAMING_SIGNED_TRAILER, "Content-Encoding": "aws-chunked",
        "X-Amz-Decoded-Content-Length": str(len(data) if decoded is None else decoded),
        "X-Amz-Trailer": "x-amz-checksum-crc32",
    }  # fmt: skip
    seed = AWSRequest("PUT", f"{URL}/b/k", headers)
    SigV4Auth(Credentials(KEY, SECRET), "s3", REGION).add_auth(seed)  # keeps the header's value
    stamp = _text(seed.headers["X-Amz-Date"])
    scope = f"{stamp[:8]}/{REGION}/s3/aws4_request"
    key = _signing_key(SECRET, stamp[:8], REGION, "s3")
    previous = _text(seed.headers["Authorization"]).rsplit("Signature=", 1)[1]
    body = b""
    for chunk in (data, b""):
        to_sign = "\n".join(["AWS4-HMAC-SHA256-PAYLOAD", stamp, scope, previous, EMPTY,
                             hashlib.sha256(chunk).hexdigest()])  # fmt: skip
        previous = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
        body += f"{len(chunk):x};chunk-signature={previous}\r\n".encode() + chunk
        body += b"\r\n" if chunk else b""
    trailer = f"x-amz-checksum-crc32:{checksum}\n"
    to_sign = "\n".join(["AWS4-HMAC-SHA256-TRAILER", stamp, scope, previous,
                         hashlib.sha256(trailer.encode()).hexdigest()])  # fmt: skip
    signature = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
    sent_checksum = "AAAAAA==" if tamper_trailer else checksum
    body += f"x-amz-checksum-crc32:{sent_checksum}\r\n".encode()
    body += f"x-amz-trailer-signature:{signature}\r\n\r\n".encode()
    return signed_by_python(seed, body)


def test_a_chunked_upload_with_a_signed_trailer() -> None:
    data = b"trailing checksum " * 600
    assert kind(_chunked_with_trailer(data, "3hFjAQ==")) is None
    assert kind(_chunked_with_trailer(data, "3hFjAQ==", tamper_trailer=True)) == sigv4.MISMATCH
    assert kind(_chunked_with_trailer(data, "3hFjAQ==", decoded=5)) == sigv4.INCOMPLETE_BODY


def test_an_unsigned_trailer_upload_signs_its_headers_only() -> None:
    """STREAMING-UNSIGNED-PAYLOAD-TRAILER (what botocore sends S3 over https): chunks carry no
    signatures (sigv4-streaming-trailers.html)."""
    headers = {"X-Amz-Content-SHA256": sigv4.STREAMING_UNSIGNED_TRAILER,
               "Content-Encoding": "aws-chunked", "X-Amz-Decoded-Content-Length": "3"}  # fmt: skip
    signed = AWSRequest("PUT", f"{URL}/b/k", headers)
    SigV4Auth(Credentials(KEY, SECRET), "s3", REGION).add_auth(signed)
    body = b"3\r\nabc\r\n0\r\nx-amz-checksum-crc32:NSRBwg==\r\n\r\n"
    request = signed_by_python(signed, body)
    assert kind(request) is None


# ------------------------------------------------------------------------ presigned URLs


def presigned_url(operation: str, expires: int = 60, token: str | None = TOKEN,
                  **params: Any) -> str:  # fmt: skip
    made = client("s3", token, signature_version="s3v4")
    return str(made.generate_presigned_url(
        operation, Params={"Bucket": "b", "Key": "items/ü a+b.png", **params}, ExpiresIn=expires
    ))  # fmt: skip


def test_presigned_urls_verify_until_they_expire() -> None:
    """sigv4-query-string-auth.html: no payload is signed; X-Amz-Expires bounds it."""
    get = presigned_url("get_object", ResponseContentDisposition='attachment; filename="a b.png"',
                        ResponseContentType="image/png")  # fmt: skip
    for request in (arrived("GET", get, {}, b""), arrived("PUT", presigned_url("put_object"), {},
                                                          b"any body")):  # fmt: skip
        signed = sigv4.signature_of(request.environ)
        assert signed is not None and signed.in_query and signed.session_token == TOKEN
        assert signed.auth_type == "REST-QUERY-STRING" and signed.expires == 60
        at = signed.signed_at
        assert kind(request, token=TOKEN, now=at + timedelta(seconds=60)) is None
        assert kind(request, token=TOKEN, now=at + timedelta(seconds=61)) == sigv4.EXPIRED
        assert kind(request, token=TOKEN, now=at - timedelta(minutes=16)) == sigv4.SKEWED
        assert kind(request, token=None) == sigv4.TOKEN
        assert kind(request, secret=SECRET + "x", token=TOKEN) == sigv4.MISMATCH


def test_a_presigned_url_changed_is_a_mismatch() -> None:
    get = presigned_url("get_object", ResponseContentDisposition="inline")
    for changed in (
        get.replace("disposition=inline", "disposition=attachment"),
        get + "&response-content-type=text%2Fhtml",
        get.replace("X-Amz-Expires=60", "X-Amz-Expires=600"),
        get.replace("items/", "other/"),
    ):
        assert changed != get
        assert kind(arrived("GET", changed, {}, b""), token=TOKEN) == sigv4.MISMATCH
    assert kind(arrived("DELETE", get, {}, b""), token=TOKEN) == sigv4.MISMATCH
    too_long = presigned_url("get_object", expires=604801)
    failure = failure_of(arrived("GET", too_long, {}, b""), token=TOKEN)
    assert failure is not None and failure.kind == sigv4.TOO_LONG
    assert answer(arrived("GET", too_long, {}, b""), failure) == (
        400, "AuthorizationQueryParametersError")  # fmt: skip
    week = presigned_url("get_object", expires=604800)
    assert kind(arrived("GET", week, {}, b""), token=TOKEN) is None


def test_an_expired_presigned_url_is_answered_as_s3_answers_it() -> None:
    request = arrived("GET", presigned_url("get_object"), {}, b"")
    signed = sigv4.signature_of(request.environ)
    assert signed is not None
    failure = failure_of(request, token=TOKEN, now=signed.signed_at + timedelta(hours=1))
    assert failure is not None and failure.kind == sigv4.EXPIRED
    assert ("X-Amz-Expires", "60") in failure.details
    assert sigv4.error_for("s3", sigv4.REST_XML, failure) == (403, "AccessDenied",
                                                              "Request has expired")  # fmt: skip


def test_botocore_presigns_s3_with_sigv2_unless_told_s3v4() -> None:
    """A SigV2 URL is refused, not taken as anonymous: S3 takes only SigV4 for buckets made
    since 2020 (UsingAWSSDK.html#UsingAWSSDK-sig2-deprecation)."""
    url = client("s3").generate_presigned_url("put_object", Params={"Bucket": "b", "Key": "k"})
    assert "AWSAccessKeyId=" in url and "X-Amz-Signature" not in url
    version_2 = {"Authorization": "AWS AKID:c2ln"}
    for request in (arrived("PUT", url, {}, b""), arrived("GET", f"{URL}/b/k", version_2, b"")):
        with pytest.raises(sigv4.Malformed) as malformed:
            sigv4.signature_of(request.environ)
        assert malformed.value.kind == sigv4.UNSUPPORTED
        assert sigv4.error_for("s3", sigv4.REST_XML, malformed.value.failure)[:2] == (
            400, "InvalidRequest")  # fmt: skip


# ------------------------------------------------------------------------ tokens and time


def test_a_session_token_must_be_the_one_issued_with_the_key() -> None:
    """A temporary key's requests carry its token; a long-term key's carry none
    (create-signed-request.html#temporary-security-credentials)."""
    session = capture("dynamodb", REQUESTS["dynamodb-get-item"][1], TOKEN)
    assert kind(session, token=TOKEN) is None
    assert kind(session, token="another") == sigv4.TOKEN
    assert kind(session, token=None) == sigv4.TOKEN
    long_term = capture("dynamodb", REQUESTS["dynamodb-get-item"][1])
    assert kind(long_term, token=TOKEN) == sigv4.TOKEN
    assert answer(session, failure_of(session, token="another")) == (
        400, "UnrecognizedClientException")  # fmt: skip
    sts = capture("sts", REQUESTS["sts-caller"][1], TOKEN)
    assert answer(sts, failure_of(sts, token=None)) == (403, "InvalidClientTokenId")
    s3 = capture("s3", REQUESTS["s3-get"][1], TOKEN)
    assert answer(s3, failure_of(s3, token="another")) == (400, "InvalidToken")
    swapped = capture("s3", REQUESTS["s3-get"][1], TOKEN)
    swapped.environ["HTTP_X_AMZ_SECURITY_TOKEN"] = "another"
    assert kind(swapped, token="another") == sigv4.MISMATCH  # the token is a signed header


@pytest.mark.parametrize(
    ("name", "code"),
    [("dynamodb-get-item", "InvalidSignatureException"), ("sts-caller", "RequestExpired"),
     ("s3-get", "RequestTimeTooSkewed"), ("lambda-invoke", "RequestExpired")],
)  # fmt: skip
def test_a_header_signature_is_good_for_fifteen_minutes_either_way(name: str, code: str) -> None:
    """RequestExpired: "more than 15 minutes after the date stamp on the request [...] or the
    date stamp on the request is more than 15 minutes in the future" (STS CommonErrors.html)."""
    service, call = REQUESTS[name]
    request = capture(service, call)
    signed = sigv4.signature_of(request.environ)
    assert signed is not None
    at = signed.signed_at
    for offset in (timedelta(minutes=15), -timedelta(minutes=15)):
        assert kind(request, now=at + offset) is None
    late = failure_of(request, now=at + timedelta(minutes=15, seconds=1))
    early = failure_of(request, now=at - timedelta(minutes=15, seconds=1))
    assert late is not None and late.detail.startswith("Signature expired:")
    assert early is not None and early.detail.startswith("Signature not yet current:")
    for failure in (late, early):
        assert failure.kind == sigv4.SKEWED
        assert answer(request, failure)[1] == code


# ------------------------------------------------------------------------ reading signatures


def _with_authorization(value: str) -> dict[str, Any]:
    request = capture("dynamodb", REQUESTS["dynamodb-get-item"][1])
    return {**request.environ, "HTTP_AUTHORIZATION": value}


@pytest.mark.parametrize(
    ("authorization", "message"),
    [
        ("AWS4-HMAC-SHA256 Credential=a/b, SignedHeaders=host, Signature=00", "5 slash-delimited"),
        ("AWS4-HMAC-SHA256 Credential=AK/20260101/eu-west-1/dynamodb/aws4_request, "
         "SignedHeaders=host", "requires 'Signature'"),
        ("AWS4-HMAC-SHA256 Credential=AK/20260101/eu-west-1/dynamodb/aws5_request, "
         "SignedHeaders=host, Signature=00", "terminator"),
        ("AWS4-HMAC-SHA256 Credential=AK/19990101/eu-west-1/dynamodb/aws4_request, "
         "SignedHeaders=host;x-amz-date, Signature=00", "Date in Credential scope"),
        ("AWS4-HMAC-SHA256 Credential=AK/{date}/eu-west-1/dynamodb/aws4_request, "
         "SignedHeaders=x-amz-date, Signature=00", "'Host'"),
    ],
    ids=["credential-parts", "no-signature", "terminator", "credential-date", "host-unsigned"],
)  # fmt: skip
def test_a_malformed_authorization_header_is_malformed(authorization: str, message: str) -> None:
    environ = _with_authorization(authorization)
    environ["HTTP_AUTHORIZATION"] = authorization.format(date=environ["HTTP_X_AMZ_DATE"][:8])
    with pytest.raises(sigv4.Malformed, match=message) as malformed:
        sigv4.signature_of(environ)
    assert malformed.value.kind == sigv4.MALFORMED and not malformed.value.in_query
    assert sigv4.error_for("dynamodb", sigv4.JSON, malformed.value.failure)[:2] == (
        400, "IncompleteSignatureException")  # fmt: skip
    assert sigv4.error_for("s3", sigv4.REST_XML, malformed.value.failure)[:2] == (
        400, "AuthorizationHeaderMalformed")  # fmt: skip


def test_other_algorithms_and_two_signatures_are_refused() -> None:
    for value in ("AWS4-ECDSA-P256-SHA256 Credential=AK/20260101/s3/aws4_request, "
                  "SignedHeaders=host, Signature=00", "Bearer abc"):  # fmt: skip
        with pytest.raises(sigv4.Malformed) as malformed:
            sigv4.signature_of(_with_authorization(value))
        assert malformed.value.kind == sigv4.UNSUPPORTED
    url = presigned_url("get_object")
    both = arrived("GET", url, {"Authorization": "AWS4-HMAC-SHA256 Credential=x"}, b"")
    with pytest.raises(sigv4.Malformed, match="Only one auth mechanism"):
        sigv4.signature_of(both.environ)


def test_a_presigned_url_missing_a_parameter_is_malformed_as_a_query() -> None:
    url = presigned_url("get_object")
    for name in ("X-Amz-Date", "X-Amz-Expires", "X-Amz-SignedHeaders"):
        start = url.index(f"{name}=")
        end = url.find("&", start)
        cut = url[:start] + (url[end + 1 :] if end > 0 else "")
        with pytest.raises(sigv4.Malformed, match="Query-string authentication") as malformed:
            sigv4.signature_of(arrived("GET", cut.rstrip("&"), {}, b"").environ)
        assert malformed.value.in_query
        assert sigv4.error_for("s3", sigv4.REST_XML, malformed.value.failure)[:2] == (
            400, "AuthorizationQueryParametersError")  # fmt: skip


def test_no_signature_is_anonymous() -> None:
    assert sigv4.signature_of(arrived("GET", f"{URL}/b/k?prefix=a", {}, b"").environ) is None


def test_an_absolute_form_request_target_is_read_as_its_path() -> None:
    request = capture("s3", REQUESTS["s3-list"][1])
    request.environ["RAW_URI"] = "http://127.0.0.1:5000" + request.environ["RAW_URI"]
    assert kind(request) is None


# ------------------------------------------------------------------------ answers


@pytest.mark.parametrize(
    ("name", "protocol"),
    [("dynamodb-get-item", sigv4.JSON), ("ssm-get-parameter", sigv4.JSON),
     ("kms-encrypt", sigv4.JSON), ("logs-put-events", sigv4.JSON),
     ("sts-caller", sigv4.QUERY), ("s3-put", sigv4.REST_XML),
     ("lambda-invoke", sigv4.REST_JSON)],
)  # fmt: skip
def test_each_service_answers_in_its_protocol(name: str, protocol: str) -> None:
    service, call = REQUESTS[name]
    request = capture(service, call)
    assert sigv4.protocol_of(request.environ, request.body, service) == protocol
    mismatch = failure_of(request, secret="wrong")
    unknown = sigv4.Failure(sigv4.UNKNOWN_KEY)
    expected = {
        # (missing, unknown key, mismatch): DynamoDB's Programming.Errors.html and the JSON
        # services' CommonErrors; STS CommonErrors.html; S3 ErrorResponses.html; Lambda's.
        sigv4.JSON: ((400, "MissingAuthenticationTokenException"),
                     (400, "UnrecognizedClientException"), (400, "InvalidSignatureException")),
        sigv4.QUERY: ((403, "MissingAuthenticationToken"), (403, "InvalidClientTokenId"),
                      (403, "SignatureDoesNotMatch")),
        sigv4.REST_XML: ((403, "AccessDenied"), (403, "InvalidAccessKeyId"),
                         (403, "SignatureDoesNotMatch")),
        sigv4.REST_JSON: ((403, "MissingAuthenticationTokenException"),
                          (403, "UnrecognizedClientException"), (403, "InvalidSignatureException")),
    }[protocol]  # fmt: skip
    got = tuple(sigv4.error_for(service, protocol, f)[:2] for f in (None, unknown, mismatch))
    assert got == expected


def test_the_skew_message_names_the_times() -> None:
    request = capture("logs", REQUESTS["logs-put-events"][1])
    signed = sigv4.signature_of(request.environ)
    assert signed is not None
    now = signed.signed_at + timedelta(hours=1)
    failure = failure_of(request, now=now)
    status, code, message = sigv4.error_for("logs", sigv4.JSON, failure)
    earliest = now - timedelta(minutes=15)
    expected = (f"Signature expired: {signed.timestamp} is now earlier than "
                f"{earliest:%Y%m%dT%H%M%SZ} ({now:%Y%m%dT%H%M%SZ} - 15 min.)")  # fmt: skip
    assert (status, code, message) == (400, "InvalidSignatureException", expected)


# ------------------------------------------------------------------------ over real HTTP


class _Handler(WSGIRequestHandler):
    timeout = TIMEOUT  # no connection may hold the server


@dataclass
class Seen:
    environ: dict[str, Any]
    body: bytes
    failure: sigv4.Failure | None


def _emulated(seen: list[Seen]) -> Callable[..., list[bytes]]:
    """A WSGI app that verifies every request with this module and answers refusals with
    error_for, in the service's protocol, as the emulator's enforcement layer would."""
    secrets = {KEY: SECRET}

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        signature = sigv4.signature_of(environ)
        assert signature is not None
        secret = secrets.get(signature.access_key)
        failure = (sigv4.Failure(sigv4.UNKNOWN_KEY) if secret is None else sigv4.verify(
            environ, body, signature, secret, None, datetime.now(UTC)))  # fmt: skip
        seen.append(Seen(dict(environ), body, failure))
        protocol = sigv4.protocol_of(environ, body, signature.service)
        if failure is None:
            ok = {sigv4.JSON: b'{"TableNames": []}', sigv4.REST_XML: b"",
                  sigv4.QUERY: b"<GetCallerIdentityResponse><GetCallerIdentityResult>"
                               b"<Account>123456789012</Account></GetCallerIdentityResult>"
                               b"</GetCallerIdentityResponse>"}  # fmt: skip
            start_response("200 OK", [("ETag", '"e"')])
            return [ok.get(protocol, b"{}")]
        status, code, message = sigv4.error_for(signature.service, protocol, failure)
        if protocol == sigv4.JSON:
            content = f'{{"__type": "{code}", "message": "{message}"}}'.encode()
        elif protocol == sigv4.REST_XML:
            content = f"<Error><Code>{code}</Code><Message>{message}</Message></Error>".encode()
        else:
            error = f"<Type>Sender</Type><Code>{code}</Code><Message>{message}</Message>"
            content = f"<ErrorResponse><Error>{error}</Error></ErrorResponse>".encode()
        start_response(f"{status} Refused", [("Content-Type", "text/xml")])
        return [content]

    return app


@pytest.fixture
def server() -> Iterator[tuple[str, list[Seen]]]:
    seen: list[Seen] = []
    running = make_server("127.0.0.1", 0, _emulated(seen), threaded=True,
                          request_handler=_Handler)  # fmt: skip
    thread = threading.Thread(target=running.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{running.server_port}", seen
    finally:
        running.shutdown()
        thread.join(timeout=TIMEOUT)


def _client(url: str, service: str, secret: str = SECRET, key: str = KEY, **config: Any) -> Any:
    return new_client(
        service, region_name=REGION, endpoint_url=url, aws_access_key_id=key,
        aws_secret_access_key=secret,
        config=Config(retries={"total_max_attempts": 1}, connect_timeout=TIMEOUT,
                      read_timeout=TIMEOUT, **config),
    )  # fmt: skip


def test_real_clients_over_http_verify(server: tuple[str, list[Seen]]) -> None:
    url, seen = server
    _client(url, "dynamodb").list_tables()
    _client(url, "sts").get_caller_identity()
    s3 = _client(url, "s3", signature_version="s3v4")
    s3.put_object(Bucket="b", Key="items%2Fx y+ü", Body=b"z")
    s3.upload_fileobj(io.BytesIO(b"w" * 20000), "b", "up/load ü")
    s3.get_object(Bucket="b", Key="a b", ResponseContentDisposition='attachment; filename="a"')
    put = s3.generate_presigned_url("put_object", Params={"Bucket": "b", "Key": "p q"})
    get = s3.generate_presigned_url("get_object", Params={"Bucket": "b", "Key": "p q"})
    upload = urllib.request.Request(put, data=b"presigned", method="PUT")
    with urllib.request.urlopen(upload, timeout=TIMEOUT) as response:
        assert response.status == 200
    with urllib.request.urlopen(get, timeout=TIMEOUT) as response:
        assert response.status == 200
    assert [entry.failure for entry in seen] == [None] * 7
    assert seen[2].environ["RAW_URI"] == "/b/items%252Fx%20y%2B%C3%BC"
    assert seen[3].environ["RAW_URI"] == "/b/up/load%20%C3%BC"
    assert seen[3].body == b"w" * 20000
    assert seen[2].environ["HTTP_X_AMZ_CONTENT_SHA256"] == hashlib.sha256(b"z").hexdigest()
    presigned_put = sigv4.signature_of(seen[5].environ)
    assert presigned_put is not None and presigned_put.in_query
    assert "HTTP_X_AMZ_CONTENT_SHA256" not in seen[5].environ  # nothing signs its body


def test_refusals_reach_boto3_as_the_services_errors(server: tuple[str, list[Seen]]) -> None:
    url, _ = server
    cases = [
        (_client(url, "dynamodb", secret="wrong").list_tables, 400, "InvalidSignatureException"),
        (_client(url, "dynamodb", key="AKIDNOBODY").list_tables, 400,
         "UnrecognizedClientException"),
        (_client(url, "sts", secret="wrong").get_caller_identity, 403, "SignatureDoesNotMatch"),
        (_client(url, "sts", key="AKIDNOBODY").get_caller_identity, 403, "InvalidClientTokenId"),
        (lambda: _client(url, "s3", secret="wrong").head_bucket(Bucket="b"), 403, None),
        (lambda: _client(url, "s3", secret="wrong").list_objects_v2(Bucket="b"), 403,
         "SignatureDoesNotMatch"),
    ]  # fmt: skip
    for call, status, code in cases:
        with pytest.raises(ClientError) as refused:
            call()
        error = refused.value.response
        assert error["ResponseMetadata"]["HTTPStatusCode"] == status
        if code is not None:  # a HEAD answer has no body to name its code
            assert error["Error"]["Code"] == code
    presigned = _client(url, "s3", secret="wrong", signature_version="s3v4").generate_presigned_url(
        "get_object", Params={"Bucket": "b", "Key": "k"})  # fmt: skip
    with pytest.raises(urllib.error.HTTPError) as refused_url:
        urllib.request.urlopen(presigned, timeout=TIMEOUT)
    assert refused_url.value.code == 403
    assert b"<Code>SignatureDoesNotMatch</Code>" in refused_url.value.read()


def test_the_environs_these_tests_build_are_the_ones_werkzeug_serves(
    server: tuple[str, list[Seen]],
) -> None:
    """The same bytes sent to werkzeug's server and through `arrived` give the app the same raw
    URI, signed headers and body, so the checks above are the emulator's."""
    url, seen = server
    for name in ("s3-put", "s3-list", "s3-copy", "lambda-get-function-arn", "ssm-get-parameter"):
        service, call = REQUESTS[name]
        built = capture(service, call)
        target = built.environ["RAW_URI"]
        headers = {k[5:].replace("_", "-").lower(): v for k, v in built.environ.items()
                   if k.startswith("HTTP_") and k != "HTTP_HOST"}  # fmt: skip
        if "CONTENT_TYPE" in built.environ:
            headers["content-type"] = built.environ["CONTENT_TYPE"]
        host = urlsplit(url).netloc
        connection = http.client.HTTPConnection(host, timeout=TIMEOUT)
        try:
            connection.putrequest(built.environ["REQUEST_METHOD"], target, skip_host=True,
                                  skip_accept_encoding=True)  # fmt: skip
            connection.putheader("Host", built.environ["HTTP_HOST"])
            for header_name, value in headers.items():
                connection.putheader(header_name, value)
            connection.putheader("Content-Length", str(len(built.body)))
            connection.endheaders(built.body)
            connection.getresponse().read()
        finally:
            connection.close()
        served = seen[-1]
        assert served.environ["RAW_URI"] == target
        assert served.body == built.body
        signature = sigv4.signature_of(served.environ)
        assert signature is not None
        for header in signature.signed_headers:
            key = header.upper().replace("-", "_")
            key = key if key in ("CONTENT_TYPE", "CONTENT_LENGTH") else f"HTTP_{key}"
            assert served.environ.get(key) == built.environ.get(key), header
        # Signed minutes ago by the capture, so verified at its own time.
        assert sigv4.verify(served.environ, served.body, signature, SECRET, None,
                            signature.signed_at) is None  # fmt: skip
        assert replace(signature) == sigv4.signature_of(built.environ)
