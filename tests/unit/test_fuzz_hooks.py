"""The fuzz run's one hook: valid Idempotency-Keys made unique, everything else untouched."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from offline.fuzz_hooks import map_headers

POST_ITEMS = SimpleNamespace(operation=SimpleNamespace(label="POST /items"))


def key_after(headers: dict[str, Any] | None, context: Any = POST_ITEMS) -> Any:
    mapped = map_headers(context, headers)
    return mapped.get("Idempotency-Key") if mapped else mapped


def test_the_same_valid_key_never_reaches_the_api_twice() -> None:
    keys = [key_after({"Idempotency-Key": "0"}) for _ in range(50)]
    assert len(set(keys)) == 50
    assert all(key.startswith("0-") and len(key) <= 128 for key in keys)


def test_invalid_keys_stay_invalid_so_their_rejection_is_still_tested() -> None:
    for invalid in ("", "has space", "x" * 129, "é"):
        assert key_after({"Idempotency-Key": invalid}) == invalid


def test_other_operations_and_headers_are_left_alone() -> None:
    other = SimpleNamespace(operation=SimpleNamespace(label="PATCH /items/{id}"))
    assert key_after({"Idempotency-Key": "0"}, other) == "0"
    assert map_headers(POST_ITEMS, {"Authorization": "Bearer x"}) == {"Authorization": "Bearer x"}
    assert map_headers(POST_ITEMS, None) is None
