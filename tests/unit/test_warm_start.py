"""When a restarted `make local` may serve the stack its emulator kept, and when it must deploy
(offline/stack/warm_start.py), against moto in-process."""

from __future__ import annotations

import dataclasses
import hashlib
import io
import json
import uuid
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any, cast

import boto3
import pytest
from moto import mock_aws

from offline.common.endpoint import Endpoint
from offline.stack import warm_start
from offline.stack.warm_start import Deployed

REGION = "eu-west-1"
# moto's state may outlive a test in this worker: tests/handlers' session-scoped stack keeps a
# mock open, and a nested mock_aws() resets nothing. Names are this module's own, and each
# test removes what it made.
STACK = f"kit-{uuid.uuid4().hex[:8]}"
BUCKET = f"artifacts-{uuid.uuid4().hex[:8]}"


class InProcess:
    """The emulator's Endpoint, as far as warm_start uses it, over moto in-process."""

    def client(self, service: str, region: str) -> Any:
        return boto3.client(service, region_name=region)  # type: ignore[call-overload]


ENDPOINT = cast(Endpoint, InProcess())


def zipped(source: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("app.py", source)
    return buffer.getvalue()


CODE = zipped("def handler(event, context):\n    return 1\n")


def template(topic: str = "alarms") -> str:
    trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
             "Principal": {"Service": "lambda.amazonaws.com"}}]}  # fmt: skip
    return json.dumps({"Resources": {
        "Topic": {"Type": "AWS::SNS::Topic", "Properties": {"TopicName": topic}},
        "Role": {"Type": "AWS::IAM::Role", "Properties": {"AssumeRolePolicyDocument": trust}},
        "Fn": {"Type": "AWS::Lambda::Function", "Properties": {
            "Runtime": "python3.14", "Handler": "app.handler",
            "Role": {"Fn::GetAtt": ["Role", "Arn"]},
            "Code": {"S3Bucket": BUCKET, "S3Key": "fn.zip"}}},
    }})  # fmt: skip


def built(**changes: Any) -> Deployed:
    wanted = Deployed(
        stack=STACK, region=REGION, environment="dev", origins=("http://localhost:5173",),
        template_sha256="t" * 64, zips={"function fn": hashlib.sha256(CODE).hexdigest()},
    )  # fmt: skip
    return dataclasses.replace(wanted, **changes)


@pytest.fixture
def aws() -> Iterator[None]:
    with mock_aws():
        s3: Any = boto3.client("s3", region_name=REGION)
        s3.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION})
        s3.put_object(Bucket=BUCKET, Key="fn.zip", Body=CODE)
        yield
        # What this test deployed goes, whatever state the next test starts from.
        cloudformation = boto3.client("cloudformation", region_name=REGION)
        cloudformation.delete_stack(StackName=STACK)
        s3.delete_object(Bucket=BUCKET, Key="fn.zip")
        s3.delete_bucket(Bucket=BUCKET)


def deploy(record: Path, body: str | None = None) -> None:
    """A deploy as `make local` makes one: the stack, then the record of it."""
    cloudformation = boto3.client("cloudformation", region_name=REGION)
    try:
        cloudformation.describe_stacks(StackName=STACK)
        cloudformation.update_stack(StackName=STACK, TemplateBody=body or template())
    except cloudformation.exceptions.ClientError:
        cloudformation.create_stack(StackName=STACK, TemplateBody=body or template())
    warm_start.record(record, ENDPOINT, built())


def test_the_stack_just_recorded_is_served_without_a_deploy(aws: None, tmp_path: Path) -> None:
    record = tmp_path / "deployed.json"
    deploy(record)
    assert warm_start.why_deploy(record, ENDPOINT, built()) is None


def test_an_empty_emulator_deploys(aws: None, tmp_path: Path) -> None:
    reason = warm_start.why_deploy(tmp_path / "deployed.json", ENDPOINT, built())
    assert reason == f"{STACK} is not deployed in this emulator"


def test_a_stack_without_a_record_deploys(aws: None, tmp_path: Path) -> None:
    record = tmp_path / "deployed.json"
    deploy(record)
    record.unlink()
    assert warm_start.why_deploy(record, ENDPOINT, built()) == (
        f"no record of what {STACK} was deployed from"
    )


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"template_sha256": "u" * 64}, "the template changed"),
        ({"origins": ("https://app.example.com",)}, "the allowed origins changed"),
        ({"environment": "staging"}, "the environment changed"),
        ({"zips": {"function fn": "0" * 64}}, "the function fn zip changed"),
        ({"zips": {"function fn": hashlib.sha256(CODE).hexdigest(), "layer deps": "1" * 64}},
         "the layer deps zip changed"),
    ],
)  # fmt: skip
def test_a_changed_build_deploys_saying_what_changed(
    aws: None, tmp_path: Path, change: dict[str, Any], reason: str
) -> None:
    record = tmp_path / "deployed.json"
    deploy(record)
    assert warm_start.why_deploy(record, ENDPOINT, built(**change)) == reason


def test_a_stack_changed_after_the_record_deploys(aws: None, tmp_path: Path) -> None:
    record = tmp_path / "deployed.json"
    deploy(record)
    recorded = record.read_text()
    deploy(record, template("other"))
    record.write_text(recorded)  # the record of the deploy before
    assert warm_start.why_deploy(record, ENDPOINT, built()) == (
        f"{STACK} changed after the recorded deploy"
    )


def test_code_pushed_after_the_deploy_deploys(aws: None, tmp_path: Path) -> None:
    """As `make local WATCH=1` pushes it: the stack is untouched, the function is not."""
    record = tmp_path / "deployed.json"
    deploy(record)
    cloudformation = boto3.client("cloudformation", region_name=REGION)
    function = cloudformation.describe_stack_resource(StackName=STACK, LogicalResourceId="Fn")
    boto3.client("lambda", region_name=REGION).update_function_code(
        FunctionName=function["StackResourceDetail"]["PhysicalResourceId"],
        ZipFile=zipped("def handler(event, context):\n    return 2\n"),
    )
    assert warm_start.why_deploy(record, ENDPOINT, built()) == (
        "Fn's code in the emulator is not this build's"
    )


def test_this_build_reads_the_template_and_the_manifest(tmp_path: Path) -> None:
    from artifacts import manifest

    root = Path(__file__).resolve().parents[2]
    build = root / "build"
    found = warm_start.this_build(build, STACK, REGION, "dev", ["http://localhost:5173"])
    made = manifest.load(build / "manifest.json")
    assert (
        found.template_sha256 == hashlib.sha256((build / "template.yaml").read_bytes()).hexdigest()
    )
    assert found.zips == {f"{a.kind} {a.name}": a.zip_sha256 for a in made.artifacts}
