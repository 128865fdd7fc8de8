"""Whatever arrives, the answer is never a 5xx, every 4xx is the contract's error, and no
response carries a traceback."""

from __future__ import annotations

import base64
import json
from typing import Any

import hypothesis
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st

from template_gen.spec import SPEC
from tests.handlers.conftest import Invoke
from tests.handlers.helpers import function_of
from tests.http_events import ALICE, BOB, http_event

# API Gateway hands over valid Unicode: no lone surrogates.
TEXT = st.text(alphabet=st.characters(exclude_categories=["Cs"]), max_size=300)
ROUTE_METHODS: dict[str, list[str]] = {}
for _function in SPEC.functions:
    for _route in _function.routes:
        if _route.authorized:
            ROUTE_METHODS.setdefault(_route.path, []).append(_route.method)
ROUTES = sorted(ROUTE_METHODS)
OTHER_METHODS = ["GET", "POST", "PATCH", "DELETE", "PUT", "OPTIONS", "HEAD"]
HEADERS = ["content-type", "if-match", "idempotency-key", "accept", "x-anything"]

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | TEXT,
    lambda children: st.lists(children, max_size=5) | st.dictionaries(TEXT, children, max_size=5),
    max_leaves=20,
)
shaped_bodies = st.fixed_dictionaries(
    {},
    optional={
        "name": json_values,
        "description": json_values,
        "price_cents": json_values,
        "tags": json_values,
        "email": json_values,
        "filename": json_values,
        "content_type": json_values,
        "size": json_values,
    },
)


@st.composite
def bodies(draw: st.DrawFn) -> dict[str, Any]:
    kind = draw(st.sampled_from(["none", "json", "shaped", "text", "bytes", "huge", "deep"]))
    if kind == "none":
        return {}
    if kind == "json":
        return {"raw_body": json.dumps(draw(json_values))}
    if kind == "shaped":
        return {"raw_body": json.dumps(draw(shaped_bodies))}
    if kind == "text":
        return {"raw_body": draw(TEXT)}
    if kind == "bytes":
        return {"raw_body": draw(st.binary(max_size=300))}
    if kind == "huge":
        return {"raw_body": json.dumps({"name": "x" * draw(st.integers(60_000, 70_000))})}
    depth = draw(st.integers(100, 50_000))
    return {"raw_body": "[" * depth + "]" * depth}


@st.composite
def requests(draw: st.DrawFn) -> tuple[str, dict[str, Any]]:
    route = draw(st.sampled_from(ROUTES))
    identifier = draw(
        st.one_of(st.uuids().map(str), TEXT.filter(lambda t: "/" not in t), st.just(ALICE))
    )
    path = route.replace("{id}", identifier)
    headers = draw(st.dictionaries(st.sampled_from(HEADERS), TEXT, max_size=4))
    if draw(st.integers(0, 3)):
        headers["content-type"] = draw(
            st.sampled_from(["application/json", "application/json; charset=utf-8"])
        )
    query = draw(st.dictionaries(st.sampled_from(["limit", "cursor", "q"]), TEXT, max_size=3))
    # Mostly well-formed envelopes, so most inputs get past routing and auth to the checks.
    well_formed = st.sampled_from([ALICE, BOB])
    caller = draw(well_formed if draw(st.integers(0, 4)) else st.one_of(st.none(), TEXT))
    methods = ROUTE_METHODS[route] if draw(st.integers(0, 4)) else OTHER_METHODS
    event = http_event(
        draw(st.sampled_from(methods)),
        route,
        path=path,
        caller=caller or None,
        headers=headers,
        query=query,
        **draw(bodies()),
    )
    return function_of(route), event


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(request=requests())
def test_no_input_gets_a_5xx_or_a_trace(invoke: Invoke, request: tuple[str, dict]) -> None:
    function, event = request
    reply = invoke(function, event)
    note(f"{event['requestContext']['http']['method']} {function}: {reply.status}")
    hypothesis.event(f"status {reply.status}")
    assert reply.status < 500, reply.text
    assert "Traceback" not in reply.text and 'File "' not in reply.text
    if reply.status >= 400:
        assert reply.headers["content-type"] == "application/json"
        error = reply.json["error"]
        assert {"code", "message", "request_id"} <= set(error)
        assert all(isinstance(error[k], str) for k in ("code", "message", "request_id"))


def test_the_generator_reaches_the_interesting_cases() -> None:
    """A guard on the strategy itself: binary bodies are base64 events."""
    event = http_event("POST", "/items", raw_body=b"\xff")
    assert event["isBase64Encoded"] and base64.b64decode(event["body"]) == b"\xff"


@st.composite
def writes(draw: st.DrawFn) -> tuple[str, dict[str, Any]]:
    """Well-addressed writes with arbitrary field values: the validators' own ground."""
    body = draw(shaped_bodies)
    target = draw(
        st.sampled_from(
            [
                "POST /items",
                "POST /users",
                "PATCH /items/{id}",
                "PATCH /users/{id}",
                "POST /items/{id}/attachments",
            ]
        )
    )
    method, route = target.split(" ")
    path = route.replace("{id}", ALICE if route.startswith("/users") else draw(st.uuids()).hex)
    headers = {"if-match": draw(st.sampled_from(['"1"', "2", 'W/"1"', "x"]))}
    event = http_event(method, route, path=path, caller=ALICE, body=body, headers=headers)
    return function_of(route), event


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(request=writes())
def test_arbitrary_field_values_get_a_4xx_or_a_success(invoke: Invoke, request: tuple) -> None:
    function, event = request
    reply = invoke(function, event)
    hypothesis.event(f"status {reply.status}")
    assert reply.status < 500, reply.text
    if reply.status >= 400:
        assert set(reply.json["error"]) >= {"code", "message", "request_id"}
