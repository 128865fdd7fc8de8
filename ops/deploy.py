"""The one deploy path: `sam deploy` with samconfig.toml. `make deploy` runs it against AWS,
`make local` and the tests run the very same command against the emulator (AWS_ENDPOINT_URL)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

from ops.config import ROOT, SAMCONFIG, parameter_overrides


class DeployFailed(Exception):
    pass


def sam() -> str:
    """The SAM CLI installed beside this interpreter (the project's .venv)."""
    return str(Path(sys.executable).with_name("sam"))


def sam_arguments(environment: str, region: str, config: Path = SAMCONFIG) -> list[str]:
    """What every SAM command needs to find its settings. The config file goes in by absolute
    path: SAM CLI resolves a relative one against the template's folder, build/
    (samcli/cli/cli_config_file.py)."""
    return ["--config-file", str(config.resolve()), "--config-env", environment, "--region", region]


def sam_deploy_command(
    environment: str,
    region: str,
    config: Path = SAMCONFIG,
    overrides: Mapping[str, str] | None = None,
    role_arn: str | None = None,
) -> list[str]:
    command = [sam(), "deploy", *sam_arguments(environment, region, config), "--no-progressbar"]
    if role_arn:  # the execution role of another account than samconfig.toml's (the emulator)
        command += ["--role-arn", role_arn]
    if overrides:
        # On the command line, --parameter-overrides replaces the file's whole list: pass it all.
        merged = {**parameter_overrides(environment, config), **overrides}
        text = " ".join(f'{k}="{v}"' for k, v in merged.items())  # samconfig's own form
        command += ["--parameter-overrides", text]
    return command


def sam_deploy(
    environment: str,
    region: str,
    *,
    env: Mapping[str, str] | None = None,
    config: Path = SAMCONFIG,
    overrides: Mapping[str, str] | None = None,
    role_arn: str | None = None,
    quiet: bool = False,
) -> None:
    """Run `sam deploy` from the repository root; its change set and stack events are the
    progress. Raises DeployFailed with SAM's last line when it fails."""
    run_sam(
        sam_deploy_command(environment, region, config, overrides, role_arn),
        f"sam deploy failed in {region} ({environment})",
        env=env,
        quiet=quiet,
    )


def run_sam(
    command: list[str], failure: str, env: Mapping[str, str] | None = None, quiet: bool = False
) -> None:
    """A SAM CLI command from the repository root, its output shown unless `quiet`. Raises
    DeployFailed as `failure: <SAM's last line>` when it fails."""
    environ = dict(env if env is not None else os.environ)
    environ.setdefault("SAM_CLI_TELEMETRY", "0")  # nothing leaves the machine unasked
    result = subprocess.run(
        command, cwd=ROOT, env=environ, stdin=subprocess.DEVNULL, capture_output=quiet, text=True
    )
    if result.returncode != 0:
        output = (result.stderr or result.stdout or "").strip().splitlines() if quiet else []
        detail = output[-1] if output else f"exit status {result.returncode}"
        raise DeployFailed(f"{failure}: {detail}")
