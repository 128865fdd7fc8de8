"""The emulator (offline/stack/emulator_app.py) as a child process of ours: started on a port of
loopback, waited for until it answers, stopped with SIGTERM."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path

from offline.common.endpoint import Endpoint
from offline.common.ports import HOST, ensure_free

ROOT = Path(__file__).resolve().parents[2]


class EmulatorProcess:
    def __init__(
        self, port: int, enforce: bool = True, environment: Mapping[str, str] | None = None
    ) -> None:
        self.port = port
        self.enforce = enforce
        # Settings for this emulator alone, over ours: its audit directory, say.
        self.environment = dict(environment or {})
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
            env={**os.environ, **self.environment},
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
