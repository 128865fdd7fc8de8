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
# Stopping includes writing the snapshot, when there is one.
STOP_TIMEOUT_S = 60


class EmulatorProcess:
    def __init__(
        self,
        port: int,
        enforce: bool = True,
        environment: Mapping[str, str] | None = None,
        state: Path | None = None,
    ) -> None:
        self.port = port
        self.enforce = enforce
        # Where the emulator's state is kept between runs (offline/stack/emulator_state.py).
        self.state = state
        # Settings for this emulator alone, over ours: its audit directory, say.
        self.environment = dict(environment or {})
        self.endpoint = Endpoint(f"http://{HOST}:{port}")
        self.process: subprocess.Popen | None = None

    def start(self, timeout_s: float = 30) -> Endpoint:
        self.launch()
        return self.wait(timeout_s)

    def launch(self) -> None:
        """Start the process and return at once: the caller may do its own start-up meanwhile."""
        ensure_free(self.port, "emulator")
        flags = [] if self.enforce else ["--no-enforcement"]
        if self.state is not None:
            # Its lines about the saved state are ours to show; the banner is not.
            flags += ["--state", str(self.state), "--quiet"]
        self.process = subprocess.Popen(
            [sys.executable, "-m", "offline", "emulator", "--port", str(self.port), *flags],
            stdout=None if self.state is not None else subprocess.DEVNULL,
            stderr=None if os.environ.get("OFFLINE_EMULATOR_LOG") else subprocess.DEVNULL,
            cwd=ROOT,
            env={**os.environ, **self.environment},
        )

    def wait(self, timeout_s: float = 30) -> Endpoint:
        """Until the launched emulator answers."""
        assert self.process is not None, "launch() first"
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
                self.process.wait(timeout=STOP_TIMEOUT_S if self.state else 5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
