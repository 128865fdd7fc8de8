"""`python -m offline fuzz`: schemathesis, every check, against the running `make local`.

Two users of the local pool get tokens, written as a Web Fuzzing Commons auth file beside the
local state, so schemathesis can also try each user's objects as the other one."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from offline.common.console import say

CONFIG = Path(__file__).with_name("fuzz.toml")
HOOKS = Path(__file__).with_name("fuzz_hooks.py")
USERS = ("fuzz-alice", "fuzz-bob")  # the peers named in fuzz.toml


def auth_file(tokens: dict[str, str], path: Path) -> Path:
    """The WFC auth document: one entry per user, each a fixed bearer header."""
    entries = [
        {"name": name, "fixedHeaders": [{"name": "Authorization", "value": f"Bearer {token}"}]}
        for name, token in tokens.items()
    ]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch(mode=0o600, exist_ok=True)  # tokens: readable by this user only
    path.write_text(json.dumps({"auth": entries}, indent=2))
    return path


def subject(token: str) -> str:
    """The token's `sub`: the id its user has in /users/{id}. Our own pool's token, read
    without verifying it."""
    payload = token.split(".")[1]
    return str(json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))["sub"])


def command(
    api: str, *, config: Path, examples: int, seed: int, report: Path, extra: list[str]
) -> list[str]:
    return [
        sys.executable,
        "-m",
        "schemathesis.cli",
        "--config-file",
        str(config),
        "run",
        f"{api}/openapi.json",
        "--max-examples",
        str(examples),
        "--seed",
        str(seed),
        "--report",
        "junit",
        "--report-dir",
        str(report),
        *extra,
    ]


def fuzz(
    state: dict[str, Any],
    token: Any,
    *,
    examples: int,
    seed: int,
    workdir: Path,
    extra: list[str],
    config: Path = CONFIG,
) -> int:
    """Run schemathesis once; its exit status is ours (0: no failure)."""
    tokens = {user: token(state, user) for user in USERS}
    auth = auth_file(tokens, workdir / "fuzz-auth.json")
    report = workdir / "fuzz-report"
    argv = command(
        state["api"], config=config, examples=examples, seed=seed, report=report, extra=extra
    )
    say(f"fuzz: schemathesis, every check, {examples} examples per operation, seed {seed}")
    say(f"fuzz: {' '.join(argv[2:])}")
    env = {
        **os.environ,
        "OFFLINE_FUZZ_AUTH": str(auth),
        "OFFLINE_FUZZ_HOOKS": str(HOOKS),
        "OFFLINE_FUZZ_USER_ID": subject(tokens[USERS[0]]),
    }
    return subprocess.run(argv, env=env).returncode
