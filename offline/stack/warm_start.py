"""Whether a restarted `make local` may serve the stack its emulator already holds, or must
deploy: the deploy is skipped only when the stack in the emulator is the one this build
would deploy.

After each deploy, a record (build/local/deployed/<region>/<stack>.json) keeps what was
deployed: the template's hash, each zip's hash, the region, environment and origins, and the
stack's identity as the emulator reported it then (its id and its latest event: every
create, update or rollback adds events, newest first). The next start compares that record
with the build just made and with the emulator's stack, and with each function's code in the
emulator (Lambda's CodeSha256 against the built zip): a record left by another emulator
state, a stack changed since, or code pushed by `make local WATCH=1` all mean a deploy.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from artifacts import manifest
from offline.common.endpoint import Endpoint

# Stacks in these states are whole; anything else (a failed or half-done update) is deployed
# over (https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/using-cfn-describing-stacks.html).
SETTLED = {"CREATE_COMPLETE", "UPDATE_COMPLETE", "IMPORT_COMPLETE"}


@dataclass(frozen=True)
class Deployed:
    """What one deploy put into the emulator, and the stack it left there."""

    stack: str
    region: str
    environment: str
    origins: tuple[str, ...]
    template_sha256: str
    zips: dict[str, str]  # "function users", "layer shared" -> the zip's sha256
    stack_id: str = ""
    last_event: str = ""  # the id of the stack's newest event

    def differences(self, other: Deployed) -> list[str]:
        """What differs between what was deployed and what would be: one phrase each."""
        found = [
            f"the {what} changed"
            for what, mine, theirs in (
                ("stack name", self.stack, other.stack),
                ("region", self.region, other.region),
                ("environment", self.environment, other.environment),
                ("allowed origins", self.origins, other.origins),
                ("template", self.template_sha256, other.template_sha256),
            )
            if mine != theirs
        ]
        names = sorted(set(self.zips) | set(other.zips))
        found += [f"the {name} zip changed" for name in names
                  if self.zips.get(name) != other.zips.get(name)]  # fmt: skip
        return found


def this_build(
    build: Path, stack: str, region: str, environment: str, origins: list[str]
) -> Deployed:
    """What deploying the build in `build` would put into the emulator."""
    built = manifest.load(build / "manifest.json")
    return Deployed(
        stack=stack,
        region=region,
        environment=environment,
        origins=tuple(origins),
        template_sha256=hashlib.sha256((build / "template.yaml").read_bytes()).hexdigest(),
        # A function and a layer may share a name.
        zips={f"{a.kind} {a.name}": a.zip_sha256 for a in built.artifacts},
    )


def _stack(endpoint: Endpoint, region: str, name: str) -> dict[str, Any] | None:
    cloudformation = endpoint.client("cloudformation", region)
    try:
        return dict(cloudformation.describe_stacks(StackName=name)["Stacks"][0])
    except cloudformation.exceptions.ClientError:
        return None


def _last_event(endpoint: Endpoint, region: str, stack_id: str) -> str:
    cloudformation = endpoint.client("cloudformation", region)
    events = cloudformation.describe_stack_events(StackName=stack_id)["StackEvents"]
    return str(events[0]["EventId"]) if events else ""


def record(path: Path, endpoint: Endpoint, deployed: Deployed) -> None:
    """After a deploy: what it deployed, with the stack as the emulator reports it now."""
    stack = _stack(endpoint, deployed.region, deployed.stack)
    if stack is None:
        path.unlink(missing_ok=True)
        return
    made = dataclasses.replace(
        deployed,
        stack_id=stack["StackId"],
        last_event=_last_event(endpoint, deployed.region, stack["StackId"]),
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(asdict(made), indent=2, sort_keys=True) + "\n")


def _recorded(path: Path) -> Deployed | None:
    try:
        found = json.loads(path.read_text())
        return Deployed(**{**found, "origins": tuple(found["origins"])})
    except (OSError, ValueError, TypeError, KeyError):
        return None


def why_deploy(path: Path, endpoint: Endpoint, wanted: Deployed) -> str | None:
    """None when the emulator's stack is `wanted` as it stands; otherwise why it is not."""
    stack = _stack(endpoint, wanted.region, wanted.stack)
    if stack is None:
        return f"{wanted.stack} is not deployed in this emulator"
    if stack["StackStatus"] not in SETTLED:
        return f"{wanted.stack} is {stack['StackStatus']}"
    recorded = _recorded(path)
    if recorded is None:
        return f"no record of what {wanted.stack} was deployed from"
    now = (stack["StackId"], _last_event(endpoint, wanted.region, stack["StackId"]))
    if (recorded.stack_id, recorded.last_event) != now:
        return f"{wanted.stack} changed after the recorded deploy"
    differences = recorded.differences(wanted)
    if differences:
        return ", ".join(differences)
    return _code_differs(endpoint, wanted, stack["StackName"])


def _code_differs(endpoint: Endpoint, wanted: Deployed, stack_name: str) -> str | None:
    """Each function's code in Lambda is the zip built for it (a WATCH=1 push changes it)."""
    cloudformation = endpoint.client("cloudformation", wanted.region)
    lambda_ = endpoint.client("lambda", wanted.region)
    resources = cloudformation.describe_stack_resources(StackName=stack_name)["StackResources"]
    built = {
        base64.b64encode(bytes.fromhex(sha256)).decode()
        for name, sha256 in wanted.zips.items()
        if name.startswith("function ")
    }
    for resource in resources:
        if resource["ResourceType"] != "AWS::Lambda::Function":
            continue
        found = lambda_.get_function_configuration(FunctionName=resource["PhysicalResourceId"])
        if found["CodeSha256"] not in built:
            return f"{resource['LogicalResourceId']}'s code in the emulator is not this build's"
    return None
