"""HTTP API payload v2 events, shaped like `sam local generate-event apigateway
http-api-proxy`, with the JWT claims the authorizer passes through.

`python -m tests.http_events` rewrites events/<function>/<case>.json from CASES: the cases
written for the contract, and an event for every other route of the spec. A test fails when
the files and CASES disagree.
"""

from __future__ import annotations

import base64
import json
import re
import sys
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

from template_gen.model import Route, Spec
from template_gen.spec import SPEC

ROOT = Path(__file__).resolve().parent.parent
EVENTS = ROOT / "events"
ALICE = "7d5e2f0a-1c3b-4e8f-9a6d-2b4c6e8f0a1c"
BOB = "0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9"
ITEM_ID = "019a0000-0000-7000-8000-000000000001"


def claims(subject: str) -> dict[str, str]:
    return {
        "sub": subject,
        "iss": "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_example",
        "client_id": "exampleclientid",
        "token_use": "access",
        "scope": "aws.cognito.signin.user.admin",
        "username": subject,
        "exp": "1893456000",
        "iat": "1893452400",
    }


def http_event(
    method: str,
    route: str,
    *,
    path: str | None = None,
    caller: str | None = ALICE,
    body: Any = None,
    raw_body: str | bytes | None = None,
    headers: dict[str, str] | None = None,
    query: dict[str, str] | None = None,
    path_parameters: dict[str, str] | None = None,
) -> dict[str, Any]:
    """`route` is the template's route key path (`/items/{id}`); `path` the concrete one."""
    path = path or route
    all_headers = {
        "accept": "application/json",
        "host": "abc123.execute-api.us-east-1.amazonaws.com",
        "user-agent": "curl/8.5.0",
        "x-forwarded-proto": "https",
    }
    if caller:
        all_headers["authorization"] = "Bearer eyJhbGciOiJSUzI1NiJ9.example.signature"
    encoded = False
    if body is not None:
        raw_body = json.dumps(body)
        all_headers["content-type"] = "application/json"
    if isinstance(raw_body, bytes):
        raw_body, encoded = base64.b64encode(raw_body).decode(), True
    all_headers.update(headers or {})
    context: dict[str, Any] = {
        "accountId": "123456789012",
        "apiId": "abc123",
        "domainName": "abc123.execute-api.us-east-1.amazonaws.com",
        "domainPrefix": "abc123",
        "http": {
            "method": method,
            "path": path,
            "protocol": "HTTP/1.1",
            "sourceIp": "203.0.113.10",
            "userAgent": "curl/8.5.0",
        },
        "requestId": "JKJaXmPLvHcESHA=",
        "routeKey": f"{method} {route}",
        "stage": "$default",
        "time": "23/Nov/2026:19:00:00 +0000",
        "timeEpoch": 1795460400000,
    }
    if caller:
        context["authorizer"] = {"jwt": {"claims": claims(caller), "scopes": None}}
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": f"{method} {route}",
        "rawPath": quote(path),
        "rawQueryString": urlencode(query or {}),
        "headers": all_headers,
        "requestContext": context,
        "isBase64Encoded": encoded,
    }
    if query:
        event["queryStringParameters"] = dict(query)
    if path_parameters:
        event["pathParameters"] = dict(path_parameters)
    if raw_body is not None:
        event["body"] = raw_body
    return event


def item_path(suffix: str = "") -> dict[str, Any]:
    return {"path": f"/items/{ITEM_ID}{suffix}", "path_parameters": {"id": ITEM_ID}}


def user_path() -> dict[str, Any]:
    return {"path": f"/users/{ALICE}", "path_parameters": {"id": ALICE}}


# function -> case -> event.
Cases = dict[str, dict[str, dict[str, Any]]]
# The cases written for the contract. They run in this order against fresh tables in the tests.
WRITTEN: Cases = {
    "health": {"get": http_event("GET", "/health", caller=None)},
    "users": {
        "register": http_event(
            "POST", "/users", body={"email": "Alice@Example.com", "name": "Alice"}
        ),
        "register-invalid": http_event("POST", "/users", body={"email": "nope", "name": ""}),
        "register-not-json": http_event(
            "POST", "/users", raw_body="email=a", headers={"content-type": "text/plain"}
        ),
        "list": http_event("GET", "/users", query={"limit": "10"}),
        "get": http_event("GET", "/users/{id}", **user_path()),
        "update-without-if-match": http_event(
            "PATCH", "/users/{id}", body={"name": "Al"}, **user_path()
        ),
        "update": http_event(
            "PATCH",
            "/users/{id}",
            body={"name": "Alice B."},
            headers={"if-match": '"1"'},
            **user_path(),
        ),
        "delete": http_event("DELETE", "/users/{id}", headers={"if-match": '"2"'}, **user_path()),
        "no-token": http_event("GET", "/users", caller=None),
    },
    "items": {
        "create": http_event(
            "POST", "/items", body={"name": "Lamp", "price_cents": 1999, "tags": ["home"]}
        ),
        "create-idempotent": http_event(
            "POST", "/items", body={"name": "Desk"}, headers={"idempotency-key": "order-42"}
        ),
        "create-too-large": http_event("POST", "/items", body={"name": "x" * 70_000}),
        "list": http_event("GET", "/items", query={"limit": "20"}),
        "get-missing": http_event("GET", "/items/{id}", **item_path()),
        "update-missing": http_event(
            "PATCH",
            "/items/{id}",
            body={"name": "Lamp 2"},
            headers={"if-match": '"1"'},
            **item_path(),
        ),
        "delete-without-if-match": http_event("DELETE", "/items/{id}", **item_path()),
        "attachment-missing-item": http_event(
            "POST",
            "/items/{id}/attachments",
            body={"filename": "photo.png", "content_type": "image/png", "size": 1024},
            **item_path("/attachments"),
        ),
    },
}


def route_event(route: Route) -> dict[str, Any]:
    """An event for `route` with an id for each of its path parameters: what a route that no
    case was written for gets (a token too, unless the route is open)."""
    parameters = {name: ITEM_ID for name in re.findall(r"\{(\w+)\}", route.path)}
    path = re.sub(r"\{(\w+)\}", ITEM_ID, route.path)
    caller = ALICE if route.authorized else None
    return http_event(
        route.method, route.path, path=path, caller=caller, path_parameters=parameters or None
    )


def route_case(route: Route) -> str:
    """`GET /orders/{id}/lines` -> `get-orders-id-lines`."""
    words = re.findall(r"[a-z0-9]+", route.path.lower())
    return "-".join([route.method.lower(), *words])


def spec_cases(spec: Spec, written: Cases) -> Cases:
    """The written cases of each function of `spec`, then an event for each of its routes that
    none of them covers, so a new function has an event per route without a written case."""
    cases: Cases = {}
    for function in spec.functions:
        own = dict(written.get(function.name, {}))
        covered = {event["routeKey"] for event in own.values()}
        for route in function.routes:
            if route.key not in covered:
                own[route_case(route)] = route_event(route)
        cases[function.name] = own
    return cases


CASES = spec_cases(SPEC, WRITTEN)

# The status each written case gets when the cases run in order against empty tables.
EXPECTED_STATUS = {
    ("health", "get"): 200,
    ("users", "register"): 201,
    ("users", "register-invalid"): 400,
    ("users", "register-not-json"): 415,
    ("users", "list"): 200,
    ("users", "get"): 200,
    ("users", "update-without-if-match"): 428,
    ("users", "update"): 200,
    ("users", "delete"): 204,
    ("users", "no-token"): 401,
    ("items", "create"): 201,
    ("items", "create-idempotent"): 201,
    ("items", "create-too-large"): 413,
    ("items", "list"): 200,
    ("items", "get-missing"): 404,
    ("items", "update-missing"): 404,
    ("items", "delete-without-if-match"): 428,
    ("items", "attachment-missing-item"): 404,
}


def render(event: dict[str, Any]) -> str:
    return json.dumps(event, indent=2, sort_keys=True) + "\n"


def write_all() -> None:
    for function, cases in CASES.items():
        folder = EVENTS / function
        folder.mkdir(parents=True, exist_ok=True)
        for stale in set(folder.glob("*.json")) - {folder / f"{c}.json" for c in cases}:
            stale.unlink()
        for case, event in cases.items():
            (folder / f"{case}.json").write_text(render(event))


if __name__ == "__main__":
    write_all()
    sys.exit(0)
