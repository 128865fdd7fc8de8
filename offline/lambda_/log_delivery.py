"""What a function prints, delivered to its log group as Lambda delivers it: with the
execution role's credentials, to a stream of the sandbox
(https://docs.aws.amazon.com/lambda/latest/dg/monitoring-cloudwatchlogs.html). The role's
logs grants (and the key use through CloudWatch Logs that the group's encryption needs) are
then exercised by every run, and `make logs` shows local output too. Lines still reach the
console. Runs inside a sandbox process (offline/lambda_/sandbox_runtime.py).
"""

from __future__ import annotations

import os
import sys
import threading
import time
import uuid
from typing import Any, TextIO

FLUSH_EVERY_S = 0.5


class LogDelivery:
    def __init__(self, client: Any, group: str, console: TextIO) -> None:
        self.client = client
        self.group = group
        self.console = console
        day = time.strftime("%Y/%m/%d", time.gmtime())
        self.stream = f"{day}/[$LATEST]{uuid.uuid4().hex}"
        self.pending: list[dict[str, Any]] = []
        self.lock = threading.Lock()
        self.broken = ""
        try:
            client.create_log_stream(logGroupName=group, logStreamName=self.stream)
        except Exception as error:  # Lambda drops the logs then; say so once, carry on
            self._give_up(error)
        threading.Thread(target=self._flush_forever, daemon=True, name="log-delivery").start()

    def _give_up(self, error: Exception) -> None:
        self.broken = f"{type(error).__name__}: {error}"
        self.console.write(f"[offline] logs of this sandbox are not delivered: {self.broken}\n")

    def add(self, line: str) -> None:
        if self.broken or not line.strip():
            return
        with self.lock:
            self.pending.append({"timestamp": int(time.time() * 1000), "message": line})

    def flush(self) -> None:
        with self.lock:
            events, self.pending = self.pending, []
        if not events or self.broken:
            return
        try:
            self.client.put_log_events(
                logGroupName=self.group, logStreamName=self.stream, logEvents=events
            )
        except Exception as error:
            self._give_up(error)

    def _flush_forever(self) -> None:
        while True:
            time.sleep(FLUSH_EVERY_S)
            self.flush()


class Tee:
    """A text stream that writes to the console and hands each whole line to delivery."""

    def __init__(self, console: TextIO, delivery: LogDelivery) -> None:
        self.console = console
        self.delivery = delivery
        self.partial = ""

    def write(self, text: str) -> int:
        self.console.write(text)
        lines = (self.partial + text).split("\n")
        self.partial = lines.pop()
        for line in lines:
            self.delivery.add(line)
        return len(text)

    def flush(self) -> None:
        self.console.flush()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.console, name)


def deliver_output() -> None:
    """Send this process's stdout and stderr to the function's log group as well."""
    import boto3

    console, errors = sys.__stdout__, sys.__stderr__
    if console is None or errors is None:  # started without a console: nothing to tee
        return
    try:
        client = boto3.client("logs", region_name=os.environ.get("AWS_REGION"))
    except Exception as error:  # no region: nowhere to deliver to
        errors.write(f"[offline] logs of this sandbox are not delivered: {error}\n")
        return
    delivery = LogDelivery(client, os.environ["AWS_LAMBDA_LOG_GROUP_NAME"], console)
    sys.stdout = Tee(sys.stdout, delivery)
    sys.stderr = Tee(sys.stderr, delivery)
