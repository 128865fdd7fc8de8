"""`python -m offline serve` on free ports, started and stopped by the process group the
tests own; requests over real HTTP on loopback."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest

from offline.emulator import free_port

ROOT = Path(__file__).resolve().parents[2]
ORIGINS = "http://localhost:5173,https://app.example.com"


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> Any:
        return json.loads(self.body) if self.body else None


@dataclass
class LocalStack:
    url: str
    emulator: str
    region: str
    state: Path
    process: subprocess.Popen

    def request(
        self,
        method: str,
        path: str,
        *,
        token: str | None = None,
        body: Any = None,
        headers: dict[str, str] | None = None,
        raw: bytes | None = None,
    ) -> Reply:
        all_headers = dict(headers or {})
        data = raw
        if body is not None:
            data = json.dumps(body).encode()
            all_headers.setdefault("content-type", "application/json")
        if token:
            all_headers["authorization"] = f"Bearer {token}"
        request = urllib.request.Request(
            self.url + path, data=data, method=method, headers=all_headers
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return Reply(
                    response.status,
                    {k.lower(): v for k, v in response.headers.items()},
                    response.read(),
                )
        except urllib.error.HTTPError as error:
            return Reply(error.code, {k.lower(): v for k, v in error.headers.items()}, error.read())

    def token(self, user: str) -> str:
        result = subprocess.run(
            [sys.executable, "-m", "offline", "token", user],
            cwd=ROOT,
            env={**os.environ, "OFFLINE_STATE": str(self.state)},
            capture_output=True,
            text=True,
            check=True,
        )
        return result.stdout.strip().splitlines()[-1]

    def client(self, service: str) -> Any:
        return boto3.client(
            service,
            region_name=self.region,
            endpoint_url=self.emulator,
            aws_access_key_id="local",
            aws_secret_access_key="local",
        )


def multipart(fields: dict[str, str], filename: str, content: bytes) -> tuple[bytes, str]:
    """A browser's form upload: the presigned fields, then the file."""
    boundary = uuid.uuid4().hex
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode()
        for k, v in fields.items()
    ]
    parts.append(
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
        f'filename="{filename}"\r\n\r\n'.encode()
        + content
        + b"\r\n"
    )
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


def start_local(tmp: Path, region: str, env: dict[str, str] | None = None) -> LocalStack:
    port, emulator_port = free_port(), free_port()
    state = tmp / f"state-{region}.json"
    log = (tmp / f"offline-{region}.log").open("w")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "offline",
            "serve",
            "--port",
            str(port),
            "--emulator-port",
            str(emulator_port),
            "--origins",
            ORIGINS,
            "--region",
            region,
        ],
        cwd=ROOT,
        env={**os.environ, "OFFLINE_STATE": str(state), **(env or {})},
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    stack = LocalStack(
        f"http://127.0.0.1:{port}", f"http://127.0.0.1:{emulator_port}", region, state, process
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(
                f"offline exited early:\n{(tmp / f'offline-{region}.log').read_text()}"
            )
        try:
            if stack.request("GET", "/health").status == 200 and state.is_file():
                return stack
        except OSError:
            pass
        time.sleep(0.25)
    stop_local(stack)
    raise RuntimeError("offline did not serve /health in time")


def stop_local(stack: LocalStack) -> None:
    """SIGTERM to the process group we own; nothing may survive it."""
    group = os.getpgid(stack.process.pid)
    os.killpg(group, signal.SIGTERM)
    try:
        stack.process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(group, signal.SIGKILL)
        stack.process.wait()
        raise AssertionError("offline did not stop on SIGTERM") from None


@pytest.fixture(scope="session")
def built() -> None:
    subprocess.run([sys.executable, "build.py"], cwd=ROOT, check=True, capture_output=True)


@pytest.fixture(scope="session")
def local(built: None, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    stack = start_local(tmp_path_factory.mktemp("offline"), "us-east-1")
    try:
        yield stack
    finally:
        stop_local(stack)


@pytest.fixture(scope="session")
def alice(local: LocalStack) -> str:
    return local.token("alice")


@pytest.fixture(scope="session")
def bob(local: LocalStack) -> str:
    return local.token("bob")
