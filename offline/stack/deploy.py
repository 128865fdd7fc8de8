"""Deploy into the emulator as a user deploys into an account: an administrator makes the
bootstrap stack and the SecureStrings (`make bootstrap`, `make params`), then a principal
holding only the deployer policy runs `make deploy`'s `sam deploy` (samconfig.toml
environment) with the bootstrap's execution role; then the stack is read back
(offline/cloudformation/deployed_stack.py)."""

from __future__ import annotations

import os
from pathlib import Path

from offline.cloudformation.deployed_stack import DeployedStack, read_stack
from offline.common.console import say, step
from offline.common.endpoint import ACCOUNT, Endpoint
from offline.stack import deployer
from ops import bootstrap, params
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
    with step(f"{region}: the bootstrap stack, as an administrator's `make bootstrap` makes it"):
        made = bootstrap.bootstrap(
            environment, region, endpoint.client, say=lambda line: say(f"    {line}"), env=env,
            write_samconfig=False, quiet=True,
        )  # fmt: skip
    role = deployer.role(endpoint, f"{spec.project}-{environment}-local-deployer",
                         [made.deployer_policy])  # fmt: skip
    as_deployer = {
        **os.environ,
        **deployer.environment(endpoint, region, deployer.session(endpoint, role, region)),
        "SAM_CLI_TELEMETRY": "0",
    }
    with step(f"{region}: sam deploy --config-env {environment}, as a deployer (make deploy)"):
        sam_deploy(
            environment, region, env=as_deployer, overrides=overrides,
            role_arn=made.execution_role, quiet=True,
        )  # fmt: skip
    return read_stack(endpoint, region, environment, name, build)
