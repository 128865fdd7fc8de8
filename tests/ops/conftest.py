"""The deploy tooling against the emulator in server mode, through AWS_ENDPOINT_URL."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from moto.server import ThreadedMotoServer

from offline.common.endpoint import Endpoint
from offline.common.ports import free_ports
from tests.conftest import aws_environment

ROOT = Path(__file__).resolve().parents[2]


def clean_environment() -> dict[str, str]:
    return aws_environment(credentials=False)


@pytest.fixture(scope="session")
def emulator() -> Iterator[dict[str, str]]:
    """An environment whose every AWS call goes to a fresh emulator on loopback."""
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=free_ports(1)[0], verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield aws_environment(f"http://{host}:{port}")
    finally:
        server.stop()


@pytest.fixture(scope="session")
def built() -> None:
    subprocess.run(
        [sys.executable, "build.py"], cwd=ROOT, check=True, capture_output=True, timeout=600
    )


def client(emulator: dict[str, str], service: str, region: str) -> Any:
    return Endpoint(emulator["AWS_ENDPOINT_URL"]).client(service, region)


def ops(*args: str, env: dict[str, str], stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "ops", *args],
        cwd=ROOT,
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
    )
