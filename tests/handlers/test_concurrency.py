"""Two containers racing on the same record: conditional writes decide, not timing."""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable
from types import ModuleType
from typing import Any

import pytest
from moto.dynamodb.models import DynamoDBBackend

from tests.handlers.conftest import LambdaContext, Reply, new_user
from tests.handlers.helpers import call, create_item
from tests.handlers.stack import load_function
from tests.http_events import http_event

ROUNDS = 5


@pytest.fixture(autouse=True)
def atomic_writes(monkeypatch: pytest.MonkeyPatch) -> None:
    """DynamoDB applies a conditional write atomically; moto in-process checks and writes in
    separate Python steps, so its write operations are serialised here as the service does."""
    lock = threading.RLock()
    for name in ("put_item", "update_item", "delete_item", "transact_write_items", "get_item"):
        original = getattr(DynamoDBBackend, name)

        def serialised(*args: Any, _original: Callable = original, **kwargs: Any) -> Any:
            with lock:
                return _original(*args, **kwargs)

        monkeypatch.setattr(DynamoDBBackend, name, serialised)


@pytest.fixture(scope="module")
def containers(stack: dict[str, ModuleType]) -> tuple[ModuleType, ModuleType]:
    """Two warm containers of the items function, as two concurrent Lambda sandboxes."""
    return stack["items"], load_function("items", container=1)


def race(containers: tuple[ModuleType, ModuleType], event: dict[str, Any]) -> list[Reply]:
    barrier = threading.Barrier(len(containers))
    replies: list[Reply | None] = [None] * len(containers)

    def run(index: int) -> None:
        barrier.wait()
        replies[index] = Reply(containers[index].handler(event, LambdaContext()))

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(containers))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return [r for r in replies if r is not None]


def rename_at_version_1(item: dict[str, Any], caller: str) -> dict[str, Any]:
    return http_event(
        "PATCH",
        "/items/{id}",
        path=f"/items/{item['id']}",
        caller=caller,
        body={"name": "raced"},
        headers={"if-match": '"1"'},
    )


def test_two_updates_with_the_same_if_match_give_one_200_and_one_412(invoke, containers) -> None:
    me = new_user()
    for _ in range(ROUNDS):
        item = create_item(invoke, me)
        event = rename_at_version_1(item, me)
        statuses = sorted(reply.status for reply in race(containers, event))
        assert statuses == [200, 412]
        assert call(invoke, "GET", f"/items/{item['id']}", me).json["version"] == 2


def test_racing_identical_updates_in_one_millisecond_still_give_one_412(
    invoke, containers, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The loser's stored record then equals what it would have written; only a retry can make
    that record its own, so a first attempt that fails is a 412 however alike the two writes."""
    me = new_user()
    item = create_item(invoke, me)
    monkeypatch.setattr(sys.modules["catalog"], "now", lambda: "2026-01-01T00:00:00.000Z")
    event = rename_at_version_1(item, me)
    assert sorted(reply.status for reply in race(containers, event)) == [200, 412]


def test_two_creates_with_the_same_idempotency_key_make_one_item(invoke, containers) -> None:
    for round_ in range(ROUNDS):
        me = new_user()
        event = http_event(
            "POST",
            "/items",
            caller=me,
            body={"name": "Desk"},
            headers={"idempotency-key": f"race-{round_}"},
        )
        replies = race(containers, event)
        for reply in replies:
            # The loser either replays the winner's result or is told to retry shortly.
            assert reply.status == 201 or (reply.status == 409 and "retry-after" in reply.headers)
        retried = [Reply(containers[0].handler(event, LambdaContext())) for _ in range(2)]
        bodies = {r.text for r in [*replies, *retried] if r.status == 201}
        assert len(bodies) == 1
        assert len(call(invoke, "GET", "/items", me).json["items"]) == 1
