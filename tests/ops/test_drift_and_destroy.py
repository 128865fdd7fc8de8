"""The drift report, and a destroy that needs the stack's name typed and keeps retained data."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ops import destroy, drift
from tests.ops.conftest import client

RECORDED = Path(__file__).with_name("drift_response.json")


def test_the_drift_report_reads_as_a_table() -> None:
    report = drift.report("backend-kit-prod", json.loads(RECORDED.read_text())).splitlines()
    assert report[0] == "backend-kit-prod: DRIFTED (2 drifted)"
    header, *rows = report[1:]
    assert header.split() == ["resource", "type", "status", "property", "expected", "actual"]
    assert rows[0].split() == [
        "AlarmTopicPolicy",
        "AWS::SNS::TopicPolicy",
        "DELETED",
        "-",
        "-",
        "-",
    ]
    assert rows[1].split() == [
        "ItemsTable",
        "AWS::DynamoDB::Table",
        "MODIFIED",
        "/PointInTimeRecoverySpecification/PointInTimeRecoveryEnabled",
        "true",
        "false",
    ]


def test_no_drift_says_so() -> None:
    result = {
        "status": {
            "DetectionStatus": "DETECTION_COMPLETE",
            "StackDriftStatus": "IN_SYNC",
            "DriftedStackResourceCount": 0,
        },
        "drifts": [],
    }
    assert drift.report("s", result).splitlines() == [
        "s: IN_SYNC (0 drifted)",
        "every resource matches the template",
    ]


class RecordingCloudFormation:
    """Drift detection is not in the emulator: replay the recorded API answers instead."""

    def __init__(self) -> None:
        self.recorded = json.loads(RECORDED.read_text())
        self.polls = 0

    def detect_stack_drift(self, StackName: str) -> dict[str, Any]:
        return {"StackDriftDetectionId": self.recorded["status"]["StackDriftDetectionId"]}

    def describe_stack_drift_detection_status(self, StackDriftDetectionId: str) -> dict:
        self.polls += 1
        status = dict(self.recorded["status"])
        if self.polls == 1:
            status["DetectionStatus"] = "DETECTION_IN_PROGRESS"
        return status

    def describe_stack_resource_drifts(
        self, StackName: str, StackResourceDriftStatusFilters: list
    ) -> dict:
        assert set(StackResourceDriftStatusFilters) == {"MODIFIED", "DELETED"}
        return {"StackResourceDrifts": self.recorded["drifts"]}


def test_detection_waits_for_completion() -> None:
    cloudformation = RecordingCloudFormation()
    result = drift.detect(cloudformation, "backend-kit-prod", poll_s=0)
    assert cloudformation.polls == 2
    assert len(result["drifts"]) == 2


def test_destroy_needs_the_typed_name_and_lists_what_stays(emulator: dict[str, str]) -> None:
    cloudformation = client(emulator, "cloudformation", "eu-west-1")
    template = {
        "Resources": {
            "Data": {
                "Type": "AWS::S3::Bucket",
                "DeletionPolicy": "Retain",
                "Properties": {"BucketName": "backend-kit-destroy-data"},
            },
            "Alarms": {"Type": "AWS::SNS::Topic"},
        }
    }
    cloudformation.create_stack(StackName="backend-kit-destroy", TemplateBody=json.dumps(template))
    said: list[str] = []
    kept = destroy.destroy(
        cloudformation,
        "backend-kit-destroy",
        "eu-west-1",
        "staging",
        ask=lambda _prompt: "backend-kit",
        say=said.append,
    )
    assert kept is False and said[-1] == "Not deleted: the name did not match."
    assert cloudformation.describe_stacks(StackName="backend-kit-destroy")["Stacks"]
    said.clear()
    done = destroy.destroy(
        cloudformation,
        "backend-kit-destroy",
        "eu-west-1",
        "staging",
        ask=lambda _prompt: "backend-kit-destroy",
        say=said.append,
    )
    assert done is True
    assert any("AWS::S3::Bucket" in line and "backend-kit-destroy-data" in line for line in said)
    assert "retained" in said[0] and said[-2].startswith("Deleted backend-kit-destroy")
    assert said[-1].endswith(
        "imports them into the new stack: make deploy REGION=eu-west-1 ENV=staging"
    )
    stacks = cloudformation.list_stacks(StackStatusFilter=["DELETE_COMPLETE"])["StackSummaries"]
    assert "backend-kit-destroy" in {s["StackName"] for s in stacks}
