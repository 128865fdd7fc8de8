"""`make deploy` into the emulator: a first deploy on a clean emulator and a no-op redeploy.

    python benchmarks/bench_deploy.py [--runs N]

Each run starts a fresh emulator (`python -m offline emulator`) on a free loopback port and
creates the SecureStrings with `make params` before the clock starts. Then it times, as
processes with the emulator behind AWS_ENDPOINT_URL:

- `make deploy REGION=us-east-1 ENV=dev`, the command a user runs: the preflight (region,
  credentials, origins, artifacts, cfn-lint, SecureStrings), the check for retained
  resources to import, and `sam deploy`;
- the named peer, bare `sam deploy` with the same samconfig.toml environment, which is what
  `make deploy` wraps; the ratio is what the preflight and the import check cost on top.

Clean deploys alternate which of the two goes first, each on its own fresh emulator. The
no-op redeploy runs each command again on the stack it just made ("No changes to deploy").
The build is done before any clock starts and is not counted. The deploy path that came
before `make deploy` ran SAM CLI (offline's own change sets) no longer exists, so no figure
of it is given. Only 127.0.0.1 is contacted.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from offline.emulator_process import EmulatorProcess  # noqa: E402
from offline.endpoint import CREDENTIALS  # noqa: E402
from offline.ports import free_ports  # noqa: E402
from ops.deploy import sam_deploy_command  # noqa: E402

REGION, ENV = "us-east-1", "dev"
# Targets for make deploy / sam deploy: the preflight's checks, cfn-lint above all, are
# worth a bounded share of a deploy.
TARGETS = {"clean": 1.6, "no-op": 2.0}
AWS_KEYS = ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_REGION", "AWS_DEFAULT_REGION", "MAKEFLAGS")


def environment(endpoint: str) -> dict[str, str]:
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


def run(command: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    result = subprocess.run(
        command, cwd=ROOT, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True
    )
    elapsed = time.perf_counter() - started
    if result.returncode != 0:
        sys.exit(f"{' '.join(command)} failed:\n{result.stdout[-3000:]}\n{result.stderr}")
    return elapsed


def make(*args: str) -> list[str]:
    return [os.environ.get("MAKE", "make"), "--no-print-directory", *args]


COMMANDS: dict[str, Callable[[], list[str]]] = {
    "make deploy": lambda: make("deploy", f"REGION={REGION}", f"ENV={ENV}"),
    "sam deploy": lambda: sam_deploy_command(ENV, REGION),
}


def deploy_twice(name: str) -> tuple[float, float]:
    """(clean, no-op) for one command, on a fresh emulator."""
    emulator = EmulatorProcess(free_ports(1)[0])
    endpoint = emulator.start()
    try:
        env = environment(endpoint.url)
        run(make("params", f"REGION={REGION}", f"ENV={ENV}"), env)
        return run(COMMANDS[name](), env), run(COMMANDS[name](), env)
    finally:
        emulator.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    subprocess.run(make("build"), cwd=ROOT, check=True, capture_output=True)
    print(f"benchmark: {args.runs} runs of each deploy into a fresh emulator", flush=True)
    times: dict[tuple[str, str], list[float]] = {
        (name, case): [] for name in COMMANDS for case in ("clean", "no-op")
    }
    for index in range(args.runs):
        names = list(COMMANDS) if index % 2 == 0 else list(reversed(COMMANDS))
        for name in names:
            clean, noop = deploy_twice(name)
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
