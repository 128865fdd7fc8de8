"""Function sandboxes: module state survives between invocations; a crash or a timeout costs
one invocation and a fresh sandbox, never the gateway. The pool finds a function by its
spec name, whatever characters that name holds."""

from __future__ import annotations

import socket
import zipfile
from pathlib import Path

import pytest

from offline.lambda_.sandbox_pool import (
    FunctionConfig,
    FunctionSandboxes,
    InvocationError,
    InvocationTimeout,
    SandboxPool,
)
from template_gen.model import SERVICE_NAME_VARIABLE

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
    pool = FunctionSandboxes(config, tmp_path / "run", {}, size=1)
    yield pool
    pool.stop()


def test_a_warm_sandbox_keeps_module_state(function: FunctionSandboxes) -> None:
    first = function.invoke({})
    second = function.invoke({})
    assert (first["calls"], second["calls"]) == (1, 2)
    assert first["table"] == "things"  # the deployed configuration's environment
    assert 0 < second["remaining"] <= 2000


def test_a_crash_fails_one_invocation_and_the_next_gets_a_fresh_sandbox(
    function: FunctionSandboxes,
) -> None:
    function.invoke({})
    with pytest.raises(InvocationError, match="the runtime exited"):
        function.invoke({"crash": True})
    assert function.invoke({})["calls"] == 1  # a new sandbox, cold


def test_an_exception_is_an_invocation_error(function: FunctionSandboxes) -> None:
    with pytest.raises(InvocationError, match="ValueError: bad input"):
        function.invoke({"raise": True})
    assert function.invoke({})["statusCode"] == 200


def test_a_timeout_replaces_the_sandbox(function: FunctionSandboxes) -> None:
    with pytest.raises(InvocationTimeout):
        function.invoke({"sleep": 5}, timeout_s=0.5)
    assert function.invoke({})["calls"] == 1


def test_the_pool_finds_a_function_by_its_spec_name_even_with_hyphens(tmp_path: Path) -> None:
    """The spec allows hyphens in a function's name; the deployed name joins project,
    environment and function with hyphens too, so only the name the deployment carries
    (its Powertools service name) tells `order-lines` from `lines`."""
    code = tmp_path / "code.zip"
    with zipfile.ZipFile(code, "w") as archive:
        archive.writestr("app.py", HANDLER)
    functions = {}
    for logical, spec_name in (("OrderLinesFunction", "order-lines"), ("LinesFunction", "lines")):
        config = FunctionConfig(
            logical_id=logical,
            name=f"backend-kit-dev-{spec_name}",
            arn=f"arn:aws:lambda:us-east-1:123456789012:function:backend-kit-dev-{spec_name}",
            handler="app.handler",
            timeout_s=2,
            memory_mb=128,
            environment={SERVICE_NAME_VARIABLE: spec_name},
            code=code,
            layers=[],
            role="arn:aws:iam::123456789012:role/test",
        )
        functions[logical] = FunctionSandboxes(config, tmp_path / logical, {}, size=1)
    pool = SandboxPool(functions, tmp_path)
    assert pool.find("order-lines").config.logical_id == "OrderLinesFunction"
    assert pool.find("lines").config.logical_id == "LinesFunction"
    assert pool.find("backend-kit-dev-order-lines").config.logical_id == "OrderLinesFunction"
    with pytest.raises(KeyError):
        pool.find("order")


def test_a_sandbox_whose_session_ends_is_replaced_by_one_with_a_new_session(
    function: FunctionSandboxes, tmp_path: Path
) -> None:
    """The emulator refuses an expired session as STS credentials expire, so the pool retires
    a sandbox whose session ends within RENEW_BEFORE and starts one with a new session."""
    from datetime import UTC, datetime, timedelta

    from offline.lambda_.sandbox_pool import RENEW_BEFORE, Session

    issued: list[Session] = []

    def renew() -> Session:
        # The first session is about to end; every later one lasts an hour.
        left = RENEW_BEFORE / 2 if not issued else timedelta(hours=1)
        issued.append(Session({"SESSION": str(len(issued))}, datetime.now(UTC) + left))
        return issued[-1]

    pool = FunctionSandboxes(function.config, tmp_path / "renewing", {}, size=1, renew=renew)
    try:
        first = pool.invoke({})
        assert len(issued) == 2  # the ending session was renewed before the first sandbox
        assert pool.invoke({})["calls"] == first["calls"] + 1  # a lasting session: kept warm
        pool.session = issued[-1] = Session(issued[-1].env, datetime.now(UTC))
        for sandbox in list(pool.idle.queue):
            sandbox.expires = datetime.now(UTC)  # its session ends now
        assert pool.invoke({})["calls"] == 1  # a new sandbox, cold, on a new session
        assert len(issued) == 3
    finally:
        pool.stop()


HOOKED = """
import os
from snapshot_restore_py import register_after_restore, register_before_snapshot
RAN = []

@register_before_snapshot
def first_before():
    RAN.append("before-1")

register_before_snapshot(RAN.append, "before-2")

@register_after_restore
def first_after():
    RAN.append("after-1")

register_after_restore(lambda *, tag: RAN.append(tag), tag="after-2")

def handler(event, context):
    if event.get("crash"):
        os._exit(3)
    return {"statusCode": 200, "ran": RAN, "sandbox": os.getpid()}
"""


def sandboxes(tmp_path: Path, handler: str, snap_start: str, **settings: object):
    code = tmp_path / "code.zip"
    with zipfile.ZipFile(code, "w") as archive:
        archive.writestr("app.py", handler)
    config = FunctionConfig(
        logical_id="HookedFunction", name="hooked", arn="arn:aws:lambda:us-east-1:1:function:h",
        handler="app.handler", timeout_s=2, memory_mb=128, environment={}, code=code,
        layers=[], role="arn:aws:iam::123456789012:role/test", snap_start=snap_start,
    )  # fmt: skip
    for key, value in settings.items():
        setattr(config, key, value)
    return FunctionSandboxes(config, tmp_path / "run", {}, size=1)


@pytest.mark.parametrize(
    ("snap_start", "ran"),
    [
        # Before-snapshot hooks in the reverse order of registration, after-restore hooks in
        # order (https://docs.aws.amazon.com/lambda/latest/dg/snapstart-runtime-hooks-python.html).
        ("PublishedVersions", ["before-2", "before-1", "after-1", "after-2"]),
        ("None", []),
    ],
)
def test_a_snapstart_sandbox_runs_the_runtime_hooks_once_per_sandbox(
    tmp_path: Path, snap_start: str, ran: list[str]
) -> None:
    pool = sandboxes(tmp_path, HOOKED, snap_start)
    try:
        first = pool.invoke({}, timeout_s=10)
        second = pool.invoke({}, timeout_s=10)  # the same sandbox, warm: not again
        assert first["ran"] == second["ran"] == ran
        assert first["sandbox"] == second["sandbox"]
        with pytest.raises(InvocationError):
            pool.invoke({"crash": True}, timeout_s=10)
        replacement = pool.invoke({}, timeout_s=10)  # a new sandbox, restored in its turn
        assert replacement["sandbox"] != first["sandbox"]
        assert replacement["ran"] == ran
    finally:
        pool.stop()


SHARED_LAYER = Path(__file__).resolve().parents[2] / "layers" / "shared"
# The shared layer's own hooks, as a function of the kit arms them (backend_kit/snapstart.py).
ARMED = """
from backend_kit import aws, snapstart
ARMED = snapstart.arm()
AT_INIT = aws.client("ssm")

def handler(event, context):
    return {"statusCode": 200, "armed": ARMED, "renewed": aws.client("ssm") is not AT_INIT}
"""


@pytest.mark.parametrize(("snap_start", "renewed"), [("PublishedVersions", True), ("None", False)])
def test_a_snapstart_sandbox_renews_the_shared_layers_clients(
    tmp_path: Path, snap_start: str, renewed: bool
) -> None:
    layer = tmp_path / "shared.zip"
    with zipfile.ZipFile(layer, "w") as archive:
        for path in sorted((SHARED_LAYER / "python").rglob("*.py")):
            archive.write(path, path.relative_to(SHARED_LAYER).as_posix())
    # Keys in the environment, so botocore asks no metadata service for credentials, and every
    # client pointed at a closed loopback port: the sandbox's log delivery gives up at once.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    environment = {
        "AWS_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_ENDPOINT_URL": f"http://127.0.0.1:{closed}",
        "AWS_MAX_ATTEMPTS": "1",
    }
    pool = sandboxes(tmp_path, ARMED, snap_start, layers=[layer], environment=environment)
    try:
        reply = pool.invoke({}, timeout_s=30)
        assert reply["armed"] is True  # the sandbox gives the runtime's hooks library
        assert reply["renewed"] is renewed
    finally:
        pool.stop()
