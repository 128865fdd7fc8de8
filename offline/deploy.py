"""Deploy into the emulator with the same `make params` and `sam deploy` (samconfig.toml
environment) as `make deploy`, then read the stack back (offline/deployed_stack.py)."""

from __future__ import annotations

import os
from pathlib import Path

from offline.console import say, step
from offline.deployed_stack import DeployedStack, read_stack
from offline.endpoint import ACCOUNT, Endpoint
from ops import params
from ops.config import parameter_overrides
from ops.deploy import sam_deploy
from template_gen.model import Spec


def deploy(
    endpoint: Endpoint,
    region: str,
    build: Path,
    spec: Spec,
    *,
    environment: str = "dev",
    origins: list[str],
) -> DeployedStack:
    """`make params` and `make deploy`'s `sam deploy`, pointed at the emulator."""
    name = f"{spec.project}-{environment}"
    with step(f"{region}: SecureString parameters, as `make params` creates them"):
        outcomes = params.provision(
            endpoint.client("kms", region),
            endpoint.client("ssm", region),
            spec,
            environment,
            account=ACCOUNT,
            region=region,
        )
        for outcome in outcomes:
            say(f"    {outcome.name}: {outcome.action}")
    overrides = {}
    if ",".join(origins) != parameter_overrides(environment).get("AllowedOrigins"):
        overrides["AllowedOrigins"] = ",".join(origins)
    env = {**os.environ, **endpoint.environment(region), "SAM_CLI_TELEMETRY": "0"}
    with step(f"{region}: sam deploy --config-env {environment} (as make deploy runs it)"):
        sam_deploy(environment, region, env=env, overrides=overrides, quiet=True)
    return read_stack(endpoint, region, environment, name, build)
