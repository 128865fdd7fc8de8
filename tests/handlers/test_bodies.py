"""How a handler reads the event: base64 strictly, the size limit on the decoded bytes before
anything else looks at them, and a request id even where API Gateway gave none."""

from __future__ import annotations

import json
from types import ModuleType

import pytest

from tests.handlers.conftest import Invoke, LambdaContext, Reply, new_user
from tests.handlers.helpers import assert_error
from tests.http_events import http_event

JSON_TYPE = {"content-type": "application/json"}


@pytest.fixture
def limit(stack: dict[str, ModuleType]) -> int:
    """The shared layer's body limit. Imported once the stack's environment is set: importing
    backend_kit.http before that would make its Metrics without a namespace."""
    from backend_kit.http import MAX_BODY_BYTES

    return MAX_BODY_BYTES


def padded(body: dict[str, str], size: int) -> bytes:
    """`body` as JSON of exactly `size` bytes: trailing spaces are still JSON."""
    data = json.dumps(body).encode()
    return data + b" " * (size - len(data))


def test_a_body_that_is_not_base64_is_malformed(invoke: Invoke) -> None:
    # Lenient decoding would drop the "!!" and read "{}".
    event = http_event("POST", "/items", caller=new_user(), raw_body="e30=!!", headers=JSON_TYPE)
    event["isBase64Encoded"] = True
    error = assert_error(invoke("items", event), 400, "malformed_request")
    assert "base64" in error["message"]


def test_the_size_limit_counts_the_decoded_bytes(invoke: Invoke, limit: int) -> None:
    me = new_user()
    at_limit = padded({"name": "Lamp"}, limit)
    event = http_event("POST", "/items", caller=me, raw_body=at_limit, headers=JSON_TYPE)
    assert event["isBase64Encoded"] and len(event["body"]) > limit
    assert invoke("items", event).status == 201
    over = padded({"name": "Lamp"}, limit + 1)
    event = http_event("POST", "/items", caller=me, raw_body=over, headers=JSON_TYPE)
    assert_error(invoke("items", event), 413, "payload_too_large")


def test_an_oversized_body_is_413_whatever_its_type_or_content(invoke: Invoke, limit: int) -> None:
    me = new_user()
    for raw in (b"\xff" * (limit + 1), "\ud800" * (limit // 3 + 1)):
        event = http_event(
            "POST", "/items", caller=me, raw_body=raw, headers={"content-type": "text/plain"}
        )
        assert_error(invoke("items", event), 413, "payload_too_large")


def test_a_lone_surrogate_outside_a_json_string_is_malformed(invoke: Invoke) -> None:
    event = http_event("POST", "/items", caller=new_user(), raw_body="\ud800", headers=JSON_TYPE)
    assert_error(invoke("items", event), 400, "malformed_request")


def test_without_api_gateways_request_id_the_error_quotes_lambdas(
    stack: dict[str, ModuleType],
) -> None:
    event = http_event("GET", "/items/missing", caller=new_user())
    del event["requestContext"]["requestId"]
    context = LambdaContext()
    reply = Reply(stack["items"].handler(event, context))
    assert reply.status == 404
    assert reply.json["error"]["request_id"] == context.aws_request_id
