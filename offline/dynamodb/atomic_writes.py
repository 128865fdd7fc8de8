"""DynamoDB's write semantics that moto lacks: each request applied atomically, and
transactions made idempotent by their client token.

moto evaluates a ConditionExpression and then writes, with nothing between the two, and the
emulator's threaded server runs requests in parallel: two UpdateItems with the same
condition could both pass it, and one write was lost. DynamoDB evaluates a condition and
applies the write as one step, and a transaction all or nothing
(https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/WorkingWithItems.html#WorkingWithItems.ConditionalUpdate,
https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/transaction-apis.html).
One lock around every DynamoDB request gives that, and reads never see half a write.

A TransactWriteItems repeated with the same ClientRequestToken within ten minutes succeeds
without writing again, and one with other parameters fails with IdempotentParameterMismatch
(https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_TransactWriteItems.html).
botocore fills the token in and keeps it across its retries, so on AWS a transaction whose
response was lost is retried safely; moto ignored the token and failed the retry's
conditions.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from typing import Any

from moto.dynamodb import responses
from moto.dynamodb.exceptions import ERROR_TYPE_PREFIX, DynamodbException

from offline.common.patching import wrap

_LOCK = threading.Lock()
TOKEN_WINDOW_S = 600
# ClientRequestToken -> (when, the request's parameters, the first answer)
_transactions: dict[str, tuple[float, str, Any]] = {}


class IdempotentParameterMismatch(DynamodbException):
    def __init__(self) -> None:
        super().__init__(
            ERROR_TYPE_PREFIX + "IdempotentParameterMismatchException",
            "Request parameters do not match the parameters of the request with the same"
            " ClientRequestToken",
        )


# Patched in place by install(): moto's own types do not allow it, so it is handled as Any.
DynamoHandler: Any = responses.DynamoHandler


def _idempotent(transact: Callable[[Any], Any]) -> Callable[[Any], Any]:
    def transact_write_items(self: Any) -> Any:
        token = self.body.get("ClientRequestToken")
        if not token:
            return transact(self)
        request = json.dumps(
            {k: v for k, v in self.body.items() if k != "ClientRequestToken"}, sort_keys=True
        )
        moment = time.monotonic()
        for old in [
            t for t, (when, _, _) in _transactions.items() if moment - when > TOKEN_WINDOW_S
        ]:
            del _transactions[old]
        if token in _transactions:
            _, seen, answer = _transactions[token]
            if seen != request:
                raise IdempotentParameterMismatch()
            return answer  # the first call's success, nothing written again
        answer = transact(self)
        _transactions[token] = (moment, request, answer)
        return answer

    return transact_write_items


def _serialised(call_action: Callable[[Any], Any]) -> Callable[[Any], Any]:
    def call_action_atomically(self: Any) -> Any:
        with _LOCK:
            return call_action(self)

    call_action_atomically.__wrapped__ = call_action  # type: ignore[attr-defined]
    return call_action_atomically


def install() -> None:
    """Serialise DynamoDB requests and honour transaction tokens; safe to call again."""
    wrap(DynamoHandler, "call_action", _serialised)
    wrap(DynamoHandler, "transact_write_items", _idempotent)
