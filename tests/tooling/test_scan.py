"""`python -m tools.scan` (make lint): cdk-nag's four packs and cfn-guard's Control Tower rules,
with the waivers of template_gen/findings.py, on templates written here. Each test starts
node (cdk-nag) once at most: the templates without waivers are scanned once for the module."""

from __future__ import annotations

import contextlib
import io
import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from template_gen.findings import waiver_metadata
from tools import scan

BARE_BUCKET: dict[str, Any] = {
    "AWSTemplateFormatVersion": "2010-09-09",
    "Resources": {"Bare": {"Type": "AWS::S3::Bucket", "Properties": {}}},
}
# Enough of a bucket that its Control Tower failures are the ones findings.py waives.
FAIR_BUCKET: dict[str, Any] = {
    "AWSTemplateFormatVersion": "2010-09-09",
    "Resources": {
        "Bare": {
            "Type": "AWS::S3::Bucket",
            "Properties": {
                "PublicAccessBlockConfiguration": {
                    "BlockPublicAcls": True, "BlockPublicPolicy": True,
                    "IgnorePublicAcls": True, "RestrictPublicBuckets": True,
                },
                "VersioningConfiguration": {"Status": "Enabled"},
                "LifecycleConfiguration": {
                    "Rules": [{"Status": "Enabled", "NoncurrentVersionExpiration": {
                        "NoncurrentDays": 30}}]
                },
            },
        }
    },
}  # fmt: skip
# MFA from a parameter: AwsSolutions-COG2 needs a value, and cannot evaluate a Ref.
PARAMETER_POOL: dict[str, Any] = {
    "AWSTemplateFormatVersion": "2010-09-09",
    "Parameters": {"Mfa": {"Type": "String", "AllowedValues": ["ON", "OPTIONAL"]}},
    "Resources": {
        "Pool": {
            "Type": "AWS::Cognito::UserPool",
            "Properties": {"MfaConfiguration": {"Ref": "Mfa"}},
        }
    },
}
UNWAIVED = {"bare": BARE_BUCKET, "fair": FAIR_BUCKET, "pool": PARAMETER_POOL}
REASON = "Written here to show that a waiver with a reason suppresses its finding."


@dataclass(frozen=True)
class Scanned:
    code: int
    findings: list[dict[str, Any]]
    printed: str

    def of(self, name: str) -> list[dict[str, Any]]:
        return [f for f in self.findings if Path(f["template"]).stem == name]


def scanned(directory: Path, templates: dict[str, dict[str, Any]]) -> Scanned:
    """One run of `python -m tools.scan` on these templates, written as NAME.json."""
    paths = []
    for name, template in templates.items():
        path = directory / f"{name}.json"
        path.write_text(json.dumps(template))
        paths.append(str(path))
    report = directory / "scan.json"
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        code = scan.main([*paths, "--json", str(report)])
    return Scanned(code, json.loads(report.read_text())["findings"], printed.getvalue())


@pytest.fixture(scope="module")
def unwaived(tmp_path_factory: pytest.TempPathFactory) -> Scanned:
    return scanned(tmp_path_factory.mktemp("unwaived"), UNWAIVED)


def rules_of(findings: list[dict[str, Any]]) -> set[tuple[str, str]]:
    return {(f["scanner"], f["rule"]) for f in findings}


def waived(rules: set[tuple[str, str]], reason: str, guard_ids: bool = False) -> dict[str, Any]:
    """Metadata waiving these (scanner, rule) pairs, in each tool's form; cfn-guard's rules by
    their Guard name, or by their Control Tower control id."""
    guard = sorted(rule for tool, rule in rules if tool == "cfn-guard")
    return {
        "cdk_nag": {
            "rules_to_suppress": [
                {"id": rule, "reason": reason} for tool, rule in sorted(rules) if tool == "cdk-nag"
            ]
        },
        "guard": {
            "SuppressedRules": [scan.controls()[r].id for r in guard] if guard_ids else guard
        },
    }


def with_metadata(template: dict[str, Any], metadata: dict[str, Any]) -> dict[str, Any]:
    bucket = {**template["Resources"]["Bare"], "Metadata": metadata}
    return {**template, "Resources": {"Bare": bucket}}


def test_a_bare_bucket_fails_both_scanners_naming_each_finding(unwaived: Scanned) -> None:
    assert unwaived.code == 1
    bare = unwaived.of("bare")
    assert {f["scanner"] for f in bare if not f["suppressed"]} == {"cdk-nag", "cfn-guard"}
    # The Serverless pack has no rule for a bucket.
    assert {f["pack"] for f in bare if f["scanner"] == "cdk-nag"} == {
        "AwsSolutions", "NIST.800.53.R5", "HIPAA.Security"
    }  # fmt: skip
    assert ("cdk-nag", "AwsSolutions-S1") in rules_of(bare)
    assert ("cfn-guard", "S3_BUCKET_VERSIONING_ENABLED_CHECK") in rules_of(bare)
    for finding in bare:
        assert f"bare.json: Bare: {finding['scanner']} {finding['rule']}: " in unwaived.printed
    # cfn-guard's lines give the control's id and title.
    assert (
        "S3_BUCKET_VERSIONING_ENABLED_CHECK: CT.S3.PR.11: Require an Amazon S3 bucket to have"
        in (unwaived.printed)
    )


def test_a_rule_that_cannot_evaluate_is_a_finding(unwaived: Scanned) -> None:
    """cdk-nag reports a rule that throws on an intrinsic under the rule's id: it is left,
    and printed with the rule's own error."""
    (error,) = [f for f in unwaived.of("pool") if f["error"]]
    assert error["rule"] == "AwsSolutions-COG2"
    assert not error["suppressed"]
    assert '{"Ref":"Mfa"}' in error["message"]
    assert f"Pool: cdk-nag AwsSolutions-COG2: {error['message']}" in unwaived.printed


def test_waivers_with_reasons_suppress_what_they_name(tmp_path: Path, unwaived: Scanned) -> None:
    rules = rules_of(unwaived.of("fair"))
    assert {scanner for scanner, _ in rules} == {"cdk-nag", "cfn-guard"}
    after = scanned(tmp_path, {"fair": with_metadata(FAIR_BUCKET, waived(rules, REASON))})
    assert after.code == 0, after.printed
    assert rules_of(after.findings) == rules
    assert all(f["suppressed"] and f["reason"] for f in after.findings)
    nag = [f for f in after.findings if f["scanner"] == "cdk-nag"]
    assert {f["reason"] for f in nag} == {REASON}


def test_a_rule_left_out_is_a_finding_left(tmp_path: Path, unwaived: Scanned) -> None:
    """The waiver names every rule but one, and cfn-guard's by their control ids."""
    rules = rules_of(unwaived.of("fair"))
    kept = sorted(r for r in rules if r[0] == "cdk-nag")[0]
    metadata = waived(rules - {kept}, REASON, guard_ids=True)
    assert all(r.startswith("CT.") for r in metadata["guard"]["SuppressedRules"])
    after = scanned(tmp_path, {"fair": with_metadata(FAIR_BUCKET, metadata)})
    assert after.code == 1
    assert [(f["scanner"], f["rule"]) for f in after.findings if not f["suppressed"]] == [kept]
    assert after.printed.endswith(
        "scan: 1 finding(s) without a waiver: fix the template or add a waiver with its reason"
        " to template_gen/findings.py\n"
    )


def test_a_cdk_nag_waiver_without_a_reason_is_refused(tmp_path: Path, unwaived: Scanned) -> None:
    """cdk-nag 3 acknowledges a rule whatever the reason, even an empty one (cdk-nag 2 refused
    one under 10 characters); the scan keeps cdk-nag 2's rule, and reports the waiver."""
    rules = {r for r in rules_of(unwaived.of("bare")) if r[0] == "cdk-nag"}
    metadata = waived(rules, "")
    first = metadata["cdk_nag"]["rules_to_suppress"][0]
    del first["reason"]
    after = scanned(tmp_path, {"bare": with_metadata(BARE_BUCKET, metadata)})
    assert after.code == 1
    refused = [f for f in after.findings if f["pack"] == "waivers"]
    assert {f["rule"] for f in refused} == {rule for _, rule in rules}
    assert all(f["resource"] == "Bare" and not f["suppressed"] for f in refused)
    assert all(not f["suppressed"] for f in after.findings if f["scanner"] == "cdk-nag")
    assert f"Bare: cdk-nag {first['id']}: a cdk_nag waiver needs an id and a reason" in (
        after.printed
    )


def test_a_guard_waiver_needs_a_reason_in_findings_py(tmp_path: Path, unwaived: Scanned) -> None:
    """cfn-guard's form has no reason field: a rule no waiver of findings.py names stays a
    finding, even when the resource lists it."""
    rules = {r for r in rules_of(unwaived.of("bare")) if r[0] == "cfn-guard"}
    after = scanned(tmp_path, {"bare": with_metadata(BARE_BUCKET, waived(rules, REASON))})
    assert after.code == 1
    guard = [f for f in after.findings if f["scanner"] == "cfn-guard"]
    assert {(f["scanner"], f["rule"]) for f in guard} == rules
    assert all(f["suppressed"] for f in guard)
    unexplained = {f["rule"] for f in guard if not f["reason"]}
    assert "S3_BUCKET_VERSIONING_ENABLED_CHECK" in unexplained
    assert "S3_BUCKET_OBJECT_LOCK_ENABLED_CHECK" not in unexplained  # NO_OBJECT_LOCK
    assert "(suppressed, but no waiver gives a reason)" in after.printed


def test_the_stack_is_clean_only_because_of_its_waivers(
    tmp_path: Path, expanded: dict[str, Any]
) -> None:
    """The guard shown failing when what it guards is taken away: the rendered stack passes,
    and the same stack without its cdk_nag and guard waivers does not."""
    bare = json.loads(json.dumps(expanded))
    for resource in bare["Resources"].values():
        for form in ("cdk_nag", "guard"):
            resource.get("Metadata", {}).pop(form, None)
    run = scanned(tmp_path, {"stack": expanded, "stripped": bare})
    stack, stripped = run.of("stack"), run.of("stripped")
    assert not [f for f in stack if not (f["suppressed"] and f["reason"])]
    waivers = sum(1 for f in stack if f["suppressed"])
    assert waivers > 0
    assert run.code == 1
    assert sum(1 for f in stripped if not f["suppressed"]) == waivers


def test_no_cfn_guard_binary_is_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(scan.platform, "system", lambda: "Plan9")
    with pytest.raises(scan.ScanError, match=r"^no cfn-guard binary for Plan9 \S+ in [^\n]+$"):
        scan.guard_binary()


def test_a_scanner_past_its_time_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(scan, "TIMEOUT_S", 0.2)
    with pytest.raises(scan.ScanError, match=r"^sleep 5 did not finish in 0.2 s$"):
        scan.run(["sleep", "5"])


def test_every_control_tower_rule_has_its_control() -> None:
    controls = scan.controls()
    assert len(controls) > 200
    assert controls["LAMBDA_INSIDE_VPC_CHECK"].id == "CT.LAMBDA.PR.3"
    # The rules' files give each control once.
    assert len({c.id for c in controls.values()}) == len(controls)


def test_findings_py_writes_each_reader_its_form() -> None:
    from template_gen import findings

    metadata = waiver_metadata(
        findings.SYNCHRONOUS_API_FUNCTION, findings.SCOPED_WILDCARDS, wildcards=("Resource::*",)
    )
    reason = findings.SYNCHRONOUS_API_FUNCTION.reason
    assert {"id": "CKV_AWS_116", "comment": reason} in metadata["checkov"]["skip"]
    assert "ES1007" in metadata["cfn-lint"]["config"]["ignore_checks"]
    assert {"id": "Serverless-LambdaDLQ", "reason": reason} in (
        metadata["cdk_nag"]["rules_to_suppress"]
    )
    assert "LAMBDA_DLQ_CHECK" in metadata["guard"]["SuppressedRules"]
    (granular,) = [
        r for r in metadata["cdk_nag"]["rules_to_suppress"] if r["id"] == "AwsSolutions-IAM5"
    ]
    assert granular["applies_to"] == ["Resource::*"]


def test_the_command_line_fails_on_a_missing_template(tmp_path: Path) -> None:
    missing = tmp_path / "absent.json"
    done = subprocess.run(
        [sys.executable, "-m", "tools.scan", str(missing)],
        cwd=scan.ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 2
    assert done.stderr == f"scan: {missing}: no such template (make policies writes the defaults)\n"
