"""CloudFormation drift detection, waited for, as a readable table."""

from __future__ import annotations

import json
import time
from typing import Any

DRIFTED = ["MODIFIED", "DELETED"]


def detect(cloudformation: Any, stack: str, timeout_s: float = 300, poll_s: float = 3) -> dict:
    detection = cloudformation.detect_stack_drift(StackName=stack)["StackDriftDetectionId"]
    deadline = time.monotonic() + timeout_s
    while True:
        status = cloudformation.describe_stack_drift_detection_status(
            StackDriftDetectionId=detection
        )
        if status["DetectionStatus"] != "DETECTION_IN_PROGRESS":
            break
        if time.monotonic() > deadline:
            raise TimeoutError(f"drift detection of {stack} still running after {timeout_s} s")
        time.sleep(poll_s)
    drifts = cloudformation.describe_stack_resource_drifts(
        StackName=stack, StackResourceDriftStatusFilters=DRIFTED
    )
    return {"status": status, "drifts": drifts["StackResourceDrifts"]}


def _short(value: Any, width: int = 40) -> str:
    text = value if isinstance(value, str) else json.dumps(value, sort_keys=True)
    return text if len(text) <= width else text[: width - 1] + "…"


def rows(drifts: list[dict]) -> list[tuple[str, str, str, str, str, str]]:
    """(resource, type, status, property, expected, actual): one per drifted property, or
    one per resource when it is gone or no property is named."""
    table = []
    for drift in sorted(drifts, key=lambda d: d["LogicalResourceId"]):
        base = (
            drift["LogicalResourceId"],
            drift["ResourceType"],
            drift["StackResourceDriftStatus"],
        )
        differences = drift.get("PropertyDifferences") or []
        if not differences:
            table.append((*base, "-", "-", "-"))
        for difference in differences:
            table.append(
                (
                    *base,
                    difference["PropertyPath"],
                    _short(difference.get("ExpectedValue", "")),
                    _short(difference.get("ActualValue", "")),
                )
            )
    return table


def report(stack: str, result: dict) -> str:
    status = result["status"]
    lines = [
        f"{stack}: {status.get('StackDriftStatus', status['DetectionStatus'])}"
        f" ({status.get('DriftedStackResourceCount', len(result['drifts']))} drifted)"
    ]
    table = rows(result["drifts"])
    if not table:
        lines.append("every resource matches the template")
        return "\n".join(lines)
    header = ("resource", "type", "status", "property", "expected", "actual")
    widths = [max(len(row[i]) for row in [header, *table]) for i in range(len(header))]
    for row in [header, *table]:
        lines.append("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)))
    return "\n".join(line.rstrip() for line in lines)
