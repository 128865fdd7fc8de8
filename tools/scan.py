"""`make lint`'s security scanners on every template the project renders.

- cdk-nag's AwsSolutions, Serverless, NIST 800-53 R5 and HIPAA Security packs
  (tools/cdk_nag.mjs, through CfnInclude), on the SAM-expanded template: cdk-nag knows no
  AWS::Serverless types;
- cfn-guard with AWS Control Tower's proactive controls, both from the pinned
  @cdklabs/cdk-validator-cfnguard package. Those rules do not read waivers, so a failure on a
  resource whose Metadata lists the rule in `guard: SuppressedRules`, by its Guard rule name or
  its control id (CT.LAMBDA.PR.3), counts as suppressed: the AWS Guard rules registry's
  convention (https://github.com/aws-cloudformation/aws-guard-rules-registry#suppressing-rules).

Every suppression is a waiver of template_gen/findings.py, with its reason: cdk-nag's form
carries it, cfn-guard's has none, so a guard suppression counts only where a waiver of
findings.py names the rule. Each finding left (a rule that could not evaluate a resource
included), or a cdk_nag waiver without a reason, is printed as
`template: resource: scanner rule: message`, and the run exits 1; 2 if a scanner could not run.

    python -m tools.scan [--json build/scan.json] [TEMPLATE ...]
"""

from __future__ import annotations

import argparse
import json
import platform
import re
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass
from functools import cache
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
TEMPLATES = ("build/template.expanded.json", "build/bootstrap.yaml")
GUARD_PACKAGE = ROOT / "node_modules" / "@cdklabs" / "cdk-validator-cfnguard"
CONTROL_TOWER = GUARD_PACKAGE / "rules" / "control-tower"
TIMEOUT_S = 180
MIN_REASON = 10  # as tools/cdk_nag.mjs


class ScanError(Exception):
    pass


@dataclass(frozen=True)
class Finding:
    scanner: str  # cdk-nag, cfn-guard
    pack: str  # AwsSolutions, Serverless, NIST.800.53.R5, HIPAA.Security, waivers; control-tower
    rule: str
    template: str
    resource: str  # the logical id
    message: str
    suppressed: bool
    reason: str | None
    level: str = ""  # cdk-nag: error, warning; cfn-guard: the control's severity
    error: bool = False  # the rule could not evaluate the resource

    @property
    def left(self) -> bool:
        return not (self.suppressed and self.reason)

    def line(self) -> str:
        note = " (suppressed, but no waiver gives a reason)" if self.suppressed else ""
        return f"{self.template}: {self.resource}: {self.scanner} {self.rule}: {self.message}{note}"


def run(command: list[str]) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(
            command, cwd=ROOT, capture_output=True, text=True, timeout=TIMEOUT_S, check=False
        )
    except subprocess.TimeoutExpired:
        raise ScanError(f"{' '.join(command)} did not finish in {TIMEOUT_S} s") from None
    except FileNotFoundError:
        raise ScanError(f"{command[0]} not found: run make install") from None


def cdk_nag(templates: Sequence[str]) -> tuple[str, list[Finding]]:
    done = run(["node", "tools/cdk_nag.mjs", *templates])
    if done.returncode != 0:
        raise ScanError(f"cdk-nag failed: {done.stderr.strip()[-2000:]}")
    report = json.loads(done.stdout)
    found: list[Finding] = []
    for template, result in report["templates"].items():
        for refused in result["refused"]:
            message = (
                f"a cdk_nag waiver needs an id and a reason of {MIN_REASON} characters or more"
                f" (reason: {refused['reason']!r})"
            )
            rule, where = str(refused["rule"]), refused["resource"]
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
                    f["level"],
                    f["error"],
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
            f" {GUARD_PACKAGE.relative_to(ROOT)}/bin (run make install)"
        )
    return binary


@dataclass(frozen=True)
class Control:
    id: str  # CT.LAMBDA.PR.3
    title: str
    severity: str = ""


TOP_RULE = re.compile(r"^rule\s+(\w+)\s+when\s+is_cfn_template", re.MULTILINE)


@cache
def controls() -> dict[str, Control]:
    """Each Control Tower Guard rule's control, by the rule's name in capitals (as cfn-guard's
    SARIF names it): every rules file holds one control, its metadata file beside it."""
    found: dict[str, Control] = {}
    for rules in sorted((CONTROL_TOWER / "cfn-guard").rglob("*.guard")):
        meta = CONTROL_TOWER / "metadata" / rules.parent.name / f"{rules.stem}.metadata.json"
        control = json.loads(meta.read_text())
        for name in TOP_RULE.findall(rules.read_text()):
            severity = str(control.get("Severity", "")).lower()
            found[name.upper()] = Control(control["Id"], control["DisplayName"], severity)
    return found


def read_template(path: str) -> dict[str, Any]:
    text = (ROOT / path).read_text()
    if path.endswith(".json"):
        return dict(json.loads(text))
    from cfn_flip import load_yaml

    return dict(load_yaml(text))


def _waiver_reasons() -> dict[str, str]:
    """The reason of each waiver of template_gen/findings.py, by each guard name it lists."""
    from template_gen import findings

    return {
        rule.upper(): waiver.reason
        for waiver in vars(findings).values()
        if isinstance(waiver, findings.Waiver)
        for rule in waiver.guard
    }


RESOURCE_PATH = re.compile(r"^/Resources/([^/]+)")
LOCATION = re.compile(r"\[L:\d+,C:\d+\]")


def _paths(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "path" and isinstance(value, str):
                yield value
            else:
                yield from _paths(value)
    elif isinstance(node, list):
        for value in node:
            yield from _paths(value)


def _failures(node: Any) -> Iterator[tuple[str, str]]:
    """(logical id, message) of each failed clause under a rule of cfn-guard's JSON report:
    the resource is the first `/Resources/<id>` path the clause traversed."""
    if isinstance(node, dict):
        if "Clause" in node or "Block" in node:
            body = node.get("Clause") or node["Block"]
            clause = body if "Block" in node else next(iter(body.values()))
            resource = next(
                (m.group(1) for path in _paths(clause) if (m := RESOURCE_PATH.match(path))), ""
            )
            messages = clause.get("messages") or {}
            message = messages.get("error_message") or messages.get("custom_message") or ""
            detail = LOCATION.sub("", message.split(" Value traversed to")[0]).strip(" .\n")
            yield resource, detail.removeprefix("Check was not compliant as ")
            if "Block" in node:
                yield from _failures(body.get("unresolved"))
            return
        for value in node.values():
            yield from _failures(value)
    elif isinstance(node, list):
        for value in node:
            yield from _failures(value)


def guard_findings(
    report: list[dict[str, Any]], template: str, resources: dict[str, Any]
) -> list[Finding]:
    """One finding per rule and resource from cfn-guard's `--output-format json` report."""
    reasons = _waiver_reasons()
    found: dict[tuple[str, str], Finding] = {}
    for data in report:
        for failed in data["not_compliant"]:
            rule = failed["Rule"]["name"].upper()
            control = controls().get(rule, Control(rule, rule))
            names = {rule, control.id.upper()}
            # A failure that names no resource is the template's own.
            for resource, detail in list(_failures(failed["Rule"])) or [("", "")]:
                if (rule, resource) in found:
                    continue  # cfn-guard reports each clause
                metadata = resources.get(resource, {}).get("Metadata", {})
                listed = metadata.get("guard", {}).get("SuppressedRules", [])
                waived = any(str(name).upper() in names for name in listed)
                reason = next((reasons[n] for n in sorted(names) if n in reasons), None)
                message = f"{control.id}: {control.title}" + (f": {detail}" if detail else "")
                found[rule, resource] = Finding(
                    "cfn-guard",
                    "control-tower",
                    rule,
                    template,
                    resource or "(template)",
                    message,
                    waived,
                    reason if waived else None,
                    control.severity,
                )
    return list(found.values())


def guard(template: str) -> list[Finding]:
    done = run([str(guard_binary()), "validate", "--rules", str(CONTROL_TOWER / "cfn-guard"),
                "--data", str(ROOT / template), "--output-format", "json", "--structured",
                "--show-summary", "none"])  # fmt: skip
    # 0: every rule passed or was skipped, 19: some rule failed; anything else is an error.
    if done.returncode not in (0, 19):
        raise ScanError(f"cfn-guard failed on {template}: {done.stderr.strip()[-2000:]}")
    report = json.loads(done.stdout)
    return guard_findings(report, template, read_template(template).get("Resources", {}))


def guard_version() -> str:
    return run([str(guard_binary()), "--version"]).stdout.split()[-1]


def table(versions: dict[str, str], found: list[Finding], templates: Sequence[str]) -> str:
    rows = ["| scanner | version | template | findings | rule errors | suppressed with a reason"
            " | left |", "|---|---|---|---:|---:|---:|---:|"]  # fmt: skip
    for scanner, version in versions.items():
        for template in templates:
            mine = [f for f in found if f.scanner == scanner and f.template == template]
            errors = sum(1 for f in mine if f.error)
            left = sum(1 for f in mine if f.left)
            rows.append(
                f"| {scanner} | {version} | {template} | {len(mine)} | {errors}"
                f" | {len(mine) - left} | {left} |"
            )
    return "\n".join(rows)


def scan(templates: Sequence[str]) -> tuple[dict[str, str], dict[str, float], list[Finding]]:
    """Every scanner on every template (cdk-nag in one node process for them all), with a
    line for each as it starts."""
    for template in templates:
        if not (ROOT / template).is_file():
            raise ScanError(f"{template}: no such template (make policies writes the defaults)")
    print(f"cdk-nag {' '.join(templates)}", flush=True)
    started = time.monotonic()
    nag_version, found = cdk_nag(templates)
    seconds = {"cdk-nag": round(time.monotonic() - started, 2)}
    for template in templates:
        print(f"cfn-guard {template}", flush=True)
        started = time.monotonic()
        found.extend(guard(template))
        seconds[f"cfn-guard {template}"] = round(time.monotonic() - started, 2)
    return {"cdk-nag": nag_version, "cfn-guard": guard_version()}, seconds, found


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tools.scan",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("templates", nargs="*", default=list(TEMPLATES))
    parser.add_argument("--json", type=Path, help="write every finding here")
    args = parser.parse_args(argv)
    try:
        versions, seconds, found = scan(args.templates)
    except (ScanError, OSError, ValueError) as error:
        print(f"scan: {error}", file=sys.stderr)
        return 2
    print(table(versions, found, args.templates))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        everything = {
            "versions": versions,
            "seconds": seconds,
            "templates": args.templates,
            "findings": [asdict(f) for f in found],
        }
        args.json.write_text(json.dumps(everything, indent=1) + "\n")
    left = [f for f in found if f.left]
    for finding in left:
        print(finding.line())
    if left:
        print(f"scan: {len(left)} finding(s) without a waiver: fix the template or add a waiver"
              " with its reason to template_gen/findings.py")  # fmt: skip
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
