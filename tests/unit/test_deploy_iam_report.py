"""The deploy IAM report counts what each principal's grants allowed, and fails on a refusal."""

from __future__ import annotations

import json
from pathlib import Path

from offline.iam import deploy_report as deploy_iam_report
from offline.iam.deploy_report import Grant, analyse

PROJECT = "backend-kit"
TABLE = "arn:${AWS::Partition}:dynamodb:*:${AWS::AccountId}:table/backend-kit-${Environment}-items"
CREATE = Grant("execution role", "dynamodb:CreateTable", TABLE, ("create of AWS::DynamoDB::Table",))
STACK = (
    "arn:${AWS::Partition}:cloudformation:*:${AWS::AccountId}:stack/backend-kit-${Environment}/*"
)
DESCRIBE = Grant("deployer", "cloudformation:DescribeStacks", STACK, ("make outputs",))
ROLE = "backend-kit-dev-cloudformation"
POLICY = "role ci / arn:aws:iam::123456789012:policy/backend-kit-dev-deployer"


def entry(**fields: object) -> dict[str, object]:
    return {"allowed": True, "expected_denials": False, **fields}


def test_a_decision_counts_for_the_grant_that_names_its_action_and_resource() -> None:
    report = analyse([CREATE, DESCRIBE], [
        entry(role=ROLE, action="dynamodb:CreateTable",
              resource="arn:aws:dynamodb:eu-west-1:123456789012:table/backend-kit-dev-items"),
        entry(role=ROLE, action="dynamodb:CreateTable",
              resource="arn:aws:dynamodb:eu-west-1:123456789012:table/other"),
        entry(role="ci", policy=POLICY, action="cloudformation:DescribeStacks",
              resource="arn:aws:cloudformation:eu-west-1:123456789012:stack/backend-kit-dev/1"),
        # A function's role is no principal of this report.
        entry(role="backend-kit-dev-items-eu-west-1", action="dynamodb:CreateTable",
              resource="arn:aws:dynamodb:eu-west-1:123456789012:table/backend-kit-dev-items"),
    ], PROJECT)  # fmt: skip
    assert report.used == {CREATE: 1, DESCRIBE: 1}
    assert report.decisions == {"execution role": 2, "deployer": 1}
    assert report.refused == []


def test_a_refusal_fails_the_report_unless_the_test_provoked_it(tmp_path: Path) -> None:
    audit = tmp_path / "audit"
    audit.mkdir()
    refused = entry(role=ROLE, caller=ROLE, action="iam:CreateRole", resource="*", allowed=False,
                    reason="because no identity-based policy allows it")  # fmt: skip
    provoked = {**refused, "expected_denials": True}
    (audit / "a.jsonl").write_text(json.dumps(provoked) + "\n")
    template = Path(__file__).resolve().parents[2] / "build" / "template.expanded.json"
    out = tmp_path / "report.md"
    arguments = [str(audit), "--template", str(template), "--out", str(out)]
    assert deploy_iam_report.main(arguments) == 0
    (audit / "b.jsonl").write_text(json.dumps(refused) + "\n")
    assert deploy_iam_report.main(arguments) == 1
    assert "`iam:CreateRole`" in out.read_text()
