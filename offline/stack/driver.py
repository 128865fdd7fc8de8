"""`python -m offline serve` driven from outside, as the end-to-end tests and the local-stack
benchmark drive it: launched on free ports in a process group of its own, waited for until
GET /health answers, asked for users' tokens, called over real HTTP on loopback, and
stopped with SIGTERM to the whole group, then SIGKILL for whatever outlived the grace period.

`root` is the checkout whose `offline serve` runs: this one, or another commit's tree that a
benchmark compares against. Only flags that commit knows are passed: those given here.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from offline.common.endpoint import Endpoint
from offline.common.ports import HOST, free_ports

ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT_S = 120.0
STOP_GRACE_S = 15.0
REQUEST_TIMEOUT_S = 35.0  # above the gateway's 30 s integration timeout
REFUSAL_MARKS = ("refused", "could not authorize")  # offline/enforcement/gate.py's log lines


class DriverError(RuntimeError):
    """The stack did not start, or a command against it failed; the message has its log."""


@dataclass
class Reply:
    status: int
    headers: dict[str, str]  # lower-case names
    body: bytes

    @property
    def json(self) -> Any:
        return json.loads(self.body) if self.body else None


def group_members(group: int) -> list[int]:
    """Live (not zombie) processes in a process group."""
    proc = Path("/proc")
    if not proc.is_dir():
        try:
            os.killpg(group, 0)
        except ProcessLookupError:
            return []
        return [group]
    members = []
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # pid (comm) state ppid pgrp ...; comm may hold spaces and parentheses.
        fields = stat[stat.rindex(")") + 2 :].split()
        if fields[0] != "Z" and int(fields[2]) == group:
            members.append(int(entry.name))
    return members


def signal_group(group: int, signal_number: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(group, signal_number)


class ServeProcess:
    """One `python -m offline serve`, launched by the constructor; `work` holds its state
    file and its log (the gateway's access log and the emulator's refusals)."""

    def __init__(
        self,
        work: Path,
        name: str,
        *,
        region: str | None = None,
        origins: str | None = None,
        enforce: bool = True,
        root: Path = ROOT,
        env: dict[str, str] | None = None,
        watch: bool = False,
        fresh: bool = False,
    ) -> None:
        self.name = name
        self.region = region or "us-east-1"
        self.enforce = enforce
        self.root = root
        self.port, emulator_port = free_ports(2)
        self.url = f"http://{HOST}:{self.port}"
        self.emulator = Endpoint(f"http://{HOST}:{emulator_port}")
        self.state = work / f"state-{name}.json"
        self.log_path = work / f"offline-{name}.log"
        # The emulator's saved state and the record of the last deploy into it; a later
        # ServeProcess with the same `work` and `name` starts from them (a warm start).
        self.local_state = work / f"local-{name}"
        # The emulator's stderr, where it logs refusals, goes to the same log.
        self.env = {
            **os.environ,
            "OFFLINE_STATE": str(self.state),
            "OFFLINE_EMULATOR_LOG": "1",
            "OFFLINE_LOCAL_STATE": str(self.local_state),
            **(env or {}),
        }
        self.forced = False  # SIGTERM was not enough
        self.leftovers: list[int] = []  # processes still in the group after the stop
        command = [sys.executable, "-m", "offline", "serve", "--port", str(self.port),
                   "--emulator-port", str(emulator_port)]  # fmt: skip
        if region:
            command += ["--region", region]
        if origins:
            command += ["--origins", origins]
        if not enforce:
            command.append("--no-enforcement")
        if watch:
            command.append("--watch")
        if fresh:
            command.append("--fresh")
        with self.log_path.open("wb") as log:
            self.started = time.perf_counter()
            self.process = subprocess.Popen(
                command,
                cwd=root,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.group = self.process.pid  # a new session: its leader's pid is the group id

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.is_file() else ""

    def log_tail(self, lines: int = 40) -> str:
        return "\n".join(self.log_text().splitlines()[-lines:])

    def refusals(self) -> list[str]:
        """The emulator's refusal lines in the log: calls it refused or could not decide."""
        return [line for line in self.log_text().splitlines()
                if any(mark in line for mark in REFUSAL_MARKS)]  # fmt: skip

    def wait_healthy(self, timeout_s: float = START_TIMEOUT_S) -> float:
        """Seconds from the launch to the first 200 on GET /health, with the state file that
        `offline token` reads written."""
        while True:
            status = None
            with contextlib.suppress(OSError, http.client.HTTPException):
                status = self.request("GET", "/health", timeout_s=2).status
            elapsed = time.perf_counter() - self.started
            if status == 200 and self.state.is_file():
                return elapsed
            if self.process.poll() is not None:
                raise DriverError(
                    f"offline serve exited with {self.process.returncode}:\n{self.log_tail()}"
                )
            if elapsed > timeout_s:
                self.stop()
                raise DriverError(f"no 200 on GET /health after {timeout_s:.0f}s:\n"
                                  f"{self.log_tail()}")  # fmt: skip
            time.sleep(0.05)

    def token(self, user: str) -> str:
        """`make token USER=user` against this stack: the access token, printed last."""
        result = subprocess.run(
            [sys.executable, "-m", "offline", "token", user],
            cwd=self.root,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        lines = result.stdout.strip().splitlines()
        if result.returncode != 0 or not lines:
            raise DriverError(f"offline token {user} failed:\n{result.stdout}\n{result.stderr}")
        return lines[-1]

    def request(
        self,
        method: str,
        path: str,
        *,
        token: str | None = None,
        body: Any = None,
        headers: dict[str, str] | None = None,
        raw: bytes | None = None,
        timeout_s: float = REQUEST_TIMEOUT_S,
    ) -> Reply:
        """One request on a new connection: `body` is sent as JSON, `raw` as it is."""
        all_headers = dict(headers or {})
        data = raw
        if body is not None:
            data = json.dumps(body).encode()
            all_headers.setdefault("content-type", "application/json")
        if token:
            all_headers["authorization"] = f"Bearer {token}"
        connection = http.client.HTTPConnection(HOST, self.port, timeout=timeout_s)
        try:
            connection.request(method, path, body=data, headers=all_headers)
            response = connection.getresponse()
            return Reply(
                response.status,
                {k.lower(): v for k, v in response.getheaders()},
                response.read(),
            )
        finally:
            connection.close()

    def client(self, service: str) -> Any:
        """A client of this stack's emulator, as its administrator."""
        return self.emulator.client(service, self.region)

    def stop(self) -> None:
        """SIGTERM to the group, SIGKILL after the grace period; `forced` and `leftovers`
        say whether it needed either."""
        if self.process.poll() is None:
            signal_group(self.group, signal.SIGTERM)
            try:
                self.process.wait(timeout=STOP_GRACE_S)
            except subprocess.TimeoutExpired:
                self.forced = True
                signal_group(self.group, signal.SIGKILL)
                self.process.wait()
        deadline = time.monotonic() + 5
        while (members := group_members(self.group)) and time.monotonic() < deadline:
            time.sleep(0.1)
        if members:
            self.leftovers = members
            signal_group(self.group, signal.SIGKILL)
