"""Every suppressed finding carries its reason where scanners read it."""

from __future__ import annotations

from typing import Any

from template_gen import findings


def all_waivers() -> list[findings.Waiver]:
    return [v for v in vars(findings).values() if isinstance(v, findings.Waiver)]


def test_each_waiver_has_a_reason_and_an_id() -> None:
    for waiver in all_waivers():
        assert len(waiver.reason) > 40
        assert waiver.cfn_lint or waiver.checkov or waiver.cdk_nag or waiver.guard


def test_metadata_lists_cfn_lint_ignores_and_checkov_skips_with_comments(
    resources: dict[str, Any],
) -> None:
    metadata = resources["UsersFunction"]["Metadata"]
    assert "ES1007" in metadata["cfn-lint"]["config"]["ignore_checks"]
    skips = {s["id"]: s["comment"] for s in metadata["checkov"]["skip"]}
    assert skips["CKV_AWS_116"] == findings.SYNCHRONOUS_API_FUNCTION.reason


def test_waivers_survive_the_sam_expansion(expanded: dict[str, Any]) -> None:
    function = expanded["Resources"]["UsersFunction"]
    assert function["Type"] == "AWS::Lambda::Function"
    assert "ES1007" in function["Metadata"]["cfn-lint"]["config"]["ignore_checks"]


def test_every_cfn_lint_ignore_is_explained_by_a_waiver(resources: dict[str, Any]) -> None:
    explained = {check for w in all_waivers() for check in w.cfn_lint}
    for name, resource in resources.items():
        ignored = resource.get("Metadata", {}).get("cfn-lint", {}).get("config", {})
        assert set(ignored.get("ignore_checks", [])) <= explained, name
