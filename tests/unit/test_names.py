"""Physical names: inside every service limit in the worst case, never colliding, and
carrying project, environment (and, for global names, account and region)."""

from __future__ import annotations

import dataclasses
import re
from typing import Any

import pytest

from template_gen.naming import MAX_PROJECT_LENGTH, MAX_REGION_LENGTH
from template_gen.spec import SPEC
from template_gen.template import build_template

# Limits from each service's documentation, kept apart from the implementation's own table.
NAME_PROPERTIES = {
    ("AWS::S3::Bucket", "BucketName"): 63,
    ("AWS::Serverless::Function", "FunctionName"): 64,
    ("AWS::IAM::Role", "RoleName"): 64,
    ("AWS::Serverless::LayerVersion", "LayerName"): 140,
    ("AWS::DynamoDB::Table", "TableName"): 255,
    ("AWS::Logs::LogGroup", "LogGroupName"): 512,
    ("AWS::CloudWatch::Alarm", "AlarmName"): 255,
    ("AWS::CloudWatch::Dashboard", "DashboardName"): 255,
    ("AWS::SNS::Topic", "TopicName"): 256,
    ("AWS::Cognito::UserPool", "UserPoolName"): 128,
    ("AWS::Cognito::UserPoolClient", "ClientName"): 128,
    ("AWS::KMS::Alias", "AliasName"): 256,
}
# Names that AWS keeps account-wide across regions.
GLOBAL = {("AWS::S3::Bucket", "BucketName"), ("AWS::IAM::Role", "RoleName"),
          ("AWS::CloudWatch::Dashboard", "DashboardName")}  # fmt: skip


def physical_names(spec: Any) -> list[tuple[str, str, str]]:
    """(type, property, Sub pattern) for every named resource of the rendered template."""
    resources = build_template(spec).to_dict()["Resources"]
    found = []
    for (type_, prop), _ in NAME_PROPERTIES.items():
        for resource in resources.values():
            if resource["Type"] == type_:
                found.append((type_, prop, resource["Properties"][prop]["Fn::Sub"]))
    return found


def worst_case(pattern: str) -> str:
    return (
        pattern.replace("${Environment}", "staging")
        .replace("${AWS::AccountId}", "9" * 12)
        .replace("${AWS::Region}", "x" * MAX_REGION_LENGTH)
    )


def test_every_resource_kind_with_a_name_is_covered() -> None:
    names = physical_names(SPEC)
    assert {(t, p) for t, p, _ in names} == set(NAME_PROPERTIES)


def test_names_fit_for_the_longest_project_environment_and_region() -> None:
    longest = dataclasses.replace(SPEC, project="p" * (MAX_PROJECT_LENGTH - 1) + "9")
    assert max(len(e) for e in longest.environments) == len("staging")
    for type_, prop, pattern in physical_names(longest):
        name = worst_case(pattern)
        assert len(name) <= NAME_PROPERTIES[(type_, prop)], (type_, name)


def test_names_carry_project_and_environment_and_global_names_the_region() -> None:
    for type_, prop, pattern in physical_names(SPEC):
        assert "backend-kit" in pattern and "${Environment}" in pattern, pattern
        if (type_, prop) in GLOBAL:
            assert "${AWS::Region}" in pattern, pattern
        if type_ == "AWS::S3::Bucket":
            assert "${AWS::AccountId}" in pattern, pattern
            assert re.fullmatch(r"[a-z0-9.${}:A-Za-z-]+", pattern)


def test_names_never_collide() -> None:
    names = [(t, pattern) for t, _, pattern in physical_names(SPEC)]
    assert len(names) == len(set(names))


def test_a_function_and_a_table_of_the_same_name_get_distinct_alarms() -> None:
    alarms = [p for t, _, p in physical_names(SPEC) if t == "AWS::CloudWatch::Alarm"]
    assert "backend-kit-${Environment}-function-users-throttles" in alarms
    assert "backend-kit-${Environment}-table-users-throttles" in alarms


@pytest.mark.parametrize("environment", ["dev", "staging", "prod"])
def test_environments_are_the_contract(environment: str) -> None:
    assert environment in SPEC.environments
