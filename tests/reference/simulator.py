"""The reference IAM evaluator, @cloud-copilot/iam-simulate, as a child process of the tests
(tools/iam_simulate.mjs). It is AGPL-3.0: a test-only tool, which the product never imports,
runs or ships. Every read has a deadline; a hang or a crash fails naming the command."""

from __future__ import annotations

import json
import queue
import subprocess
import threading
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
COMMAND = ["node", "tools/iam_simulate.mjs"]


class SimulatorFailed(RuntimeError):
    pass


class Simulator:
    def __init__(self, timeout_s: float = 60) -> None:
        self.timeout_s = timeout_s
        self.process = subprocess.Popen(
            COMMAND, cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, text=True, bufsize=1,
        )  # fmt: skip
        self._lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self._lines.put(line)
        self._lines.put("")  # the process ended

    def run(self, simulations: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Each simulation's result: {"result", "ignored"} or {"error"}."""
        assert self.process.stdin is not None
        try:
            self.process.stdin.write(json.dumps(simulations) + "\n")
            self.process.stdin.flush()
            line = self._lines.get(timeout=self.timeout_s)
        except (queue.Empty, BrokenPipeError):
            self.close()
            problem = f"{' '.join(COMMAND)} did not answer in {self.timeout_s} s"
            raise SimulatorFailed(problem) from None
        if not line:
            stderr = self.process.stderr.read() if self.process.stderr else ""
            raise SimulatorFailed(f"{' '.join(COMMAND)} exited: {stderr[-2000:]}")
        results: list[dict[str, Any]] = json.loads(line)
        return results

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(timeout=10)
