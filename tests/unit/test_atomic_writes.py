"""The lock that makes the emulator's conditional writes atomic, shown deterministically: a
condition that takes a moment to evaluate lets racing writes through without it, and only
one with it."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError
from moto.dynamodb import models
from moto.dynamodb.responses import DynamoHandler
from moto.server import ThreadedMotoServer

from offline.common.endpoint import Endpoint
from offline.common.ports import free_ports
from offline.dynamodb import atomic_writes

CLIENTS = 8


@pytest.fixture
def slow_conditions(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """moto on loopback, where every condition waits 50 ms after it is evaluated: every
    racing request is then between its check and its write at once."""
    make_parser = models.create_condition_expression_parser

    def slow_parser(*args: Any, **kwargs: Any) -> Any:
        parser: Any = make_parser(*args, **kwargs)  # its parse is replaced, so Any
        parse = parser.parse

        def slow_parse() -> Any:
            op = parse()
            check = op.expr

            def slow_check(item: Any) -> Any:
                outcome = check(item)
                time.sleep(0.05)
                return outcome

            op.expr = slow_check
            return op

        parser.parse = slow_parse
        return parser

    monkeypatch.setattr(models, "create_condition_expression_parser", slow_parser)
    # moto's own dispatch, whether or not another test installed the lock in this process;
    # restored after the test.
    moto_alone = getattr(DynamoHandler.call_action, "__wrapped__", DynamoHandler.call_action)
    monkeypatch.setattr(DynamoHandler, "call_action", moto_alone)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=free_ports(1)[0], verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


def successful_updates(endpoint: str) -> int:
    def client() -> Any:
        return Endpoint(endpoint).client("dynamodb", "us-east-1", retries={"total_max_attempts": 1})

    admin, table = client(), f"t{time.monotonic_ns()}"
    admin.create_table(
        TableName=table,
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
    )
    admin.put_item(TableName=table, Item={"id": {"S": "x"}, "version": {"N": "1"}})
    clients = [client() for _ in range(CLIENTS)]
    start, done = threading.Barrier(CLIENTS), []

    def update(c: Any) -> None:
        start.wait()
        try:
            c.update_item(
                TableName=table,
                Key={"id": {"S": "x"}},
                UpdateExpression="SET version = version + :one",
                ConditionExpression="version = :seen",
                ExpressionAttributeValues={":one": {"N": "1"}, ":seen": {"N": "1"}},
            )
            done.append(c)
        except ClientError as error:
            assert error.response["Error"]["Code"] == "ConditionalCheckFailedException"

    threads = [threading.Thread(target=update, args=(c,)) for c in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return len(done)


def test_without_the_lock_racing_conditions_all_pass(slow_conditions: str) -> None:
    assert successful_updates(slow_conditions) > 1  # moto alone: writes are lost


def test_with_the_lock_exactly_one_racing_update_passes(slow_conditions: str) -> None:
    atomic_writes.install()
    assert successful_updates(slow_conditions) == 1
