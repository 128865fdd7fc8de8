"""Request helpers for the handler tests."""

from __future__ import annotations

from typing import Any

from backend_kit import errors
from template_gen.model import Spec
from template_gen.spec import SPEC
from tests.handlers.conftest import Invoke, Reply
from tests.http_events import http_event

REQUEST_ID = "JKJaXmPLvHcESHA="


def owners(spec: Spec = SPEC) -> dict[str, str]:
    """The first segment of a path (`items` of `/items/{id}`) -> the function serving it."""
    owner: dict[str, str] = {}
    for function in spec.functions:
        for route in function.routes:
            segment = route.path.strip("/").split("/")[0]
            if owner.setdefault(segment, function.name) != function.name:
                raise ValueError(f"/{segment} is served by {owner[segment]} and {function.name}")
    return owner


FUNCTION_OF = owners()


def function_of(path: str) -> str:
    """The function a concrete (`/items/abc`) or template (`/items/{id}`) path goes to."""
    return FUNCTION_OF[path.strip("/").split("/")[0]]


def route_path(path: str, spec: Spec = SPEC) -> str:
    """The spec's route path (`/items/{id}`) that a concrete path (`/items/abc`) matches; a
    path no route matches stands for itself."""
    parts = path.strip("/").split("/")
    for function in spec.functions:
        for route in function.routes:
            pattern = route.path.strip("/").split("/")
            if len(pattern) == len(parts) and all(
                p == part or (p.startswith("{") and p.endswith("}"))
                for p, part in zip(pattern, parts, strict=True)
            ):
                return route.path
    return path


def call(invoke: Invoke, method: str, path: str, caller: str | None, **kwargs: Any) -> Reply:
    """`path` is concrete (`/items/abc`); the route key is derived for the event."""
    event = http_event(method, route_path(path), path=path, caller=caller, **kwargs)
    return invoke(function_of(path), event)


def unrouted(reply: Reply) -> bool:
    """Whether `reply` is the contract's answer to a request that no route of the function
    takes (a 404 like any other, told apart by its message)."""
    answer = errors.not_found("route")
    error = reply.json.get("error") if isinstance(reply.json, dict) else None
    return (
        reply.status == answer.status
        and isinstance(error, dict)
        and (error.get("code"), error.get("message")) == (answer.code, answer.message)
    )


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
