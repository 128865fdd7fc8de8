"""Payload format 2.0 as API Gateway builds and reads it."""

from __future__ import annotations

import base64
import json
from typing import Any

from offline.apigateway.authorizer import as_passed_through
from offline.apigateway.http_api import _pattern
from offline.apigateway.payload import HttpRequest, build_event, map_response


def request(**changes: Any) -> HttpRequest:
    values: dict[str, Any] = {
        "method": "POST",
        "raw_path": "/items/a%20b",
        "raw_query": "tag=a&tag=b&empty=",
        "headers": [
            ("Content-Type", "application/json"),
            ("X-Trace", "1"),
            ("x-trace", "2"),
            ("Cookie", "session=abc; theme=dark"),
        ],
        "body": b'{"name": "x"}',
        "source_ip": "127.0.0.1",
        "host": "127.0.0.1:3000",
    }
    values.update(changes)
    return HttpRequest(**values)


def test_event_has_the_v2_shape() -> None:
    event = build_event(request(), "POST /items/{id}", {"id": "a%20b"}, {"sub": "u1"}, "api")
    assert event["version"] == "2.0" and event["routeKey"] == "POST /items/{id}"
    assert event["headers"]["x-trace"] == "1,2"  # repeated headers joined with commas
    assert "cookie" not in event["headers"]
    assert event["cookies"] == ["session=abc", "theme=dark"]
    assert event["queryStringParameters"] == {"tag": "a,b", "empty": ""}
    assert event["rawQueryString"] == "tag=a&tag=b&empty="
    assert event["pathParameters"] == {"id": "a b"}
    assert event["requestContext"]["http"]["path"] == "/items/a b"
    assert event["requestContext"]["authorizer"]["jwt"]["claims"] == {"sub": "u1"}
    assert event["body"] == '{"name": "x"}' and event["isBase64Encoded"] is False


def test_binary_bodies_are_base64() -> None:
    body = b"\x89PNG\x00\xff"
    event = build_event(
        request(headers=[("content-type", "image/png")], body=body), "POST /items", {}, None, "api"
    )
    assert event["isBase64Encoded"] is True
    assert base64.b64decode(event["body"]) == body
    assert "authorizer" not in event["requestContext"]
    bad_text = build_event(request(body=b"\xff\xfe"), "POST /items", {}, None, "api")
    assert bad_text["isBase64Encoded"] is True


def test_a_plain_dict_is_a_200_json_response() -> None:
    response = map_response({"hello": "world"})
    assert response.status == 200
    assert ("content-type", "application/json") in response.headers
    assert json.loads(response.body) == {"hello": "world"}
    assert map_response("text").body == b"text"


def test_a_full_response_keeps_status_headers_cookies_and_binary() -> None:
    response = map_response(
        {
            "statusCode": 201,
            "headers": {"Location": "/items/1"},
            "cookies": ["a=1", "b=2"],
            "body": base64.b64encode(b"\x00\x01").decode(),
            "isBase64Encoded": True,
        }
    )
    assert response.status == 201
    assert ("Location", "/items/1") in response.headers
    assert [v for k, v in response.headers if k == "set-cookie"] == ["a=1", "b=2"]
    assert response.body == b"\x00\x01"


def test_route_patterns_match_one_segment_per_parameter() -> None:
    pattern = _pattern("/items/{id}/attachments")
    found = pattern.fullmatch("/items/abc/attachments")
    assert found is not None and found.groupdict() == {"id": "abc"}
    assert pattern.fullmatch("/items/a/b/attachments") is None


def test_claims_reach_the_function_as_strings() -> None:
    passed = as_passed_through({"exp": 1700000000, "groups": ["a", "b"], "admin": True})
    assert passed == {"exp": "1700000000", "groups": "[a b]", "admin": "true"}
