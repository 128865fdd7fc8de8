"""Handlers against moto in-process, in the stack the spec describes (tests/handlers/stack.py)."""

from __future__ import annotations

import collections
import json
import uuid
from collections.abc import Callable, Iterator
from types import ModuleType
from typing import Any

import botocore.client
import pytest

from tests.handlers.stack import ACCOUNT, REGION, entry_point, running


class LambdaContext:
    function_name = "test"
    function_version = "$LATEST"
    memory_limit_in_mb = 512
    invoked_function_arn = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:test"

    def __init__(self) -> None:
        self.aws_request_id = str(uuid.uuid4())

    def get_remaining_time_in_millis(self) -> int:
        return 10_000


@pytest.fixture(scope="session")
def stack() -> Iterator[dict[str, ModuleType]]:
    """Every function of the spec, in the stack the spec describes."""
    with running() as functions:
        yield functions


Invoke = Callable[..., "Reply"]


class Reply:
    def __init__(self, raw: dict[str, Any]) -> None:
        self.raw = raw
        self.status: int = raw["statusCode"]
        self.headers: dict[str, str] = {k.lower(): v for k, v in (raw.get("headers") or {}).items()}
        text = raw.get("body") or ""
        self.text: str = text
        self.json: Any = json.loads(text) if text else None


@pytest.fixture(scope="session")
def invoke(stack: dict[str, ModuleType]) -> Invoke:
    def call(function: str, event: dict[str, Any]) -> Reply:
        return Reply(entry_point(stack[function], function)(event, LambdaContext()))

    return call


@pytest.fixture
def aws_calls(monkeypatch: pytest.MonkeyPatch) -> collections.Counter:
    """(service, operation) of every AWS API call made while the test runs."""
    calls: collections.Counter = collections.Counter()
    # Private, so botocore's stubs leave it out; every API call of every client goes through it.
    original = vars(botocore.client.BaseClient)["_make_api_call"]

    def counting(self: Any, operation: str, params: dict) -> Any:
        calls[(self.meta.service_model.service_name, operation)] += 1
        return original(self, operation, params)

    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", counting)
    return calls


def new_user() -> str:
    return str(uuid.uuid4())
