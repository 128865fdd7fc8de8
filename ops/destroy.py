"""Delete a stack, only after the operator types its name. Retained resources stay."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def retained(cloudformation: Any, stack: str, template: dict) -> list[tuple[str, str, str]]:
    """(logical id, type, physical id) of every resource the template retains on delete."""
    keep = {
        logical: resource["Type"]
        for logical, resource in template.get("Resources", {}).items()
        if resource.get("DeletionPolicy") == "Retain"
    }
    found = cloudformation.describe_stack_resources(StackName=stack)["StackResources"]
    return sorted(
        (r["LogicalResourceId"], keep[r["LogicalResourceId"]], r.get("PhysicalResourceId", "?"))
        for r in found
        if r["LogicalResourceId"] in keep
    )


def destroy(
    cloudformation: Any,
    stack: str,
    region: str,
    environment: str,
    ask: Callable[[str], str],
    say: Callable[[str], None] = print,
) -> bool:
    template = cloudformation.get_template(StackName=stack, TemplateStage="Processed")
    body = template["TemplateBody"]
    kept = retained(cloudformation, stack, body if isinstance(body, dict) else {})
    say(
        f"This deletes stack {stack} in {region}. These resources are retained and stay,"
        " with their data and their cost, until you delete them yourself:"
    )
    for logical, kind, physical in kept:
        say(f"  {kind:28} {physical}  ({logical})")
    if ask(f"Type the stack name ({stack}) to delete it: ").strip() != stack:
        say("Not deleted: the name did not match.")
        return False
    cloudformation.delete_stack(StackName=stack)
    cloudformation.get_waiter("stack_delete_complete").wait(
        StackName=stack, WaiterConfig={"Delay": 5, "MaxAttempts": 360}
    )
    say(f"Deleted {stack} in {region}. Retained: {len(kept)} resource(s), listed above.")
    if kept:
        say(
            "They come back with their data on the next deploy, which imports them into the"
            f" new stack: make deploy REGION={region} ENV={environment}"
        )
    return True
