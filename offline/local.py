"""One local stack: the emulator, the deployed template, the function workers and the
gateway, started in order with progress lines and stopped in reverse."""

from __future__ import annotations

import json
import os
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

from offline import api as http_api
from offline.auth import JwtVerifier, fetch_jwks
from offline.console import say, step
from offline.deploy import LocalStack, deploy
from offline.emulator import Emulator, Endpoint, ensure_free
from offline.functions import Functions
from offline.gateway import Gateway

ROOT = Path(__file__).resolve().parent.parent
BUILD = ROOT / "build"
# Where a running `make local` records itself for `make token` and `make invoke`.
STATE = Path(os.environ.get("OFFLINE_STATE", BUILD / "local" / "state.json"))


# What the stack holds that this machine does not run, and why; start-up prints it.
NOT_RUN = {
    "API Gateway": "the local gateway serves the routes of the deployed template",
    "CodeDeploy": "no traffic shifting; each deploy moves the live alias at once",
}


@dataclass
class Running:
    stack: LocalStack
    functions: Functions
    gateway: Gateway


def start(
    exits: ExitStack,
    *,
    emulator_port: int,
    region: str,
    environment: str,
    origins: list[str],
    build: Path = BUILD,
    warm: bool = True,
    enforce: bool = True,
) -> Running:
    """Everything but the HTTP listener; `exits` stops it all in reverse order."""
    for name in ("manifest.json", "template.yaml"):
        if not (build / name).is_file():
            raise FileNotFoundError(f"{build / name} is missing: run `make build` first")
    emulator = Emulator(emulator_port, enforce)
    with step(f"starting the emulator on 127.0.0.1:{emulator_port}"):
        endpoint = emulator.start()
    if enforce:
        say("  enforcing: each function calls AWS as its own role; IAM, key, bucket and POST")
        say("  policies decide every call, as in AWS (refusals are logged by the emulator)")
    else:
        say("  ENFORCEMENT OFF (--no-enforcement): every call is allowed, as plain moto does")
    exits.callback(emulator.stop)
    stack = deploy(endpoint, region, build, environment=environment, origins=origins)
    say(f"  not run locally: {', '.join(f'{k} ({why})' for k, why in sorted(NOT_RUN.items()))}")
    with step("unpacking the functions from their zips and starting their workers"):
        functions = Functions(stack)
        exits.callback(functions.stop)
        if warm:
            for function in functions.by_logical_id.values():
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
    return Running(stack, functions, Gateway(api, verifiers, functions, api_id, openapi))


def write_state(running: Running, port: int) -> None:
    stack = running.stack
    STATE.parent.mkdir(parents=True, exist_ok=True)
    STATE.write_text(
        json.dumps(
            {
                "pid": os.getpid(),
                "api": f"http://127.0.0.1:{port}",
                "endpoint": stack.endpoint.url,
                "region": stack.region,
                "environment": stack.environment,
                "stack": stack.name,
                "user_pool_id": stack.physical_ids["UserPool"],
                "client_id": stack.physical_ids["UserPoolClient"],
                "template": stack.template,
                "physical_ids": stack.physical_ids,
                "parameters": stack.parameters,
            },
            indent=2,
            sort_keys=True,
        )
    )


def read_state() -> dict | None:
    """The running `make local`, if there is one and its emulator answers."""
    if not STATE.is_file():
        return None
    state = json.loads(STATE.read_text())
    return state if Endpoint(state["endpoint"]).reachable() else None


def attach(state: dict, build: Path = BUILD) -> LocalStack:
    return LocalStack(
        Endpoint(state["endpoint"]),
        state["region"],
        state["stack"],
        state["environment"],
        build,
        state["template"],
        state["parameters"],
        state["physical_ids"],
    )


def check_ports(port: int, emulator_port: int) -> None:
    ensure_free(port, "HTTP API")
    ensure_free(emulator_port, "emulator")
