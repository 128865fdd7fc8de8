"""SigV4 signatures checked as AWS checks them (offline/sigv4.py), against requests that
botocore really signed: every one verifies, and every tampering is caught as its kind."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import unquote, urlsplit

import boto3
import pytest
import requests
from botocore.config import Config
from werkzeug.test import EnvironBuilder

from offline import sigv4
from offline.endpoint import new_client

KEY, SECRET = "AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
TOKEN = "session-token/+=="
URL = "http://127.0.0.1:5000"


class Captured(Exception):
    """Raised by the before-send hook: the request botocore would have sent."""

    def __init__(self, request: Any) -> None:
        super().__init__("captured")
        self.request = request


def capture(service: str, call: Callable[[Any], Any], token: str | None = None) -> Any:
    client = new_client(
        service, region_name="eu-west-1", endpoint_url=URL, aws_access_key_id=KEY,
        aws_secret_access_key=SECRET, aws_session_token=token,
        config=Config(retries={"max_attempts": 1}),
    )  # fmt: skip

    def stop(request: Any, **_: Any) -> None:
        raise Captured(request)

    client.meta.events.register("before-send", stop)
    with pytest.raises(Captured) as captured:
        call(client)
    return captured.value.request


@dataclass
class Arrived:
    """A sent request as werkzeug's server presents it to the WSGI app."""

    environ: dict[str, Any]
    body: bytes


def arrived(method: str, url: str, headers: dict[str, str], body: bytes) -> Arrived:
    split = urlsplit(url)
    builder = EnvironBuilder(method=method, path=unquote(split.path), query_string=split.query,
                             headers=list(headers.items()), data=body)  # fmt: skip
    environ = builder.get_environ()
    environ["RAW_URI"] = split.path + (f"?{split.query}" if split.query else "")
    for name, value in headers.items():  # exactly as sent, Content-Type included
        key = name.upper().replace("-", "_")
        environ[key if key in ("CONTENT_TYPE", "CONTENT_LENGTH") else f"HTTP_{key}"] = value
    return Arrived(environ, body)


def sent(request: Any) -> Arrived:
    body = request.body or b""
    body = (
        body if isinstance(body, bytes) else body.read() if hasattr(body, "read") else body.encode()
    )
    headers = {k: v.decode() if isinstance(v, bytes) else v for k, v in request.headers.items()}
    return arrived(request.method, request.url, headers, body)


def check(request: Arrived, secret: str = SECRET, token: str | None = None,
          now: datetime | None = None) -> str | None:  # fmt: skip
    signature = sigv4.signature_of(request.environ)
    assert signature is not None
    moment = now or signature.signed_at
    failure = sigv4.verify(request.environ, request.body, signature, secret, token, moment)
    return failure.kind if failure else None


REQUESTS: dict[str, tuple[str, Callable[[Any], Any]]] = {
    "dynamodb-get-item": ("dynamodb", lambda c: c.get_item(TableName="t", Key={"id": {"S": "ü"}})),
    "ssm-get-parameter": ("ssm", lambda c: c.get_parameter(Name="/a/b", WithDecryption=True)),
    "sts-caller": ("sts", lambda c: c.get_caller_identity()),
    "s3-put": ("s3", lambda c: c.put_object(Bucket="b", Key="items/a b+c/ü.png", Body=b"x" * 70)),
    "s3-put-encoded-slash": ("s3", lambda c: c.put_object(Bucket="b", Key="items%2Fx", Body=b"")),
    "s3-get": ("s3", lambda c: c.get_object(Bucket="b", Key="k", ResponseContentType="text/plain")),
    "s3-head": ("s3", lambda c: c.head_object(Bucket="b", Key="k")),
    "s3-delete": ("s3", lambda c: c.delete_object(Bucket="b", Key="k")),
    "s3-list": ("s3", lambda c: c.list_objects_v2(Bucket="b", Prefix="items/", Delimiter="/")),
    "s3-upload-fileobj": ("s3", lambda c: c.put_object(Bucket="b", Key="big", Body=b"y" * 9000)),
}  # fmt: skip


@pytest.mark.parametrize("name", REQUESTS)
@pytest.mark.parametrize("token", [None, TOKEN], ids=["long-term", "session"])
def test_a_request_botocore_signed_verifies(name: str, token: str | None) -> None:
    service, call = REQUESTS[name]
    request = sent(capture(service, call, token))
    assert check(request, token=token) is None


def test_what_botocore_sends_s3_over_http_hashes_the_body() -> None:
    """Over http, botocore signs the payload: x-amz-content-sha256 is the body's hash
    (sig-v4-header-based-auth.html), which S3 checks against the body."""
    request = sent(capture("s3", REQUESTS["s3-put"][1]))
    assert len(request.environ["HTTP_X_AMZ_CONTENT_SHA256"]) == 64
    assert check(Arrived(request.environ, b"y" * 70)) == sigv4.PAYLOAD


@pytest.mark.parametrize(
    ("tamper", "kind"),
    [
        (lambda r: r.environ.update(HTTP_X_AMZ_TARGET="DynamoDB_20120810.DeleteItem"), "mismatch"),
        (lambda r: setattr(r, "body", r.body.replace(b'"t"', b'"u"')), "mismatch"),
        (lambda r: r.environ.update(RAW_URI="/other"), "mismatch"),
        (lambda r: r.environ.update(HTTP_HOST="evil.example"), "mismatch"),
    ],
    ids=["signed-header", "body", "path", "host"],
)
def test_a_changed_request_no_longer_verifies(tamper: Callable[[Arrived], None], kind: str) -> None:
    request = sent(capture("dynamodb", REQUESTS["dynamodb-get-item"][1]))
    tamper(request)
    assert check(request) == kind


def test_a_wrong_secret_a_missing_or_wrong_token_and_a_stale_date_are_refused() -> None:
    request = sent(capture("dynamodb", REQUESTS["dynamodb-get-item"][1], TOKEN))
    assert check(request, secret=SECRET + "x", token=TOKEN) == sigv4.MISMATCH
    assert check(request, token="another") == sigv4.TOKEN
    assert check(request, token=None) == sigv4.TOKEN  # a session's token on a long-term key
    signed = sigv4.signature_of(request.environ)
    assert signed is not None
    assert check(request, token=TOKEN, now=signed.signed_at + timedelta(minutes=14)) is None
    assert check(request, token=TOKEN, now=signed.signed_at + timedelta(minutes=16)) == "skewed"
    assert check(request, token=TOKEN, now=signed.signed_at - timedelta(minutes=16)) == "skewed"
    unsigned = sent(capture("dynamodb", REQUESTS["dynamodb-get-item"][1]))
    assert check(unsigned, token=TOKEN) == sigv4.TOKEN  # a session's key without its token


def presigned(method: str, expires: int = 60, **params: Any) -> Arrived:
    client = boto3.client("s3", region_name="eu-west-1", endpoint_url=URL,
                          aws_access_key_id=KEY, aws_secret_access_key=SECRET,
                          aws_session_token=TOKEN,
                          config=Config(signature_version="s3v4"))  # fmt: skip
    operation = {"GET": "get_object", "PUT": "put_object"}[method]
    url = client.generate_presigned_url(
        operation, Params={"Bucket": "b", "Key": "items/ü a.png", **params}, ExpiresIn=expires
    )
    return arrived(method, url, {"Host": "127.0.0.1:5000"}, b"any body" if method == "PUT" else b"")


def test_presigned_urls_verify_until_they_expire() -> None:
    """sigv4-query-string-auth.html: no payload is signed; X-Amz-Expires bounds it."""
    for request in (presigned("GET", ResponseContentDisposition="inline"), presigned("PUT")):
        signed = sigv4.signature_of(request.environ)
        assert signed is not None and signed.in_query and signed.session_token == TOKEN
        at = signed.signed_at
        assert check(request, token=TOKEN, now=at + timedelta(seconds=59)) is None
        assert check(request, token=TOKEN, now=at + timedelta(seconds=61)) == sigv4.EXPIRED
    request = presigned("GET")
    request.environ["QUERY_STRING"] += "&response-content-type=text%2Fhtml"
    request.environ["RAW_URI"] += "&response-content-type=text%2Fhtml"
    assert check(request, token=TOKEN) == sigv4.MISMATCH  # an override added after signing
    assert check(presigned("GET", expires=604801), token=TOKEN) == sigv4.TOO_LONG


def test_no_signature_is_anonymous_and_a_broken_one_is_malformed() -> None:
    assert sigv4.signature_of(arrived("GET", f"{URL}/b/k", {}, b"").environ) is None
    broken = {"Authorization": "AWS4-HMAC-SHA256 Credential=a/b, Signature=00"}
    with pytest.raises(sigv4.Malformed) as malformed:
        sigv4.signature_of(arrived("GET", f"{URL}/b/k", broken, b"").environ)
    assert malformed.value.kind == "malformed"


def test_signature_version_2_is_refused_in_a_header_or_a_url() -> None:
    """S3 takes only SigV4 for buckets made since 2020; botocore still presigns S3 URLs with
    SigV2 unless told s3v4, and such a URL is not anonymous."""
    client = boto3.client("s3", region_name="eu-west-1", endpoint_url=URL,
                          aws_access_key_id=KEY, aws_secret_access_key=SECRET)  # fmt: skip
    url = client.generate_presigned_url("get_object", Params={"Bucket": "b", "Key": "k"})
    assert "AWSAccessKeyId=" in url
    header = {"Authorization": "AWS AKID:c2ln"}
    for request in (arrived("GET", url, {}, b""), arrived("GET", f"{URL}/b/k", header, b"")):
        with pytest.raises(sigv4.Malformed) as malformed:
            sigv4.signature_of(request.environ)
        assert malformed.value.kind == "sigv2"


def test_a_real_server_sees_what_the_tests_build() -> None:
    """The raw URI werkzeug's server hands the app is the one these tests build, so the
    verification above is what the emulator does (a real round trip on loopback)."""
    import threading

    from werkzeug.serving import make_server

    seen: list[dict[str, Any]] = []

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length)
        signature = sigv4.signature_of(environ)
        failure = signature and sigv4.verify(
            environ, body, signature, SECRET, None, signature.signed_at
        )
        seen.append({"raw": environ.get("RAW_URI"), "failure": failure})
        start_response("200 OK", [("Content-Type", "application/xml")])
        return [b""]

    server = make_server("127.0.0.1", 0, app)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_port}"
        client = boto3.client("s3", region_name="eu-west-1", endpoint_url=url,
                              aws_access_key_id=KEY, aws_secret_access_key=SECRET,
                              config=Config(retries={"max_attempts": 1}, connect_timeout=5,
                                            signature_version="s3v4",
                                            read_timeout=5))  # fmt: skip
        client.put_object(Bucket="b", Key="items%2Fx y+ü", Body=b"z")
        presigned_url = client.generate_presigned_url(
            "get_object", Params={"Bucket": "b", "Key": "a b"}, ExpiresIn=60
        )
        requests.get(presigned_url, timeout=5)
    finally:
        server.shutdown()
        thread.join(timeout=5)
    assert [entry["failure"] for entry in seen] == [None, None]
    assert seen[0]["raw"] == "/b/items%252Fx%20y%2B%C3%BC"
