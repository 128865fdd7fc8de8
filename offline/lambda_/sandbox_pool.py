"""The parent side of the function sandboxes: each function's code unpacked from its built
zip and layers, run in sandbox processes (offline/lambda_/sandbox_runtime.py is the child side) with
the environment of its deployed configuration. A sandbox keeps module state between
invocations, as a warm Lambda sandbox does; a crashed or timed-out one is replaced."""

from __future__ import annotations

import functools
import multiprocessing
import os
import queue
import shutil
import tempfile
import threading
import uuid
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from offline.cloudformation.deployed_stack import DeployedStack
from offline.lambda_.sandbox_runtime import serve
from template_gen.model import SERVICE_NAME_VARIABLE

SPAWN = multiprocessing.get_context("spawn")
INIT_TIMEOUT_S = 60


class InvocationError(Exception):
    """The function failed (an exception, a crash); API Gateway answers 500."""


class InvocationTimeout(Exception):
    """The function ran past its timeout; its sandbox is replaced."""


@dataclass
class FunctionConfig:
    logical_id: str
    name: str
    arn: str
    handler: str
    timeout_s: int
    memory_mb: int
    environment: dict[str, str]
    code: Path  # the function zip
    layers: list[Path]
    role: str  # the execution role's ARN
    # SnapStart's ApplyOn: a sandbox of PublishedVersions runs the runtime hooks, as an
    # environment restored from a snapshot does (offline/lambda_/sandbox_runtime.py).
    snap_start: str = "None"

    @property
    def spec_name(self) -> str | None:
        """The function's name in the spec, as the template gives it to Powertools."""
        return self.environment.get(SERVICE_NAME_VARIABLE)


def download(stack: DeployedStack, location: dict[str, str]) -> Path:
    """A zip from where the deployed template points (the artifacts bucket sam deploy filled),
    as Lambda fetches it; kept by its key, which is the zip's content hash."""
    target = stack.build / "local" / "code" / location["S3Bucket"] / location["S3Key"]
    if not target.is_file():
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_suffix(".part")
        stack.client("s3").download_file(location["S3Bucket"], location["S3Key"], str(partial))
        partial.replace(target)
    return target


def configurations(stack: DeployedStack) -> dict[str, FunctionConfig]:
    """From the emulator's deployed configuration, and the zips the template points at."""
    lambda_ = stack.client("lambda")
    layers = {
        logical: download(stack, r["Properties"]["Content"])
        for logical, r in stack.of_type("AWS::Lambda::LayerVersion").items()
    }
    configs = {}
    for logical, resource in stack.of_type("AWS::Lambda::Function").items():
        deployed = lambda_.get_function_configuration(FunctionName=stack.physical_ids[logical])
        properties = resource["Properties"]
        configs[logical] = FunctionConfig(
            logical_id=logical,
            name=deployed["FunctionName"],
            arn=deployed["FunctionArn"],
            handler=deployed["Handler"],
            timeout_s=deployed["Timeout"],
            memory_mb=deployed["MemorySize"],
            environment=deployed.get("Environment", {}).get("Variables", {}),
            code=download(stack, properties["Code"]),
            layers=[layers[layer["Ref"]] for layer in properties.get("Layers", [])],
            role=deployed["Role"],
            snap_start=deployed.get("SnapStart", {}).get("ApplyOn", "None"),
        )
    return configs


class SandboxProcess:
    """One sandbox: a spawned process that imported the handler and serves a pipe."""

    def __init__(
        self,
        config: FunctionConfig,
        task: Path,
        opt: Path,
        env: dict[str, str],
        expires: datetime | None = None,
    ):
        self.config = config
        self.expires = expires  # when the role session in its environment ends
        parent, child = SPAWN.Pipe()
        self.connection = parent
        self.process = SPAWN.Process(
            target=serve,
            args=(
                child,
                {
                    "name": config.name,
                    "arn": config.arn,
                    "handler": config.handler,
                    "timeout_s": config.timeout_s,
                    "memory_mb": config.memory_mb,
                    "environment": {**config.environment, **env},
                    "snap_start": config.snap_start,
                    "task": str(task),
                    "opt": str(opt),
                },
            ),
            daemon=True,
            name=f"lambda:{config.name}",
        )
        self.process.start()
        child.close()
        if not self.connection.poll(INIT_TIMEOUT_S):
            self.kill()
            raise InvocationError(f"{config.name} did not finish its init phase")
        ready = self.connection.recv()
        if not ready["ready"]:
            self.kill()
            raise InvocationError(f"{config.name} failed to import: {ready['error']}")

    def invoke(self, event: dict[str, Any], timeout_s: float) -> Any:
        try:
            self.connection.send({"event": event, "request_id": str(uuid.uuid4())})
            if not self.connection.poll(timeout_s):
                raise InvocationTimeout(self.config.name)
            reply = self.connection.recv()
        except (EOFError, OSError):
            raise InvocationError(f"{self.config.name}: the runtime exited") from None
        if not reply["ok"]:
            raise InvocationError(f"{self.config.name}: {reply['error']}: {reply['message']}")
        return reply["result"]

    def kill(self) -> None:
        if self.process.is_alive():
            self.process.kill()
        self.process.join(timeout=5)
        self.connection.close()


@dataclass(frozen=True)
class Session:
    """A role session's credentials as a sandbox's environment, and when they end."""

    env: dict[str, str]
    expires: datetime | None = None


# A sandbox whose credentials end sooner than this is retired, and a new one starts with a
# new session: the emulator refuses an expired session, as STS-issued credentials expire.
RENEW_BEFORE = timedelta(minutes=5)


class FunctionSandboxes:
    """A pool of sandboxes for one function, each serving one request at a time."""

    def __init__(
        self,
        config: FunctionConfig,
        root: Path,
        env: dict[str, str],
        size: int,
        renew: Callable[[], Session] | None = None,
    ):
        self.config = config
        self.renew = renew
        self.session = renew() if renew else Session({})
        self.task, self.opt = root / "task", root / "opt"
        self.env = {
            **env,
            "PATH": os.environ.get("PATH", os.defpath),
            "LANG": "C.UTF-8",
            "TZ": ":UTC",
            "AWS_LAMBDA_FUNCTION_NAME": config.name,
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(config.memory_mb),
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{config.name}",
            "LAMBDA_TASK_ROOT": str(self.task),
            "_HANDLER": config.handler,
        }
        self.size = size
        with zipfile.ZipFile(config.code) as archive:
            archive.extractall(self.task)
        for layer in config.layers:
            with zipfile.ZipFile(layer) as archive:
                archive.extractall(self.opt)
        self.idle: queue.LifoQueue[SandboxProcess] = queue.LifoQueue()
        self.started = 0
        self.lock = threading.Lock()

    def warm(self) -> None:
        self.idle.put(self._grow())

    def _ending(self, expires: datetime | None) -> bool:
        return expires is not None and expires - datetime.now(UTC) < RENEW_BEFORE

    def _current(self) -> Session:
        with self.lock:
            if self.renew and self._ending(self.session.expires):
                self.session = self.renew()
            return self.session

    def _grow(self) -> SandboxProcess:
        session = self._current()
        with self.lock:
            self.started += 1
        try:
            env = {**self.env, **session.env}
            return SandboxProcess(self.config, self.task, self.opt, env, session.expires)
        except Exception:
            with self.lock:
                self.started -= 1
            raise

    def _take(self) -> SandboxProcess:
        while True:
            try:
                sandbox = self.idle.get_nowait()
            except queue.Empty:
                with self.lock:
                    grow = self.started < self.size
                sandbox = self._grow() if grow else self.idle.get()
            if not self._ending(sandbox.expires):
                return sandbox
            self._retire(sandbox)

    def _retire(self, sandbox: SandboxProcess) -> None:
        sandbox.kill()
        with self.lock:
            self.started -= 1

    def invoke(self, event: dict[str, Any], timeout_s: float | None = None) -> Any:
        sandbox = self._take()
        try:
            result = sandbox.invoke(event, timeout_s or self.config.timeout_s)
        except (InvocationError, InvocationTimeout):
            sandbox.kill()  # a fresh sandbox serves the next request
            with self.lock:
                self.started -= 1
            raise
        self.idle.put(sandbox)
        return result

    def stop(self) -> None:
        while True:
            try:
                self.idle.get_nowait().kill()
            except queue.Empty:
                return


def role_session(stack: DeployedStack, config: FunctionConfig) -> Session:
    """What Lambda gives a sandbox: credentials of the function's execution role, from STS,
    in a session named after the function
    (https://docs.aws.amazon.com/lambda/latest/dg/lambda-intro-execution-role.html). Every
    call the handler makes is then authorized as that role, until the session expires."""
    credentials = stack.client("sts").assume_role(RoleArn=config.role, RoleSessionName=config.name)[
        "Credentials"
    ]
    expiration = credentials["Expiration"]
    return Session(
        {
            **stack.endpoint.environment(stack.region),
            "AWS_ACCESS_KEY_ID": credentials["AccessKeyId"],
            "AWS_SECRET_ACCESS_KEY": credentials["SecretAccessKey"],
            "AWS_SESSION_TOKEN": credentials["SessionToken"],
        },
        expiration if expiration.tzinfo else expiration.replace(tzinfo=UTC),
    )


class SandboxPool:
    """Every function of a deployed stack, each with its own sandboxes."""

    def __init__(self, by_logical_id: dict[str, FunctionSandboxes], root: Path) -> None:
        self.by_logical_id = by_logical_id
        self.root = root  # where the functions' code is unpacked; removed by stop()
        # Replaced functions' sandboxes: a request in flight there finishes on the old code.
        self.retired: list[FunctionSandboxes] = []
        self.replacing = threading.Lock()

    @classmethod
    def for_stack(cls, stack: DeployedStack, pool_size: int = 4) -> SandboxPool:
        """Each function of the stack, its code unpacked, its role's session ready."""
        root = Path(tempfile.mkdtemp(prefix="offline-functions-"))
        return cls(
            {
                logical: FunctionSandboxes(
                    config,
                    root / logical,
                    {},
                    pool_size,
                    renew=functools.partial(role_session, stack, config),
                )
                for logical, config in configurations(stack).items()
            },
            root,
        )

    def find(self, name: str) -> FunctionSandboxes:
        """By the spec's name (which the deployed function carries as its Powertools
        service name), its deployed name, or its logical id."""
        for function in self.by_logical_id.values():
            config = function.config
            if name in (config.spec_name, config.name, config.logical_id):
                return function
        raise KeyError(name)

    def replace(self, logical_id: str, code: Path, layers: list[Path]) -> None:
        """New sandboxes for one function, from new code (as Lambda gives a new version new
        execution environments); the next request runs it."""
        with self.replacing:
            old = self.by_logical_id[logical_id]
            generation = len(self.retired) + 1
            new = FunctionSandboxes(
                replace(old.config, code=code, layers=layers),
                self.root / f"{logical_id}-{generation}",
                {},
                old.size,
                renew=old.renew,
            )
            new.warm()
            self.by_logical_id[logical_id] = new
            self.retired.append(old)
            old.stop()

    def stop(self) -> None:
        for function in [*self.by_logical_id.values(), *self.retired]:
            function.stop()
        shutil.rmtree(self.root, ignore_errors=True)
