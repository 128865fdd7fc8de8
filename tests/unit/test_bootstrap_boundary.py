"""The permissions boundary: every role of the main template carries it, and it allows all
that the roles' own policies allow, which ops/boundary.py checks before a deploy."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from ops.boundary import boundary_violations, partition
from template_gen.bootstrap import boundary_document
from template_gen.spec import SPEC
from tests.conftest import of_type

ACCOUNT = "123456789012"
POLICIES = "arn:${AWS::Partition}:iam::${AWS::AccountId}:policy"
BOUNDARY = {"Fn::Sub": f"{POLICIES}/{SPEC.project}-${{Environment}}-boundary"}


@pytest.fixture(scope="module")
def boundary(expanded: dict[str, Any]) -> dict[str, Any]:
    return boundary_document(expanded, SPEC.project)


def test_every_role_of_the_main_template_carries_the_boundary(resources: dict[str, Any]) -> None:
    roles = of_type(resources, "AWS::IAM::Role")
    assert roles
    for logical, role in roles.items():
        assert role["Properties"].get("PermissionsBoundary") == BOUNDARY, logical


@pytest.mark.parametrize("environment", SPEC.environments)
@pytest.mark.parametrize("region", ["eu-west-1", "us-gov-west-1"])
def test_every_role_stays_inside_the_boundary(
    expanded: dict[str, Any], boundary: dict[str, Any], environment: str, region: str
) -> None:
    assert boundary_violations(expanded, boundary, environment, ACCOUNT, region) == []


def test_a_role_without_the_boundary_is_reported(
    expanded: dict[str, Any], boundary: dict[str, Any]
) -> None:
    template = copy.deepcopy(expanded)
    role = next(iter(of_type(template["Resources"], "AWS::IAM::Role")))
    del template["Resources"][role]["Properties"]["PermissionsBoundary"]
    found = boundary_violations(template, boundary, "dev", ACCOUNT, "eu-west-1")
    assert found == [
        f"{role}: permissions boundary is None, not"
        f" arn:aws:iam::{ACCOUNT}:policy/{SPEC.project}-dev-boundary"
    ]


def test_a_statement_beyond_the_boundary_is_reported(
    expanded: dict[str, Any], boundary: dict[str, Any]
) -> None:
    template = copy.deepcopy(expanded)
    role = next(iter(of_type(template["Resources"], "AWS::IAM::Role")))
    policy = template["Resources"][role]["Properties"]["Policies"][0]["PolicyDocument"]
    policy["Statement"].append({"Effect": "Allow", "Action": ["s3:DeleteBucket"], "Resource": "*"})
    found = boundary_violations(template, boundary, "dev", ACCOUNT, "eu-west-1")
    assert found == [f"{role}: s3:DeleteBucket on * is beyond the boundary"]


def test_a_narrower_boundary_is_reported(
    expanded: dict[str, Any], boundary: dict[str, Any]
) -> None:
    narrower = copy.deepcopy(boundary)
    dropped = narrower["Statement"].pop()
    found = boundary_violations(expanded, narrower, "dev", ACCOUNT, "eu-west-1")
    assert found
    assert all(any(a in line for a in dropped["Action"]) for line in found)


def test_the_boundary_is_any_region_and_unconditioned(boundary: dict[str, Any]) -> None:
    for statement in boundary["Statement"]:
        assert "Condition" not in statement
        for resource in statement["Resource"]:
            assert "${AWS::Region}" not in resource
            arn = resource.replace("${AWS::Partition}", "aws").replace("${AWS::AccountId}", "1")
            assert resource == "*" or arn.split(":")[3] in ("*", ""), resource


def test_partitions() -> None:
    assert [partition(r) for r in ("eu-west-1", "cn-north-1", "us-gov-east-1")] == [
        "aws",
        "aws-cn",
        "aws-us-gov",
    ]
