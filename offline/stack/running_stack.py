"""The whole stack on this machine, as `make local` runs it: the emulator, the deployed
template, the function sandboxes and the gateway, started in order with progress lines and
stopped in reverse."""

from __future__ import annotations

import json
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

from offline.apigateway import http_api
from offline.apigateway.authorizer import JwtVerifier, fetch_jwks
from offline.apigateway.gateway import Gateway
from offline.cloudformation.deployed_stack import DeployedStack
from offline.common.console import say, step
from offline.common.ports import ensure_free
from offline.lambda_.sandbox_pool import SandboxPool
from offline.stack.deploy import deploy
from offline.stack.emulator_process import EmulatorProcess
from template_gen.model import Spec

ROOT = Path(__file__).resolve().parents[2]
BUILD = ROOT / "build"


# What the stack holds that this machine does not run, and why; start-up prints it.
NOT_RUN = {
    "API Gateway": "the local gateway serves the routes of the deployed template",
    "CodeDeploy": "no traffic shifting; each deploy moves the live alias at once",
}


@dataclass
class RunningStack:
    stack: DeployedStack
    sandboxes: SandboxPool
    gateway: Gateway


def start(
    exits: ExitStack,
    spec: Spec,
    *,
    emulator_port: int,
    region: str,
    environment: str,
    origins: list[str],
    build: Path = BUILD,
    warm: bool = True,
    enforce: bool = True,
) -> RunningStack:
    """Everything but the HTTP listener; `exits` stops it all in reverse order."""
    for name in ("manifest.json", "template.yaml"):
        if not (build / name).is_file():
            raise FileNotFoundError(f"{build / name} is missing: run `make build` first")
    emulator = EmulatorProcess(emulator_port, enforce)
    with step(f"starting the emulator on 127.0.0.1:{emulator_port}"):
        endpoint = emulator.start()
    if enforce:
        say("  enforcing: each function calls AWS as its own role; IAM, key, bucket and POST")
        say("  policies decide every call, as in AWS (refusals are logged by the emulator)")
    else:
        say("  ENFORCEMENT OFF (--no-enforcement): every call is allowed, as plain moto does")
    exits.callback(emulator.stop)
    stack = deploy(endpoint, region, build, spec, environment=environment, origins=origins)
    say(f"  not run locally: {', '.join(f'{k} ({why})' for k, why in sorted(NOT_RUN.items()))}")
    with step("unpacking the functions from their zips and starting their sandboxes"):
        sandboxes = SandboxPool.for_stack(stack)
        exits.callback(sandboxes.stop)
        if warm:
            for function in sandboxes.by_logical_id.values():
                function.warm()
    with step("reading routes, authorizer and CORS from the template"):
        api = http_api.load(stack)
        verifiers = {
            name: JwtVerifier(authorizer, fetch_jwks(endpoint.url, authorizer.issuer))
            for name, authorizer in api.authorizers.items()
        }
        say(
            f"    {len(api.routes)} routes, authorizers: {', '.join(verifiers) or 'none'},"
            f" CORS origins: {', '.join(api.cors.origins) if api.cors else 'none'}"
        )
    api_id = stack.physical_ids["HttpApi"]
    description = build / "openapi.json"
    openapi = json.loads(description.read_text()) if description.is_file() else None
    return RunningStack(stack, sandboxes, Gateway(api, verifiers, sandboxes, api_id, openapi))


def check_ports(port: int, emulator_port: int) -> None:
    ensure_free(port, "HTTP API")
    ensure_free(emulator_port, "emulator")
