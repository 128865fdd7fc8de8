"""The same built artifacts and template to several regions, in order, with a summary."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

NOT_ATTEMPTED = "not attempted"


@dataclass
class RegionResult:
    region: str
    status: str
    url: str = ""
    seconds: float = 0.0
    failed: bool = False


def deploy_all(
    regions: list[str],
    deploy: Callable[[str], bool],
    describe: Callable[[str], tuple[str, str]],
    keep_going: bool = False,
) -> list[RegionResult]:
    """`deploy(region)` runs one regional deploy; `describe(region)` gives (stack status,
    API URL). A failure stops the regions after it unless `keep_going`."""
    results: list[RegionResult] = []
    stopped = False
    for region in regions:
        if stopped:
            results.append(RegionResult(region, NOT_ATTEMPTED))
            continue
        started = time.monotonic()
        ok = deploy(region)
        status, url = describe(region)
        results.append(RegionResult(region, status, url, time.monotonic() - started, not ok))
        stopped = not ok and not keep_going
    return results


def stack_summary(cloudformation: Any, stack: str) -> tuple[str, str]:
    try:
        described = cloudformation.describe_stacks(StackName=stack)["Stacks"][0]
    except cloudformation.exceptions.ClientError:
        return "no stack", ""
    outputs = {o["OutputKey"]: o["OutputValue"] for o in described.get("Outputs", [])}
    return described["StackStatus"], outputs.get("ApiUrl", "")


def table(results: list[RegionResult]) -> str:
    header = ("region", "stack status", "API URL", "time")
    rows = [
        (r.region, r.status, r.url or "-", f"{r.seconds:.0f}s" if r.seconds else "-")
        for r in results
    ]
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in [header, *rows]
    )
