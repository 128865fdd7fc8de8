"""The whole stack on this machine, as `make local` runs it: the emulator, the deployed
template, the function sandboxes and the gateway, started in order with progress lines and
stopped in reverse."""

from __future__ import annotations

import json
import shutil
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from offline.common.console import say, step
from offline.common.ports import ensure_free
from offline.stack.emulator_process import EmulatorProcess

if TYPE_CHECKING:
    from offline.apigateway.gateway import Gateway
    from offline.cloudformation.deployed_stack import DeployedStack
    from offline.lambda_.sandbox_pool import SandboxPool
    from template_gen.model import Spec

ROOT = Path(__file__).resolve().parents[2]
BUILD = ROOT / "build"
# In the state folder: the emulator's snapshot, and the record of the last deploy of each
# stack into it, as deployed/<region>/<stack>.json (ENV= and --region pick other stacks).
SNAPSHOT = "emulator.snapshot"
DEPLOYED = "deployed"


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
    state: Path | None = None,
    fresh: bool = False,
) -> RunningStack:
    """Everything but the HTTP listener; `exits` stops it all in reverse order. With `state`
    (a folder), the emulator starts from the state it saved there when it last stopped, and
    the deploy is skipped when the stack it holds is this build's (offline/stack/warm_start.py);
    `fresh` removes that state first."""
    for name in ("manifest.json", "template.yaml"):
        if not (build / name).is_file():
            raise FileNotFoundError(f"{build / name} is missing: run `make build` first")
    name = f"{spec.project}-{environment}"
    snapshot = state / SNAPSHOT if state else None
    deployed = state / DEPLOYED / region / f"{name}.json" if state else None
    if fresh and state:
        (state / SNAPSHOT).unlink(missing_ok=True)
        shutil.rmtree(state / DEPLOYED, ignore_errors=True)
        say(f"  FRESH=1: the emulator starts empty (its saved state in {state} is removed)")
    emulator = EmulatorProcess(emulator_port, enforce, state=snapshot)
    with step(f"starting the emulator on 127.0.0.1:{emulator_port}"):
        emulator.launch()
        exits.callback(emulator.stop)
        # Imported while the emulator starts, rather than before it.
        from offline.apigateway import http_api
        from offline.apigateway.authorizer import JwtVerifier, fetch_jwks
        from offline.apigateway.gateway import Gateway
        from offline.cloudformation.deployed_stack import read_stack
        from offline.lambda_.sandbox_pool import SandboxPool
        from offline.stack import warm_start

        endpoint = emulator.wait()
    if enforce:
        say("  enforcing: each function calls AWS as its own role; IAM, key, bucket and POST")
        say("  policies decide every call, as in AWS (refusals are logged by the emulator)")
    else:
        say("  ENFORCEMENT OFF (--no-enforcement): every call is allowed, as plain moto does")
    name = f"{spec.project}-{environment}"
    wanted = warm_start.this_build(build, name, region, environment, origins)
    reason = warm_start.why_deploy(deployed, endpoint, wanted) if deployed else "no saved state"
    if reason is None:
        say(f"  warm start: {name} in the emulator is this build's (template and"
            f" {len(wanted.zips)} zips), so no deploy; FRESH=1 starts from nothing")  # fmt: skip
        stack = read_stack(endpoint, region, environment, name, build)
    else:
        if deployed:
            say(f"  deploying: {reason}")
            deployed.unlink(missing_ok=True)  # a deploy that fails leaves no record
        from offline.stack.deploy import deploy  # SAM CLI's and the ops' modules: only here

        stack = deploy(endpoint, region, build, spec, environment=environment, origins=origins)
        if deployed:
            warm_start.record(deployed, endpoint, wanted)
    say(f"  not run locally: {', '.join(f'{k} ({why})' for k, why in sorted(NOT_RUN.items()))}")
    with step("unpacking the functions from their zips and starting their sandboxes"):
        sandboxes = SandboxPool.for_stack(stack)
        exits.callback(sandboxes.stop)
        if warm:
            # Each first sandbox is a process importing its handler: started side by side.
            with ThreadPoolExecutor() as pool:
                list(pool.map(lambda function: function.warm(), sandboxes.by_logical_id.values()))
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
