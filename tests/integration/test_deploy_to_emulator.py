"""The expanded template deploys through the emulator's CloudFormation API, in two regions
of one account, and the functions' resolved environment names resources that exist."""

from __future__ import annotations

import base64
import hashlib
import json
import time
from pathlib import Path
from typing import Any

import boto3
import pytest

from artifacts.builder import Built, build_version
from offline.emulation import without_aliases
from template_gen.expand import expand
from template_gen.spec import SPEC
from template_gen.template import build_template

REGIONS = ("us-east-1", "eu-west-1")
STACK = "backend-kit-dev"
ARTIFACTS = "deploy-artifacts"
# Types the emulator's CloudFormation does not create. A moto upgrade that starts creating
# one of them shows up here as a failure, so the list stays true.
SKIPPED_BY_EMULATOR = {
    "AWS::ApiGatewayV2::Api",
    "AWS::ApiGatewayV2::Stage",
    "AWS::CloudWatch::Alarm",
    "AWS::CodeDeploy::Application",
    "AWS::CodeDeploy::DeploymentGroup",
    "AWS::Cognito::UserPool",
    "AWS::Cognito::UserPoolClient",
    "AWS::Logs::MetricFilter",
    "AWS::S3::BucketPolicy",
    "AWS::SNS::Subscription",
    "AWS::SNS::TopicPolicy",
}

pytestmark = pytest.mark.integration


def client(service: str, endpoint: str, region: str) -> Any:
    return boto3.client(
        service,
        region_name=region,
        endpoint_url=endpoint,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


def deploy(endpoint: str, region: str, out: Path, built: list[Built]) -> dict[str, Any]:
    s3 = client("s3", endpoint, region)
    bucket = f"{ARTIFACTS}-{region}"
    if region == "us-east-1":
        s3.create_bucket(Bucket=bucket)
    else:
        s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": region})
    locations = {}
    for artifact in built:
        s3.upload_file(str(out / artifact.path), bucket, artifact.path)
        locations[artifact.path] = f"s3://{bucket}/{artifact.path}"
    template = build_template(SPEC, {a.name: a.path for a in built}, build_version(built))
    template = template.to_dict()
    expanded = without_aliases(expand(template, locations))
    cloudformation = client("cloudformation", endpoint, region)
    cloudformation.create_stack(
        StackName=STACK,
        TemplateBody=json.dumps(expanded),
        Parameters=[{"ParameterKey": "Environment", "ParameterValue": "dev"}],
        Capabilities=["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM", "CAPABILITY_AUTO_EXPAND"],
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        stack = cloudformation.describe_stacks(StackName=STACK)["Stacks"][0]
        if not stack["StackStatus"].endswith("_IN_PROGRESS"):
            break
        time.sleep(0.2)
    return {"stack": stack, "template": expanded}


@pytest.fixture(scope="module")
def stacks(emulator: str, built: tuple[Path, list[Built]]) -> dict[str, dict[str, Any]]:
    return {region: deploy(emulator, region, *built) for region in REGIONS}


@pytest.mark.parametrize("region", REGIONS)
def test_stack_reaches_create_complete(stacks: dict[str, Any], region: str) -> None:
    stack = stacks[region]["stack"]
    assert stack["StackStatus"] == "CREATE_COMPLETE", stack.get("StackStatusReason")


@pytest.mark.parametrize("region", REGIONS)
def test_environment_names_resources_that_exist(
    stacks: dict[str, Any], emulator: str, built: tuple[Path, list[Built]], region: str
) -> None:
    lambda_ = client("lambda", emulator, region)
    dynamodb = client("dynamodb", emulator, region)
    s3 = client("s3", emulator, region)
    ssm = client("ssm", emulator, region)
    checked = set()
    for function in SPEC.functions:
        name = f"backend-kit-dev-{function.name}"
        variables = lambda_.get_function_configuration(FunctionName=name)["Environment"][
            "Variables"
        ]
        for key, value in variables.items():
            if key.endswith("_TABLE"):
                assert dynamodb.describe_table(TableName=value)["Table"]["TableStatus"]
            elif key.endswith("_BUCKET"):
                assert value.endswith(f"-123456789012-{region}")
                s3.head_bucket(Bucket=value)
            elif key.endswith("_PARAMETER"):
                # SecureStrings are created out of band (`make params`); the name the function
                # gets must be the one that is created.
                assert value == "/backend-kit/dev/cursor-signing-key"
                ssm.put_parameter(Name=value, Type="SecureString", Value="k", Overwrite=True)
                assert ssm.get_parameter(Name=value, WithDecryption=True)["Parameter"]["Value"]
            elif key == "BUILD_VERSION":
                assert value == build_version(built[1])
            else:
                assert key.startswith("POWERTOOLS_"), key
                continue
            checked.add(key)
    assert checked == {
        "USERS_TABLE",
        "ITEMS_TABLE",
        "IDEMPOTENCY_TABLE",
        "ASSETS_BUCKET",
        "CURSOR_SIGNING_KEY_PARAMETER",
        "BUILD_VERSION",
    }


@pytest.mark.parametrize("region", REGIONS)
def test_functions_run_the_hashed_zips(
    stacks: dict[str, Any], emulator: str, built: tuple[Path, list[Built]], region: str
) -> None:
    out, artifacts = built
    lambda_ = client("lambda", emulator, region)
    for artifact in (a for a in artifacts if a.kind == "function"):
        expected = base64.b64encode(hashlib.sha256((out / artifact.path).read_bytes()).digest())
        config = lambda_.get_function_configuration(FunctionName=f"backend-kit-dev-{artifact.name}")
        assert config["CodeSha256"] == expected.decode()


def test_global_names_do_not_collide_across_regions(stacks: dict[str, Any], emulator: str) -> None:
    iam = client("iam", emulator, REGIONS[0])
    roles = {r["RoleName"] for r in iam.list_roles()["Roles"]}
    for region in REGIONS:
        for function in SPEC.functions:
            assert f"backend-kit-dev-{function.name}-{region}" in roles


@pytest.mark.parametrize("region", REGIONS)
def test_resource_types_the_emulator_skips(
    stacks: dict[str, Any], emulator: str, region: str
) -> None:
    cloudformation = client("cloudformation", emulator, region)
    created = {
        r["LogicalResourceId"]
        for r in cloudformation.list_stack_resources(StackName=STACK)["StackResourceSummaries"]
    }
    declared = stacks[region]["template"]["Resources"]
    skipped = {r["Type"] for name, r in declared.items() if name not in created}
    assert skipped == SKIPPED_BY_EMULATOR
