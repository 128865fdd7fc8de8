"""`make deploy` into the emulator: a first deploy on a clean emulator and a no-op redeploy.

    python benchmarks/bench_deploy.py [--runs N]

`make deploy` needs the execution role that `make bootstrap` writes into samconfig.toml
(`role_arn`), so every command runs in a throwaway copy of the project (the files git tracks
plus the untracked ones, .venv and node_modules linked in, this tree's zips copied so its
build reuses what hashes the same), never in this tree. The copy is built once. Each run
starts a fresh emulator (`python -m offline emulator`) on a free loopback port; then, as the
emulator's administrator and before the clock starts, `make params` creates the SecureStrings
and `make bootstrap` the execution role, boundary and deployer policy. Then it times, as
processes with the emulator behind AWS_ENDPOINT_URL and the administrator's key:

- `make deploy REGION=us-east-1 ENV=dev`, the command a user runs: the preflight (region,
  credentials, origins, artifacts, cfn-lint, SecureStrings, execution role), the check for
  retained resources to import, and `sam deploy` with the execution role;
- the named peer, bare `sam deploy` with the same samconfig.toml environment (so the same
  execution role), which is what `make deploy` wraps; the ratio is what the preflight and
  the import check cost on top.

Clean deploys alternate which of the two goes first, each on its own fresh emulator. The
no-op redeploy runs each command again on the stack it just made ("No changes to deploy").
The build, params and bootstrap are done before any clock starts and are not counted. Every
command has a timeout; one that hangs stops the benchmark, named. The deploy path that came
before `make deploy` ran SAM CLI (offline's own change sets) no longer exists, so no figure
of it is given. Only 127.0.0.1 is contacted.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Mapping
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from offline.common.endpoint import CREDENTIALS  # noqa: E402
from offline.common.ports import free_ports  # noqa: E402
from offline.stack.emulator_process import EmulatorProcess  # noqa: E402
from ops.deploy import sam_deploy_command  # noqa: E402
from tools.project_copy import project_copy as copy_of_project  # noqa: E402

REGION, ENV = "us-east-1", "dev"
# Targets for make deploy / sam deploy: the preflight's checks and the import check are worth
# a bounded share of a deploy, a no-op one included.
TARGETS = {"clean": 1.2, "no-op": 1.2}
AWS_KEYS = ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_REGION", "AWS_DEFAULT_REGION", "MAKEFLAGS")
# A clean deploy into the emulator takes well under a minute; ten is a hang, not a slow run.
TIMEOUT_S = 600.0


def environment(endpoint: str) -> dict[str, str]:
    """The emulator's administrator, and nothing of this shell's AWS set-up."""
    kept = {k: v for k, v in os.environ.items() if k not in AWS_KEYS}
    return {
        **kept,
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_ACCESS_KEY_ID": CREDENTIALS["aws_access_key_id"],
        "AWS_SECRET_ACCESS_KEY": CREDENTIALS["aws_secret_access_key"],
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        "AWS_EC2_METADATA_DISABLED": "true",
        "SAM_CLI_TELEMETRY": "0",
    }


def run(
    command: list[str], env: Mapping[str, str], cwd: Path, timeout_s: float = TIMEOUT_S
) -> float:
    """Seconds `command` took; any failure or hang ends the benchmark, naming the command."""
    started = time.perf_counter()
    # A group of its own, so that a hang is ended with make's children (sam), not just make.
    process = subprocess.Popen(
        command, cwd=cwd, env=dict(env), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, text=True, start_new_session=True,
    )  # fmt: skip
    try:
        output, _ = process.communicate(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.communicate()
        sys.exit(f"{' '.join(command)} hung: no exit after {timeout_s:.0f} s (in {cwd})")
    elapsed = time.perf_counter() - started
    if process.returncode != 0:
        sys.exit(f"{' '.join(command)} failed (in {cwd}):\n{output[-4000:]}")
    return elapsed


def make(*args: str) -> list[str]:
    return [os.environ.get("MAKE", "make"), "--no-print-directory", *args]


def project_copy(destination: Path) -> Path:
    """The project as a clone has it (tools/project_copy.py), with this tree's zips: they are
    named by their inputs' hash, so the copy's build reuses them."""
    copied = copy_of_project(destination)
    for zips in ("functions", "layers"):
        if (ROOT / "build" / zips).is_dir():
            shutil.copytree(ROOT / "build" / zips, copied / "build" / zips)
    run(make("build"), os.environ, copied)
    return copied


def bootstrap(project: Path, env: Mapping[str, str]) -> None:
    """What an administrator does once per account before anyone deploys (not timed)."""
    run(make("params", f"REGION={REGION}", f"ENV={ENV}"), env, project)
    run(make("bootstrap", f"REGION={REGION}", f"ENV={ENV}"), env, project)


COMMANDS: dict[str, Callable[[Path], list[str]]] = {
    "make deploy": lambda project: make("deploy", f"REGION={REGION}", f"ENV={ENV}"),
    "sam deploy": lambda project: sam_deploy_command(ENV, REGION, project / "samconfig.toml"),
}


def deploy_twice(name: str, project: Path) -> tuple[float, float]:
    """(clean, no-op) for one command, on a fresh emulator."""
    emulator = EmulatorProcess(free_ports(1)[0])
    endpoint = emulator.start()
    try:
        env = environment(endpoint.url)
        bootstrap(project, env)
        command = COMMANDS[name](project)
        return run(command, env, project), run(command, env, project)
    finally:
        emulator.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-deploy-") as scratch:
        project = project_copy(Path(scratch) / "backend-kit")
        print(f"benchmark: {args.runs} runs of each deploy into a fresh emulator", flush=True)
        times: dict[tuple[str, str], list[float]] = {
            (name, case): [] for name in COMMANDS for case in ("clean", "no-op")
        }
        for index in range(args.runs):
            names = list(COMMANDS) if index % 2 == 0 else list(reversed(COMMANDS))
            for name in names:
                clean, noop = deploy_twice(name, project)
                times[(name, "clean")].append(clean)
                times[(name, "no-op")].append(noop)
            print(f"  run {index + 1}/{args.runs} done", flush=True)
    median = {key: statistics.median(values) for key, values in times.items()}
    print(f"\n{'case':<8} {'make deploy':>12} {'sam deploy':>11} {'ratio':>7} {'target':>8}")
    failed = False
    for case in ("clean", "no-op"):
        ours, peer = median[("make deploy", case)], median[("sam deploy", case)]
        ratio = ours / peer
        verdict = "ok" if ratio <= TARGETS[case] else "MISSED"
        failed |= verdict != "ok"
        print(
            f"{case:<8} {ours:>11.1f}s {peer:>10.1f}s {ratio:>6.2f}x"
            f" {'<= ' + str(TARGETS[case]) + 'x':>8} {verdict}"
        )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
