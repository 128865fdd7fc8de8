"""Requests read as the calls they make (offline/enforcement/call_parser.py), S3 keys above
all: decoded once, exactly as S3 reads them."""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote

import pytest
from werkzeug.test import EnvironBuilder

from offline.enforcement.call_parser import parse

ACCOUNT = "123456789012"


def s3_environ(method: str, raw_uri: str, **headers: str) -> dict[str, Any]:
    """A request as werkzeug's server presents it: PATH_INFO decoded once, the URI raw."""
    path, _, query = raw_uri.partition("?")
    environ = EnvironBuilder(method=method, path=unquote(path), query_string=query,
                             headers=list(headers.items())).get_environ()  # fmt: skip
    environ["RAW_URI"] = raw_uri
    return environ


@pytest.mark.parametrize(
    ("raw_uri", "key"),
    [
        ("/b/items/a.png", "items/a.png"),
        ("/b/items%252Fescape.png", "items%2Fescape.png"),  # a key holding "%2F"
        ("/b/items/a%20b%2Bc.png", "items/a b+c.png"),
        ("/b/items/%C3%BC.png", "items/ü.png"),
    ],
)
def test_a_key_is_the_uri_decoded_once(raw_uri: str, key: str) -> None:
    call = parse(s3_environ("PUT", raw_uri), b"", "s3", "us-east-1", ACCOUNT)
    assert (call.operation, call.params["Bucket"], call.params["Key"]) == ("PutObject", "b", key)


def test_a_presigned_url_and_response_overrides_are_the_plain_operation() -> None:
    """sigv4-query-string-auth.html: the signature's own parameters select nothing; GetObject
    takes response-* overrides (API_GetObject.html)."""
    signed = "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=k%2F20261205%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20261205T000000Z&X-Amz-Expires=60&X-Amz-SignedHeaders=host&X-Amz-Signature=00"  # noqa: E501
    get = parse(s3_environ("GET", f"/b/k?response-content-disposition=inline&{signed}"), b"",
                "s3", "us-east-1", ACCOUNT)  # fmt: skip
    assert get.operation == "GetObject"
    put = parse(s3_environ("PUT", f"/b/k?{signed}"), b"", "s3", "us-east-1", ACCOUNT)
    assert put.operation == "PutObject"
    # An override on anything but GET is no object operation the emulator knows.
    assert parse(s3_environ("PUT", "/b/k?response-content-type=x"), b"", "s3", "r",
                 ACCOUNT).operation.startswith("PUT object ?")  # fmt: skip


def test_sub_resources_and_copies_are_not_taken_for_object_operations() -> None:
    for method, uri, headers in [
        ("PUT", "/b/k?tagging", {}),
        ("PUT", "/b/k?acl", {}),
        ("GET", "/b/k?attributes", {}),
        ("PUT", "/b/k", {"x-amz-copy-source": "/b/other"}),
    ]:
        call = parse(s3_environ(method, uri, **headers), b"", "s3", "us-east-1", ACCOUNT)
        assert call.operation not in ("PutObject", "GetObject"), (method, uri)


def test_a_listing_and_its_parameters() -> None:
    call = parse(s3_environ("GET", "/b?list-type=2&prefix=items%2F&max-keys=5"), b"", "s3",
                 "us-east-1", ACCOUNT)  # fmt: skip
    assert call.operation == "ListBucket"
    assert call.params["Query"] == {"list-type": "2", "prefix": "items/", "max-keys": "5"}


def test_headers_reach_the_call_in_lower_case() -> None:
    call = parse(s3_environ("PUT", "/b/k", **{"X-Amz-ACL": "public-read"}), b"", "s3", "r",
                 ACCOUNT)  # fmt: skip
    assert call.params["Headers"]["x-amz-acl"] == "public-read"


def test_json_and_query_protocols() -> None:
    target = [("X-Amz-Target", "DynamoDB_20120810.GetItem")]
    environ = EnvironBuilder(method="POST", path="/", headers=target).get_environ()
    call = parse(environ, b'{"TableName": "t"}', "dynamodb", "eu-west-1", ACCOUNT)
    assert (call.operation, call.params, call.region) == (
        "GetItem",
        {"TableName": "t"},
        "eu-west-1",
    )
    form = "application/x-www-form-urlencoded"
    environ = EnvironBuilder(method="POST", path="/", content_type=form).get_environ()
    call = parse(environ, b"Action=GetCallerIdentity&Version=2011-06-15", "sts", "r", ACCOUNT)
    assert call.operation == "GetCallerIdentity"


def test_a_lambda_function_configuration_read_is_its_operation_with_the_path_and_qualifier() -> (
    None
):
    environ = EnvironBuilder(method="GET", path="/2015-03-31/functions/app-users/configuration",
                             query_string="Qualifier=live").get_environ()  # fmt: skip
    call = parse(environ, b"", "lambda", "us-east-1", ACCOUNT)
    assert (call.operation, dict(call.params)) == (
        "GetFunctionConfiguration", {"FunctionName": "app-users", "Qualifier": "live"},
    )  # fmt: skip
    other = EnvironBuilder(method="POST", path="/2015-03-31/functions/app-users/invocations")
    unmodelled = parse(other.get_environ(), b"{}", "lambda", "us-east-1", ACCOUNT)
    assert unmodelled.operation == "POST /2015-03-31/functions/app-users/invocations"
