"""DynamoDB requests applied one at a time, as DynamoDB applies each write atomically.

moto evaluates a ConditionExpression and then writes, with nothing between the two, and the
emulator's threaded server runs requests in parallel: two UpdateItems with the same
condition could both pass it, and one write was lost. DynamoDB evaluates a condition and
applies the write as one step, and a transaction all or nothing
(https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/WorkingWithItems.html#WorkingWithItems.ConditionalUpdate,
https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/transaction-apis.html).
One lock around every DynamoDB request gives that, and reads never see half a write.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from moto.dynamodb.responses import DynamoHandler

_LOCK = threading.Lock()


def _serialised(call_action: Callable[[Any], Any]) -> Callable[[Any], Any]:
    def call_action_atomically(self: Any) -> Any:
        with _LOCK:
            return call_action(self)

    call_action_atomically._offline = True  # type: ignore[attr-defined]
    return call_action_atomically


def install() -> None:
    """Serialise the emulator's DynamoDB requests; safe to call more than once."""
    if not getattr(DynamoHandler.call_action, "_offline", False):
        DynamoHandler.call_action = _serialised(DynamoHandler.call_action)  # type: ignore[method-assign]
