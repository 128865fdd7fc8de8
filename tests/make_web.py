"""`make web` (tools/web_server.py) run as a user runs it, for the tests that need it served:
started on a loopback port, waited for until its banner is out, stopped with Ctrl-C."""

from __future__ import annotations

import http.client
import os
import queue
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from offline.common.ports import free_ports

ROOT = Path(__file__).resolve().parents[1]
START_TIMEOUT_S = 60
STOP_TIMEOUT_S = 10


@dataclass
class Served:
    port: int
    stdout: list[str]

    def get(self, path: str) -> tuple[int, dict[str, str], bytes]:
        """One request with `path` sent as it is (no client-side normalising of `..`)."""
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            connection.request("GET", path)
            answer = connection.getresponse()
            return answer.status, dict(answer.getheaders()), answer.read()
        finally:
            connection.close()


@contextmanager
def serving(environment: dict[str, str], *args: str, port: int = 0) -> Iterator[Served]:
    """The server (on `port`, else a free one) once its banner is out, until the block ends;
    then Ctrl-C: it must stop cleanly, at once."""
    port = port or free_ports(1)[0]
    command = [sys.executable, "-m", "tools.web_server", "--port", str(port), *args]
    process = subprocess.Popen(
        command,
        cwd=ROOT,
        env=environment,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    lines: queue.Queue[str | None] = queue.Queue()

    def read() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            lines.put(line.rstrip("\n"))
        lines.put(None)

    threading.Thread(target=read, daemon=True).start()
    seen: list[str] = []
    try:
        while not seen or seen[-1] != "Ctrl-C stops it.":
            line = lines.get(timeout=START_TIMEOUT_S)
            if line is None:
                stderr = process.stderr.read() if process.stderr else ""
                pytest.fail(f"make web stopped before serving: {seen} {stderr}")
            seen.append(line)
        yield Served(port, seen)
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=STOP_TIMEOUT_S)
        assert process.returncode == 0, stderr
        assert "Traceback" not in stderr, stderr
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.communicate()
