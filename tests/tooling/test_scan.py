"""`python -m tools.scan` (make lint): cdk-nag's four packs and cfn-guard's Control Tower rules,
with the waivers of template_gen/findings.py, on templates written here."""

from __future__ import annotations

import json
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


def write(tmp_path: Path, template: dict[str, Any], name: str = "template.json") -> str:
    path = tmp_path / name
    path.write_text(json.dumps(template))
    return str(path)


def scanned(tmp_path: Path, template: dict[str, Any]) -> tuple[int, list[dict[str, Any]]]:
    report = tmp_path / "scan.json"
    code = scan.main([write(tmp_path, template), "--json", str(report)])
    return code, json.loads(report.read_text())["findings"]


def waived(rules: set[tuple[str, str]], reason: str) -> dict[str, Any]:
    """Metadata waiving these (scanner, rule) pairs, in each tool's form."""
    return {
        "cdk_nag": {
            "rules_to_suppress": [
                {"id": rule, "reason": reason} for tool, rule in sorted(rules) if tool == "cdk-nag"
            ]
        },
        "guard": {"SuppressedRules": sorted(r for tool, r in rules if tool == "cfn-guard")},
    }


def test_a_bare_bucket_fails_both_scanners_naming_each_finding(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, findings = scanned(tmp_path, BARE_BUCKET)
    assert code == 1
    scanners = {f["scanner"] for f in findings if not f["suppressed"]}
    assert scanners == {"cdk-nag", "cfn-guard"}
    packs = {f["pack"] for f in findings if f["scanner"] == "cdk-nag"}
    assert packs == {"AwsSolutions", "NIST.800.53.R5", "HIPAA.Security"}
    printed = capsys.readouterr().out
    for finding in findings:
        assert f": Bare: {finding['scanner']} {finding['rule']}:" in printed


def test_waivers_with_reasons_suppress_exactly_what_they_name(tmp_path: Path) -> None:
    _, findings = scanned(tmp_path, FAIR_BUCKET)
    rules = {(f["scanner"], f["rule"]) for f in findings}
    assert {scanner for scanner, _ in rules} == {"cdk-nag", "cfn-guard"}
    reason = "Written here to show that a waiver with a reason suppresses its finding."
    bucket = {**FAIR_BUCKET["Resources"]["Bare"], "Metadata": waived(rules, reason)}
    code, after = scanned(tmp_path, {**FAIR_BUCKET, "Resources": {"Bare": bucket}})
    assert code == 0
    assert {(f["scanner"], f["rule"]) for f in after} == rules
    assert all(f["suppressed"] and f["reason"] for f in after)
    # One rule left out is one finding left.
    kept = sorted(r for r in rules if r[0] == "cdk-nag")[0]
    bucket["Metadata"] = waived(rules - {kept}, reason)
    code, after = scanned(tmp_path, {**FAIR_BUCKET, "Resources": {"Bare": bucket}})
    assert code == 1
    assert [(f["scanner"], f["rule"]) for f in after if not f["suppressed"]] == [kept]


def test_a_guard_waiver_needs_a_reason_in_findings_py(tmp_path: Path) -> None:
    """cfn-guard's form has no reason field: a rule no waiver of findings.py names stays a
    finding, even when the resource lists it."""
    _, findings = scanned(tmp_path, BARE_BUCKET)
    rules = {(f["scanner"], f["rule"]) for f in findings}
    bucket = {**BARE_BUCKET["Resources"]["Bare"], "Metadata": waived(rules, "x" * 40)}
    code, after = scanned(tmp_path, {**BARE_BUCKET, "Resources": {"Bare": bucket}})
    assert code == 1
    unexplained = [f for f in after if f["scanner"] == "cfn-guard" and not f["reason"]]
    assert {f["rule"] for f in unexplained} >= {"S3_BUCKET_VERSIONING_ENABLED_CHECK"}


def test_a_cdk_nag_waiver_without_a_reason_is_refused(tmp_path: Path) -> None:
    _, findings = scanned(tmp_path, BARE_BUCKET)
    rules = {(f["scanner"], f["rule"]) for f in findings}
    bucket = {**BARE_BUCKET["Resources"]["Bare"], "Metadata": waived(rules, "")}
    code, after = scanned(tmp_path, {**BARE_BUCKET, "Resources": {"Bare": bucket}})
    assert code == 1
    refused = [f for f in after if f["pack"] == "waivers"]
    assert refused and all(not f["suppressed"] for f in refused)
    assert all(not f["suppressed"] for f in after if f["scanner"] == "cdk-nag")


def test_the_stack_is_clean_only_because_of_its_waivers(
    tmp_path: Path, expanded: dict[str, Any]
) -> None:
    """The guard shown failing when what it guards is taken away: the rendered stack passes,
    and the same stack without its cdk_nag and guard waivers does not."""
    code, findings = scanned(tmp_path, expanded)
    assert code == 0, [f for f in findings if not f["suppressed"]]
    waivers = sum(1 for f in findings if f["suppressed"])
    assert waivers > 0
    bare = json.loads(json.dumps(expanded))
    for resource in bare["Resources"].values():
        for form in ("cdk_nag", "guard"):
            resource.get("Metadata", {}).pop(form, None)
    code, stripped = scanned(tmp_path, bare)
    assert code == 1
    assert sum(1 for f in stripped if not f["suppressed"]) == waivers


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
