"""Request helpers for the handler tests."""

from __future__ import annotations

from typing import Any

from tests.handlers.conftest import Invoke, Reply
from tests.http_events import http_event

REQUEST_ID = "JKJaXmPLvHcESHA="
FUNCTION_OF = {"users": "users", "items": "items", "health": "health"}


def call(invoke: Invoke, method: str, path: str, caller: str | None, **kwargs: Any) -> Reply:
    """`path` is concrete (`/items/abc`); the route key is derived for the event."""
    parts = path.strip("/").split("/")
    function = FUNCTION_OF[parts[0]]
    route = "/" + "/".join(p if i != 1 else "{id}" for i, p in enumerate(parts))
    return invoke(function, http_event(method, route, path=path, caller=caller, **kwargs))


def assert_error(reply: Reply, status: int, code: str | None = None) -> dict[str, Any]:
    assert reply.status == status, reply.text
    assert reply.headers["content-type"] == "application/json"
    error = reply.json["error"]
    assert isinstance(error["code"], str) and isinstance(error["message"], str)
    assert error["request_id"] == REQUEST_ID
    if code:
        assert error["code"] == code, error
    assert "Traceback" not in reply.text
    return error


def register(invoke: Invoke, caller: str, email: str | None = None, name: str = "A") -> Reply:
    email = email or f"{caller}@example.com"
    reply = call(invoke, "POST", "/users", caller, body={"email": email, "name": name})
    assert reply.status == 201, reply.text
    return reply


def create_item(invoke: Invoke, caller: str, **fields: Any) -> dict[str, Any]:
    reply = call(invoke, "POST", "/items", caller, body={"name": "Lamp", **fields})
    assert reply.status == 201, reply.text
    return reply.json
