"""`make local` to its first 200 on `GET /health`: cold (no saved state) and warm (the state a
stop left, nothing changed), against the `make local` that came before warm starts.

    python benchmarks/bench_restart.py [--rounds N] [--baseline COMMIT]

Everything runs in throwaway copies, never in this tree: this tree as it is (the files git
tracks plus untracked ones), and the project at `--baseline` (f9b8b03, the last commit whose
`make local` deployed on every start), exported with `git archive`. Both have this venv and
node_modules linked in and this tree's build copied in, then run their own build.py before any
clock starts, so that `make local`'s build step has nothing to do in either.

Each start is the command a user types, `make local PORT=.. EMULATOR_PORT=..` on free loopback
ports, launched in a process group of its own; the time runs from the launch to the first 200
on `GET /health`. Each stop is Ctrl-C: SIGINT to the whole group, then waiting (60 s at most)
for every process of it to end, as the emulator writes its state on the way out. In each round:

- cold: `make local FRESH=1` in the copy of this tree, and `make local` in the baseline's copy
  (which has no saved state: every start there is cold); which goes first alternates;
- warm: `make local` again in this tree's copy, from the state the cold start left.

Targets: warm at most 5 s (median); cold no slower than the baseline's (median ratio at most
1.05, the rounds' spread on a 2-core machine). Only 127.0.0.1 is contacted.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from offline.common.ports import HOST, free_ports  # noqa: E402
from offline.stack.driver import group_members, signal_group  # noqa: E402
from tools.project_copy import project_copy  # noqa: E402

BASELINE = "f9b8b03"
START_TIMEOUT_S = 180.0
STOP_TIMEOUT_S = 60.0
WARM_TARGET_S = 5.0
COLD_RATIO_TARGET = 1.05


class BenchError(RuntimeError):
    """A start or a stop that did not happen; the message names the command and its log."""


class MakeLocal:
    """One `make local` in `root`, launched by the constructor in a process group of its own."""

    def __init__(self, root: Path, log: Path, *flags: str) -> None:
        port, emulator_port = free_ports(2)
        self.port = port
        self.command = ["make", "--no-print-directory", "local", f"PORT={port}",
                        f"EMULATOR_PORT={emulator_port}", *flags]  # fmt: skip
        self.log = log
        self.root = root
        # Nothing of the caller's AWS settings: the stack talks to its own emulator only.
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        env.pop("OFFLINE_LOCAL_STATE", None)
        with log.open("wb") as output:
            self.started = time.perf_counter()
            self.process = subprocess.Popen(
                self.command, cwd=root, env=env, stdout=output, stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL, start_new_session=True,
            )  # fmt: skip
        self.group = self.process.pid

    def describe(self) -> str:
        tail = "\n".join(self.log.read_text(errors="replace").splitlines()[-30:])
        return f"`{' '.join(self.command)}` in {self.root}:\n{tail}"

    def healthy(self) -> float:
        """Seconds from the launch to the first 200 on GET /health."""
        while True:
            status = None
            with contextlib.suppress(OSError, http.client.HTTPException):
                connection = http.client.HTTPConnection(HOST, self.port, timeout=2)
                try:
                    connection.request("GET", "/health")
                    status = connection.getresponse().status
                finally:
                    connection.close()
            elapsed = time.perf_counter() - self.started
            if status == 200:
                return elapsed
            if self.process.poll() is not None or elapsed > START_TIMEOUT_S:
                self.kill()
                raise BenchError(f"no 200 on /health ({elapsed:.0f} s): {self.describe()}")
            time.sleep(0.05)

    def interrupt(self) -> None:
        """Ctrl-C: SIGINT to the group; every process of it must end within the timeout."""
        signal_group(self.group, signal.SIGINT)
        try:
            self.process.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            self.kill()
            raise BenchError(f"did not stop on Ctrl-C: {self.describe()}") from None
        deadline = time.monotonic() + STOP_TIMEOUT_S
        while group_members(self.group):
            if time.monotonic() > deadline:
                self.kill()
                raise BenchError(f"processes outlived Ctrl-C: {self.describe()}")
            time.sleep(0.1)

    def kill(self) -> None:
        signal_group(self.group, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=10)


def start_and_stop(root: Path, log: Path, *flags: str) -> float:
    stack = MakeLocal(root, log, *flags)
    try:
        return stack.healthy()
    finally:
        if stack.process.poll() is None:
            stack.interrupt()


def prepared(tree: Path, label: str) -> Path:
    """`tree` with this tree's build copied in and its own build.py run (not timed)."""
    if (ROOT / "build").is_dir():
        shutil.copytree(ROOT / "build", tree / "build", symlinks=True, dirs_exist_ok=True)
        shutil.rmtree(tree / "build" / "local", ignore_errors=True)
    result = subprocess.run(
        ["make", "--no-print-directory", "-s", "policies"], cwd=tree,
        capture_output=True, text=True, timeout=900,
    )  # fmt: skip
    if result.returncode != 0:
        sys.exit(f"make policies in the {label} copy failed:\n{result.stdout}{result.stderr}")
    return tree


def exported(work: Path, commit: str) -> Path:
    tree = work / f"baseline-{commit}"
    tree.mkdir()
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", commit], capture_output=True, timeout=300
    )
    if archive.returncode != 0:
        sys.exit(f"git archive {commit} failed:\n{archive.stderr.decode(errors='replace')}")
    subprocess.run(["tar", "-x", "-C", str(tree)], input=archive.stdout, check=True, timeout=300)
    (tree / ".venv").symlink_to(ROOT / ".venv", target_is_directory=True)
    (tree / "node_modules").symlink_to(ROOT / "node_modules", target_is_directory=True)
    return tree


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--baseline", default=BASELINE)
    args = parser.parse_args()
    cold: list[float] = []
    warm: list[float] = []
    before: list[float] = []
    with tempfile.TemporaryDirectory(prefix="bench-restart-") as folder:
        work = Path(folder)
        print("make local, cold and warm: preparing the two copies (not timed)", flush=True)
        ours = prepared(project_copy(work / "ours"), "this tree's")
        theirs = prepared(exported(work, args.baseline), args.baseline)
        try:
            for n in range(1, args.rounds + 1):
                sides = [("ours", ours), ("baseline", theirs)]
                for side, tree in sides if n % 2 else sides[::-1]:
                    log = work / f"{side}-cold-{n}.log"
                    if side == "ours":
                        cold.append(start_and_stop(tree, log, "FRESH=1"))
                    else:
                        before.append(start_and_stop(tree, log))
                warm.append(start_and_stop(ours, work / f"ours-warm-{n}.log"))
                print(f"  round {n}: cold {cold[-1]:.1f} s, {args.baseline} {before[-1]:.1f} s,"
                      f" warm {warm[-1]:.1f} s", flush=True)  # fmt: skip
        except BenchError as error:
            print(f"make local failed: {error}", file=sys.stderr)
            return 1
    ratio = statistics.median(cold) / statistics.median(before)
    print()
    print("| `make local` to the first 200 on /health | median | range | peer | ratio | target |")
    print("|---|---:|---|---:|---:|---|")
    print(f"| cold (`FRESH=1`, {len(cold)} starts) | {statistics.median(cold):.1f} s"
          f" | {min(cold):.1f} to {max(cold):.1f} s | {statistics.median(before):.1f} s"
          f" ({args.baseline}) | {ratio:.2f}x | ≤ {COLD_RATIO_TARGET:.2f}x |")  # fmt: skip
    print(f"| warm (nothing changed, {len(warm)} starts) | {statistics.median(warm):.1f} s"
          f" | {min(warm):.1f} to {max(warm):.1f} s | | | ≤ {WARM_TARGET_S:.0f} s |")  # fmt: skip
    met = statistics.median(warm) <= WARM_TARGET_S and ratio <= COLD_RATIO_TARGET
    return 0 if met else 1


if __name__ == "__main__":
    raise SystemExit(main())
