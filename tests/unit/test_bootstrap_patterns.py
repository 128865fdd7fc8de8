"""The intrinsic resolver behind the bootstrap's policies (template_gen/patterns.py)."""

from __future__ import annotations

from typing import Any

from template_gen.patterns import ARTIFACTS_BUCKET, Resolver

P = "arn:${AWS::Partition}"
A = "${AWS::AccountId}"
STACK = "kit-${Environment}"

TEMPLATE: dict[str, Any] = {
    "Parameters": {"Environment": {"Type": "String", "Default": "dev"}, "Other": {}},
    "Conditions": {"IsProd": {"Fn::Equals": [{"Ref": "Environment"}, "prod"]}},
    "Resources": {
        "Table": {
            "Type": "AWS::DynamoDB::Table",
            "Properties": {"TableName": {"Fn::Sub": "kit-${Environment}-items"}},
        },
        "Unnamed": {"Type": "AWS::DynamoDB::Table", "Properties": {}},
        "Topic": {"Type": "AWS::SNS::Topic", "Properties": {"TopicName": "t"}},
        "Key": {"Type": "AWS::KMS::Key", "Properties": {}},
        "Group": {
            "Type": "AWS::Logs::LogGroup",
            "Properties": {
                "LogGroupName": {"Fn::Join": ["/", ["", "kit", {"Ref": "Environment"}]]}
            },
        },
        "Function": {
            "Type": "AWS::Lambda::Function",
            "Properties": {
                "FunctionName": {"Fn::Sub": "kit-${Environment}-f"},
                "Code": {"S3Bucket": "placeholder", "S3Key": "f.zip"},
                "Role": {"Fn::Sub": "${Role.Arn}"},
                "Description": {"Fn::If": ["IsProd", "prod", {"Ref": "AWS::NoValue"}]},
            },
        },
        "Role": {
            "Type": "AWS::IAM::Role",
            "Properties": {"RoleName": {"Fn::Sub": "kit-${Environment}-r-${AWS::Region}"}},
        },
        "Layer": {"Type": "AWS::Lambda::LayerVersion", "Properties": {"LayerName": "kit-dev-deps"}},
    },
}


def resolver(region: str = "*") -> Resolver:
    return Resolver(TEMPLATE, "kit", region)


def test_parameters_and_pseudo_parameters() -> None:
    r = resolver()
    assert r.values({"Ref": "Environment"}) == ["${Environment}"]
    assert r.values({"Ref": "AWS::Region"}) == ["*"]
    assert resolver("eu-west-1").values({"Ref": "AWS::Region"}) == ["eu-west-1"]
    assert r.values({"Ref": "AWS::AccountId"}) == [A]
    assert r.values({"Ref": "AWS::StackName"}) == [STACK]
    assert r.values({"Ref": "Other"}) == ["*"]
    assert r.values({"Fn::Select": [0, ["a"]]}) == ["*"]


def test_refs_are_names_arns_or_ids_by_type() -> None:
    r = resolver()
    assert r.values({"Ref": "Table"}) == ["kit-${Environment}-items"]
    assert r.values({"Ref": "Unnamed"}) == [f"{STACK}-*"]  # <stack>-<logicalId>-<random>
    assert r.values({"Ref": "Topic"}) == [f"{P}:sns:*:{A}:t"]
    assert r.values({"Ref": "Key"}) == ["*"]


def test_get_att_arn_and_sub_and_join() -> None:
    r = resolver()
    assert r.values({"Fn::GetAtt": ["Table", "Arn"]}) == [
        f"{P}:dynamodb:*:{A}:table/kit-${{Environment}}-items"
    ]
    assert r.values({"Fn::GetAtt": ["Group", "Arn"]}) == [
        f"{P}:logs:*:{A}:log-group:/kit/${{Environment}}:*"
    ]
    assert r.values({"Fn::GetAtt": ["Key", "Arn"]}) == [f"{P}:kms:*:{A}:key/*"]
    assert r.values({"Fn::Sub": ["${X}-${Table.Arn}", {"X": "x"}]}) == [
        f"x-{P}:dynamodb:*:{A}:table/kit-${{Environment}}-items"
    ]


def test_if_takes_both_branches_and_no_value_drops_the_key() -> None:
    variants = resolver().variants("Function")
    assert sorted(v.get("Description") or "-" for v in variants) == ["-", "prod"]
    assert all(v.get("Role") == f"{P}:iam::{A}:role/kit-${{Environment}}-r-*" for v in variants)


def test_code_comes_from_sams_bucket_and_layer_names_get_the_environment_back() -> None:
    function = resolver().variants("Function")[0]
    assert function.get("Code") == {"S3Bucket": ARTIFACTS_BUCKET, "S3Key": f"{STACK}/*"}
    assert resolver().variants("Layer")[0].get("LayerName") == "kit-${Environment}-deps"
