"""Dependencies that fail: retried by botocore, then 503 with Retry-After, and nothing half
written. Faults are injected below botocore's retry layer, so the retries really happen."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from types import ModuleType
from typing import Any

import botocore.endpoint
import pytest
from botocore.awsrequest import AWSResponse
from moto.core.botocore_stubber import BotocoreStubber

from backend_kit.aws import client
from backend_kit.records import value
from backend_kit.secrets import _provider
from tests.handlers.conftest import Invoke, new_user
from tests.handlers.helpers import assert_error, call, create_item, register


class _Body:
    def __init__(self, data: bytes) -> None:
        self.data = data

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self.data


@pytest.fixture(autouse=True)
def backoffs(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """botocore's backoff sleeps, recorded instead of slept."""
    slept: list[float] = []
    monkeypatch.setattr(botocore.endpoint.time, "sleep", slept.append)
    return slept


@pytest.fixture(autouse=True)
def exclusive_faults(monkeypatch: pytest.MonkeyPatch) -> None:
    """botocore calls every before-send handler; a request answered by a fault must not
    also reach the emulator, or it would apply a write the caller saw fail."""
    emulate = BotocoreStubber.__call__

    def unless_faulted(self: BotocoreStubber, event_name: str, request: Any, **kw: Any) -> Any:
        return (
            None if getattr(request, "faulted", False) else emulate(self, event_name, request, **kw)
        )

    monkeypatch.setattr(BotocoreStubber, "__call__", unless_faulted)


@contextmanager
def failing(service: str, operation: str, status: int, code: str) -> Iterator[list[str]]:
    """Every `operation` on the shared client answers `status`/`code`; yields the attempts."""
    attempts: list[str] = []

    def answer(request: Any, **_: Any) -> AWSResponse:
        request.faulted = True
        attempts.append(operation)
        body = json.dumps({"__type": code, "message": "injected"}).encode()
        return AWSResponse(request.url, status, {"x-amzn-requestid": "fault"}, _Body(body))

    events = client(service).meta.events
    events.register_first(f"before-send.{service}.{operation}", answer)
    try:
        yield attempts
    finally:
        events.unregister(f"before-send.{service}.{operation}", answer)


def test_dynamodb_throttling_gives_503_after_the_retries(
    invoke: Invoke, backoffs: list[float]
) -> None:
    me = new_user()
    item = create_item(invoke, me)
    with failing("dynamodb", "GetItem", 400, "ProvisionedThroughputExceededException") as tries:
        reply = call(invoke, "GET", f"/items/{item['id']}", me)
    assert_error(reply, 503, "unavailable")
    assert reply.headers["retry-after"] == "1"
    assert len(tries) == 3  # botocore standard mode, three attempts in all
    assert len(backoffs) == 2  # with a backoff before each retry


def test_ssm_unavailable_gives_503(invoke: Invoke) -> None:
    me = new_user()
    for _ in range(2):
        create_item(invoke, me)
    _provider().clear_cache()  # a cold container: the signing key is not cached yet
    with failing("ssm", "GetParameter", 500, "InternalServerError") as tries:
        reply = call(invoke, "GET", "/items", me, query={"limit": "1"})
    assert_error(reply, 503, "unavailable")
    assert len(tries) == 3
    assert call(invoke, "GET", "/items", me, query={"limit": "1"}).status == 200


def test_a_failed_registration_transaction_leaves_neither_record(invoke: Invoke) -> None:
    me = new_user()
    email = f"atomic.{me}@example.com"
    with failing("dynamodb", "TransactWriteItems", 400, "ThrottlingException"):
        reply = call(invoke, "POST", "/users", me, body={"email": email, "name": "A"})
    assert_error(reply, 503)
    for key in (f"user#{me}", f"email#{email}"):
        found = client("dynamodb").get_item(
            TableName=os.environ["USERS_TABLE"], Key={"pk": value(key)}
        )
        assert "Item" not in found, key
    register(invoke, me, email=email)  # and the caller can simply retry


def test_an_unexpected_error_is_a_500_without_a_trace(
    invoke: Invoke, stack: dict[str, ModuleType], monkeypatch: pytest.MonkeyPatch
) -> None:
    def explode(*_: Any) -> None:
        raise RuntimeError("secret internals at /var/task/catalog.py")

    class Exploding:
        get = staticmethod(explode)

    monkeypatch.setattr(stack["items"], "catalog", Exploding())
    reply = call(invoke, "GET", f"/items/{new_user()}", new_user())
    error = assert_error(reply, 500, "internal_error")
    assert "secret" not in reply.text and "catalog.py" not in reply.text
    assert error["message"] == "An unexpected error occurred"
