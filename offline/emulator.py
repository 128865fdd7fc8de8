"""moto in server mode on loopback, as a child process of ours."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config

HOST = "127.0.0.1"
ROOT = Path(__file__).resolve().parent.parent
ACCOUNT = "123456789012"  # moto's default account
CREDENTIALS = {"aws_access_key_id": "local", "aws_secret_access_key": "local"}


class PortTaken(Exception):
    pass


def ensure_free(port: int, what: str) -> None:
    """Fail at once, naming the port, rather than half-start on a taken one."""
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((HOST, port))
        except OSError:
            raise PortTaken(
                f"port {port} on {HOST} is taken ({what}); free it or choose another"
            ) from None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


@dataclass
class Endpoint:
    """Where the emulator listens; makes clients for it."""

    url: str

    def client(self, service: str, region: str, **config: Any) -> Any:
        return boto3.client(
            service,
            region_name=region,
            endpoint_url=self.url,
            config=Config(retries={"mode": "standard", "total_max_attempts": 3}, **config),
            **CREDENTIALS,
        )

    def environment(self, region: str) -> dict[str, str]:
        """What a process needs to talk to the emulator instead of AWS."""
        return {
            "AWS_ENDPOINT_URL": self.url,
            "AWS_REGION": region,
            "AWS_DEFAULT_REGION": region,
            "AWS_ACCESS_KEY_ID": CREDENTIALS["aws_access_key_id"],
            "AWS_SECRET_ACCESS_KEY": CREDENTIALS["aws_secret_access_key"],
        }

    def reachable(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.url}/moto-api/", timeout=1):
                return True
        except OSError:
            return False


class Emulator:
    def __init__(self, port: int, enforce: bool = True) -> None:
        self.port = port
        self.enforce = enforce
        self.endpoint = Endpoint(f"http://{HOST}:{port}")
        self.process: subprocess.Popen | None = None

    def start(self, timeout_s: float = 30) -> Endpoint:
        ensure_free(self.port, "emulator")
        flags = [] if self.enforce else ["--no-enforcement"]
        self.process = subprocess.Popen(
            [sys.executable, "-m", "offline", "emulator", "--port", str(self.port), *flags],
            stdout=subprocess.DEVNULL,
            stderr=None if os.environ.get("OFFLINE_EMULATOR_LOG") else subprocess.DEVNULL,
            cwd=ROOT,
        )
        deadline = time.monotonic() + timeout_s
        while not self.endpoint.reachable():
            if self.process.poll() is not None:
                raise RuntimeError(f"the emulator exited with {self.process.returncode}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"the emulator did not answer on port {self.port}")
            time.sleep(0.1)
        return self.endpoint

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
