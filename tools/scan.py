"""`make lint`'s security scanners on every template the project renders.

- cdk-nag's AwsSolutions, Serverless, NIST 800-53 R5 and HIPAA Security packs
  (tools/cdk_nag.mjs, through CfnInclude);
- cfn-guard with AWS Control Tower's proactive controls, both from the pinned
  @cdklabs/cdk-validator-cfnguard package. Those rules do not read waivers, so a failure on a
  resource whose Metadata lists the rule in `guard: SuppressedRules` counts as suppressed,
  the convention of the AWS Guard rules registry
  (https://github.com/aws-cloudformation/aws-guard-rules-registry#suppressing-rules).

Every suppression is a waiver of template_gen/findings.py, with its reason. Any finding left,
or a waiver without a reason, fails the run and is printed as `template: resource: rule`.

    python -m tools.scan [--json build/scan.json] [TEMPLATE ...]
"""

from __future__ import annotations

import argparse
import json
import platform
import re
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
TEMPLATES = ("build/template.expanded.json", "build/bootstrap.yaml")
GUARD_PACKAGE = ROOT / "node_modules" / "@cdklabs" / "cdk-validator-cfnguard"
GUARD_RULES = GUARD_PACKAGE / "rules" / "control-tower" / "cfn-guard"
TIMEOUT_S = 120


class ScanError(Exception):
    pass


@dataclass(frozen=True)
class Finding:
    scanner: str  # cdk-nag, cfn-guard
    pack: str  # AwsSolutions, ..., control-tower
    rule: str
    template: str
    resource: str
    message: str
    suppressed: bool
    reason: str | None

    def line(self) -> str:
        return f"{self.template}: {self.resource}: {self.scanner} {self.rule}: {self.message}"


def run(command: list[str]) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(
            command, cwd=ROOT, capture_output=True, text=True, timeout=TIMEOUT_S, check=False
        )
    except subprocess.TimeoutExpired:
        raise ScanError(f"{' '.join(command)} did not finish in {TIMEOUT_S} s") from None


def cdk_nag(templates: Sequence[str]) -> tuple[str, list[Finding]]:
    done = run(["node", "tools/cdk_nag.mjs", *templates])
    if done.returncode != 0:
        raise ScanError(f"cdk-nag failed: {done.stderr.strip()[-2000:]}")
    report = json.loads(done.stdout)
    found: list[Finding] = []
    for template, result in report["templates"].items():
        for refused in result["refused"]:
            message = "a cdk_nag waiver needs an id and a reason of 10 characters or more"
            rule = str(refused["rule"])
            where = refused["resource"]
            found.append(Finding("cdk-nag", "waivers", rule, template, where, message, False, None))
        for f in result["findings"]:
            found.append(
                Finding(
                    "cdk-nag",
                    f["pack"],
                    f["rule"],
                    template,
                    f["resource"],
                    f["message"],
                    f["suppressed"],
                    f["reason"],
                )
            )
    return str(report["version"]), found


def guard_binary() -> Path:
    system = {"Linux": "ubuntu", "Darwin": "macos"}.get(platform.system())
    machine = {"x86_64": "x86_64", "AMD64": "x86_64", "aarch64": "aarch64", "arm64": "aarch64"}.get(
        platform.machine()
    )
    binary = GUARD_PACKAGE / "bin" / str(system) / str(machine) / "cfn-guard"
    if not binary.is_file():
        raise ScanError(
            f"no cfn-guard binary for {platform.system()} {platform.machine()} in"
            f" {GUARD_PACKAGE.relative_to(ROOT)}: run make install"
        )
    return binary


def read_template(path: str) -> dict[str, Any]:
    text = (ROOT / path).read_text()
    if path.endswith(".json"):
        return dict(json.loads(text))
    from cfn_flip import load_yaml

    return dict(load_yaml(text))


def _waiver_reasons() -> dict[str, str]:
    """Each guard rule name's reason, from the waiver that names it."""
    from template_gen import findings

    return {
        rule: waiver.reason
        for waiver in vars(findings).values()
        if isinstance(waiver, findings.Waiver)
        for rule in waiver.guard
    }


RESOURCE_PATH = re.compile(r"/Resources/([A-Za-z0-9]+)")


def guard(templates: Sequence[str]) -> tuple[str, list[Finding]]:
    binary = guard_binary()
    version = run([str(binary), "--version"]).stdout.split()[-1]
    reasons = _waiver_reasons()
    found: list[Finding] = []
    for template in templates:
        done = run([str(binary), "validate", "--rules", str(GUARD_RULES), "--data",
                    str(ROOT / template), "--output-format", "sarif", "--structured",
                    "--show-summary", "none"])  # fmt: skip
        # 0: all pass, 19: some rule failed (cfn-guard's exit codes); anything else is an error.
        if done.returncode not in (0, 19):
            raise ScanError(f"cfn-guard failed on {template}: {done.stderr.strip()[-2000:]}")
        resources = read_template(template).get("Resources", {})
        seen: set[tuple[str, str]] = set()
        for result in json.loads(done.stdout)["runs"][0]["results"]:
            text = result["message"]["text"]
            match = RESOURCE_PATH.search(text)
            resource = match.group(1) if match else "?"
            rule = result["ruleId"]
            if (rule, resource) in seen:
                continue  # one finding per rule and resource; cfn-guard reports each clause
            seen.add((rule, resource))
            metadata = resources.get(resource, {}).get("Metadata", {})
            waived = rule in metadata.get("guard", {}).get("SuppressedRules", [])
            message = " ".join(text.split())[:200]
            reason = reasons.get(rule) if waived else None
            found.append(
                Finding(
                    "cfn-guard", "control-tower", rule, template, resource, message, waived, reason
                )
            )
    return version, found


def table(versions: dict[str, str], found: list[Finding], templates: Sequence[str]) -> str:
    rows = ["| scanner | version | template | findings | suppressed with a reason | left |",
            "|---|---|---|---:|---:|---:|"]  # fmt: skip
    for scanner, version in versions.items():
        for template in templates:
            mine = [f for f in found if f.scanner == scanner and f.template == template]
            waived = sum(1 for f in mine if f.suppressed and f.reason)
            left = sum(1 for f in mine if not (f.suppressed and f.reason))
            rows.append(f"| {scanner} | {version} | {template} | {len(mine)} | {waived} | {left} |")
    return "\n".join(rows)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.scan", description=__doc__)
    parser.add_argument("templates", nargs="*", default=list(TEMPLATES))
    parser.add_argument("--json", type=Path, help="write every finding here")
    args = parser.parse_args(argv)
    versions: dict[str, str] = {}
    found: list[Finding] = []
    try:
        for name, scanner in (("cdk-nag", cdk_nag), ("cfn-guard", guard)):
            print(f"{name} on {', '.join(args.templates)}", flush=True)
            versions[name], results = scanner(args.templates)
            found.extend(results)
    except (ScanError, OSError) as error:
        print(f"scan: {error}", file=sys.stderr)
        return 2
    print(table(versions, found, args.templates))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(
            json.dumps({"versions": versions, "findings": [asdict(f) for f in found]}, indent=1)
        )
    left = [f for f in found if not (f.suppressed and f.reason)]
    for finding in left:
        print(finding.line())
    if left:
        print(f"scan: {len(left)} finding(s) without a waiver: fix the template or add a waiver"
              " with its reason to template_gen/findings.py")  # fmt: skip
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
