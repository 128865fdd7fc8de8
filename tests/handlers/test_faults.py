"""Dependencies that fail: retried by botocore, then 503 with Retry-After, and nothing half
written. Faults are injected below botocore's retry layer, so the retries really happen."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from types import ModuleType
from typing import Any

import pytest
from botocore.awsrequest import AWSResponse, HTTPHeaders
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


def headers(request_id: str) -> HTTPHeaders:
    return HTTPHeaders.from_dict({"x-amzn-requestid": request_id})


@pytest.fixture(autouse=True)
def backoffs(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """botocore's backoff sleeps, recorded instead of slept (botocore.endpoint calls
    time.sleep between attempts)."""
    slept: list[float] = []
    monkeypatch.setattr(time, "sleep", slept.append)
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
    """Every `operation` of `service` answers `status`/`code`, whichever client sends it (a
    handler keeps the client it made at import); yields the attempts."""
    attempts: list[str] = []
    emulate = BotocoreStubber.__call__

    def answer(self: BotocoreStubber, event_name: str, request: Any, **kw: Any) -> Any:
        if not event_name.endswith(f".{service}.{operation}"):
            return emulate(self, event_name, request, **kw)
        request.faulted = True
        attempts.append(operation)
        body = json.dumps({"__type": code, "message": "injected"}).encode()
        return AWSResponse(request.url, status, headers("fault"), _Body(body))

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(BotocoreStubber, "__call__", answer)
        yield attempts


@contextmanager
def losing_first_answer(operation: str) -> Iterator[list[str]]:
    """The first `operation` reaches DynamoDB and is applied, but its answer is lost (a 500
    instead), so botocore sends it again: what a dropped connection does on AWS."""
    lost: list[str] = []
    emulate = BotocoreStubber.__call__

    def apply_then_lose(self: BotocoreStubber, event_name: str, request: Any, **kw: Any) -> Any:
        answer = emulate(self, event_name, request, **kw)
        if event_name.endswith(f".dynamodb.{operation}") and not lost:
            lost.append(operation)
            body = json.dumps({"__type": "InternalServerError", "message": "lost"}).encode()
            return AWSResponse(request.url, 500, headers("lost"), _Body(body))
        return answer

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(BotocoreStubber, "__call__", apply_then_lose)
        yield lost


def test_a_retried_create_answers_its_own_success(invoke: Invoke) -> None:
    me = new_user()
    with losing_first_answer("PutItem") as lost:
        reply = call(invoke, "POST", "/items", me, body={"name": "Once"})
    assert lost and reply.status == 201, reply.text
    assert [i["name"] for i in call(invoke, "GET", "/items", me).json["items"]] == ["Once"]


def test_a_retried_update_answers_its_own_success_not_412(invoke: Invoke) -> None:
    me = new_user()
    item = create_item(invoke, me)
    path = f"/items/{item['id']}"
    with losing_first_answer("UpdateItem") as lost:
        reply = call(invoke, "PATCH", path, me, body={"name": "New"}, headers={"if-match": '"1"'})
    assert lost and reply.status == 200, reply.text
    assert reply.json["version"] == 2 and reply.json["name"] == "New"
    assert call(invoke, "GET", path, me).json["version"] == 2  # written once
    # A condition that really fails still answers 412.
    stale = call(invoke, "PATCH", path, me, body={"name": "x"}, headers={"if-match": '"1"'})
    assert_error(stale, 412, "precondition_failed")


def test_a_retried_delete_answers_its_own_success_not_404(invoke: Invoke) -> None:
    me = new_user()
    item = create_item(invoke, me)
    path = f"/items/{item['id']}"
    with losing_first_answer("DeleteItem") as lost:
        reply = call(invoke, "DELETE", path, me, headers={"if-match": '"1"'})
    assert lost and reply.status == 204, reply.text
    assert_error(call(invoke, "DELETE", path, me, headers={"if-match": '"1"'}), 404)


def test_a_retried_transaction_is_applied_once(invoke: Invoke) -> None:
    """botocore keeps the transaction's ClientRequestToken across its retries, and DynamoDB
    answers a repeat with the first call's success (the emulator's DynamoDB too)."""
    me = new_user()
    with losing_first_answer("TransactWriteItems") as lost:
        reply = call(invoke, "POST", "/users", me,
                     body={"email": f"{me}@example.com", "name": "A"})  # fmt: skip
    assert lost and reply.status == 201, reply.text


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
