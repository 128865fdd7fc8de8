"""Function workers: module state survives between invocations; a crash or a timeout costs
one invocation and a fresh sandbox, never the gateway."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from offline.functions import Function, FunctionConfig, InvocationError, InvocationTimeout

HANDLER = """
import os, time
CALLS = []

def handler(event, context):
    CALLS.append(event)
    if event.get("crash"):
        os._exit(3)
    if event.get("raise"):
        raise ValueError("bad input")
    if event.get("sleep"):
        time.sleep(event["sleep"])
    remaining = context.get_remaining_time_in_millis()
    return {"statusCode": 200, "calls": len(CALLS), "remaining": remaining,
            "table": os.environ["TABLE"]}
"""


@pytest.fixture
def function(tmp_path: Path):
    code = tmp_path / "code.zip"
    with zipfile.ZipFile(code, "w") as archive:
        archive.writestr("app.py", HANDLER)
    config = FunctionConfig(
        logical_id="TestFunction",
        name="test-fn",
        arn="arn:aws:lambda:us-east-1:1:function:t",
        handler="app.handler",
        timeout_s=2,
        memory_mb=128,
        environment={"TABLE": "things"},
        code=code,
        layers=[],
        role="arn:aws:iam::123456789012:role/test",
    )
    pool = Function(config, tmp_path / "run", {}, size=1)
    yield pool
    pool.stop()


def test_a_warm_worker_keeps_module_state(function: Function) -> None:
    first = function.invoke({})
    second = function.invoke({})
    assert (first["calls"], second["calls"]) == (1, 2)
    assert first["table"] == "things"  # the deployed configuration's environment
    assert 0 < second["remaining"] <= 2000


def test_a_crash_fails_one_invocation_and_the_next_gets_a_fresh_worker(function: Function) -> None:
    function.invoke({})
    with pytest.raises(InvocationError, match="the runtime exited"):
        function.invoke({"crash": True})
    assert function.invoke({})["calls"] == 1  # a new sandbox, cold


def test_an_exception_is_an_invocation_error(function: Function) -> None:
    with pytest.raises(InvocationError, match="ValueError: bad input"):
        function.invoke({"raise": True})
    assert function.invoke({})["statusCode"] == 200


def test_a_timeout_replaces_the_worker(function: Function) -> None:
    with pytest.raises(InvocationTimeout):
        function.invoke({"sleep": 5}, timeout_s=0.5)
    assert function.invoke({})["calls"] == 1
