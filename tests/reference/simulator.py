"""The reference IAM evaluator, @cloud-copilot/iam-simulate, as a child process of the tests
(tools/iam_simulate.mjs: one JSON simulation a line in, one JSON result a line out). It is
AGPL-3.0: a test-only tool, which the product never imports, runs or ships.

Nothing here can hang a test: the process's output and errors are read by threads of their
own, a batch is written by another, and every wait for a result has a deadline. A hang, a
crash or a garbled answer fails naming the command, and the process is killed."""

from __future__ import annotations

import contextlib
import json
import queue
import subprocess
import threading
import time
from collections import deque
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType
from typing import IO, Any

ROOT = Path(__file__).resolve().parents[2]
COMMAND = ("node", "tools/iam_simulate.mjs")


class SimulatorFailed(RuntimeError):
    pass


class Simulator:
    def __init__(self, command: Sequence[str] = COMMAND, timeout_s: float = 30) -> None:
        self.command = tuple(command)
        self.name = " ".join(self.command)
        self.timeout_s = timeout_s
        self._lines: queue.Queue[str | None] = queue.Queue()
        self._errors: deque[str] = deque(maxlen=40)
        try:
            self.process = subprocess.Popen(
                self.command, cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                stderr=subprocess.PIPE, text=True, encoding="utf-8", bufsize=1,
            )  # fmt: skip
        except OSError as error:
            raise SimulatorFailed(f"{self.name} could not start: {error}") from None
        assert self.process.stdout is not None and self.process.stderr is not None
        self._readers = [
            threading.Thread(target=self._read, args=(self.process.stdout,), daemon=True),
            threading.Thread(target=self._drain, args=(self.process.stderr,), daemon=True),
        ]
        for reader in self._readers:
            reader.start()

    def __enter__(self) -> Simulator:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def _read(self, stdout: IO[str]) -> None:
        for line in stdout:
            self._lines.put(line)
        self._lines.put(None)  # the process closed its output: it ended

    def _drain(self, stderr: IO[str]) -> None:
        # Read so that a talkative process never blocks on a full pipe; keep the tail.
        for line in stderr:
            self._errors.append(line)

    def _write(self, payload: str) -> None:
        # A process that died or was killed cannot be written to: run() reports it.
        with contextlib.suppress(OSError, ValueError):
            assert self.process.stdin is not None
            self.process.stdin.write(payload)
            self.process.stdin.flush()

    def _failed(self, problem: str) -> SimulatorFailed:
        self.close()
        errors = "".join(self._errors).strip()[-2000:]
        return SimulatorFailed(f"{self.name} {problem}" + (f":\n{errors}" if errors else ""))

    def run(self, simulations: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
        """Each simulation's result, in order: {"overallResult", "ignoredContextKeys"} or
        {"errors"}. All of them within `timeout_s`, or SimulatorFailed."""
        if self.process.poll() is not None:
            raise self._failed(f"is not running (exit status {self.process.returncode})")
        payload = "".join(json.dumps(one) + "\n" for one in simulations)
        threading.Thread(target=self._write, args=(payload,), daemon=True).start()
        deadline = time.monotonic() + self.timeout_s
        results: list[dict[str, Any]] = []
        for _ in simulations:
            try:
                line = self._lines.get(timeout=max(deadline - time.monotonic(), 0.001))
            except queue.Empty:
                raise self._failed(
                    f"did not answer {len(simulations)} simulations in {self.timeout_s} s"
                ) from None
            if line is None:
                self.process.wait(timeout=10)
                raise self._failed(f"exited with status {self.process.returncode}")
            try:
                results.append(json.loads(line))
            except json.JSONDecodeError:
                raise self._failed(f"answered something other than JSON: {line[:200]!r}") from None
        return results

    def close(self) -> None:
        """Kill the process (if it still runs) and wait for it; safe to call again."""
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(timeout=10)
        for reader in self._readers:  # both pipes are at their end once the process is gone
            reader.join(timeout=5)
        if self.process.stdin is not None:
            with contextlib.suppress(OSError, ValueError):
                self.process.stdin.close()
