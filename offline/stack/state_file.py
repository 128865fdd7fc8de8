"""Where a running `make local` records itself (its API, its emulator, its deployed stack),
for `make token`, `make invoke` and `make fuzz` to find it."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING

from offline.cloudformation.deployed_stack import DeployedStack
from offline.common.endpoint import Endpoint

if TYPE_CHECKING:
    from offline.stack.running_stack import RunningStack

BUILD = Path(__file__).resolve().parents[2] / "build"
STATE = Path(os.environ.get("OFFLINE_STATE", BUILD / "local" / "state.json"))


def write_state(running: RunningStack, port: int) -> None:
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


def attach(state: dict, build: Path = BUILD) -> DeployedStack:
    """The running `make local`'s deployed stack, from its state file."""
    return DeployedStack(
        Endpoint(state["endpoint"]),
        state["region"],
        state["stack"],
        state["environment"],
        build,
        state["template"],
        state["parameters"],
        state["physical_ids"],
    )
