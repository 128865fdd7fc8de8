"""Handlers against moto in-process: the tables come from the rendered template, the
functions are imported from their folders as Lambda would import them."""

from __future__ import annotations

import collections
import importlib.util
import json
import os
import sys
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import boto3
import botocore.client
import pytest
from moto import mock_aws

from offline import atomic_writes
from template_gen.spec import SPEC
from template_gen.template import build_template

ROOT = Path(__file__).resolve().parents[2]
REGION = "us-east-1"
ENVIRONMENT = "test"
SIGNING_KEY_PARAMETER = f"/{SPEC.project}/{ENVIRONMENT}/cursor-signing-key"


def resolve(name: Any) -> str:
    return name["Fn::Sub"].replace("${Environment}", ENVIRONMENT)


def stack_environment() -> dict[str, str]:
    """What the deployed functions would see: table and bucket names, the parameter name."""
    resources = build_template(SPEC).to_dict()["Resources"]
    names = {
        "USERS_TABLE": resolve(resources["UsersTable"]["Properties"]["TableName"]),
        "ITEMS_TABLE": resolve(resources["ItemsTable"]["Properties"]["TableName"]),
        "IDEMPOTENCY_TABLE": resolve(resources["IdempotencyTable"]["Properties"]["TableName"]),
        "ASSETS_BUCKET": f"{SPEC.project}-{ENVIRONMENT}-assets-123456789012-{REGION}",
        "CURSOR_SIGNING_KEY_PARAMETER": SIGNING_KEY_PARAMETER,
    }
    return {
        **names,
        "AWS_REGION": REGION,
        "AWS_DEFAULT_REGION": REGION,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "POWERTOOLS_METRICS_NAMESPACE": f"{SPEC.project}/{ENVIRONMENT}",
        "POWERTOOLS_SERVICE_NAME": "test",
        "POWERTOOLS_LOG_LEVEL": "WARNING",
    }


def create_tables() -> None:
    dynamodb = boto3.client("dynamodb", region_name=REGION)
    for resource in build_template(SPEC).to_dict()["Resources"].values():
        if resource["Type"] != "AWS::DynamoDB::Table":
            continue
        p = resource["Properties"]
        kwargs = {k: p[k] for k in ("AttributeDefinitions", "KeySchema", "BillingMode")}
        if "GlobalSecondaryIndexes" in p:
            kwargs["GlobalSecondaryIndexes"] = p["GlobalSecondaryIndexes"]
        dynamodb.create_table(TableName=resolve(p["TableName"]), **kwargs)
        if "TimeToLiveSpecification" in p:
            dynamodb.update_time_to_live(
                TableName=resolve(p["TableName"]),
                TimeToLiveSpecification=p["TimeToLiveSpecification"],
            )


def load_function(name: str, container: int = 0) -> ModuleType:
    """Import a function's handler as a fresh module: each `container` has its own state."""
    folder = ROOT / "functions" / name
    sys.path.insert(0, str(folder))
    spec = importlib.util.spec_from_file_location(f"{name}_handler_{container}", folder / "app.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class LambdaContext:
    function_name = "test"
    function_version = "$LATEST"
    memory_limit_in_mb = 512
    invoked_function_arn = f"arn:aws:lambda:{REGION}:123456789012:function:test"

    def __init__(self) -> None:
        self.aws_request_id = str(uuid.uuid4())

    def get_remaining_time_in_millis(self) -> int:
        return 10_000


@pytest.fixture(scope="session")
def stack() -> Iterator[dict[str, ModuleType]]:
    with pytest.MonkeyPatch.context() as patch:
        for key, value in stack_environment().items():
            patch.setenv(key, value)
        with mock_aws():
            # DynamoDB's own semantics that moto lacks: atomic conditions, transaction tokens.
            atomic_writes.install()
            create_tables()
            boto3.client("s3", region_name=REGION).create_bucket(Bucket=os.environ["ASSETS_BUCKET"])
            boto3.client("ssm", region_name=REGION).put_parameter(
                Name=SIGNING_KEY_PARAMETER, Type="SecureString", Value="k" * 64
            )
            yield {name: load_function(name) for name in ("health", "users", "items")}


Invoke = Callable[..., "Reply"]


class Reply:
    def __init__(self, raw: dict[str, Any]) -> None:
        self.raw = raw
        self.status: int = raw["statusCode"]
        self.headers: dict[str, str] = {k.lower(): v for k, v in (raw.get("headers") or {}).items()}
        text = raw.get("body") or ""
        self.text: str = text
        self.json: Any = json.loads(text) if text else None


@pytest.fixture(scope="session")
def invoke(stack: dict[str, ModuleType]) -> Invoke:
    def call(function: str, event: dict[str, Any]) -> Reply:
        return Reply(stack[function].handler(event, LambdaContext()))

    return call


@pytest.fixture
def aws_calls(monkeypatch: pytest.MonkeyPatch) -> collections.Counter:
    """(service, operation) of every AWS API call made while the test runs."""
    calls: collections.Counter = collections.Counter()
    original = botocore.client.BaseClient._make_api_call

    def counting(self: Any, operation: str, params: dict) -> Any:
        calls[(self.meta.service_model.service_name, operation)] += 1
        return original(self, operation, params)

    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", counting)
    return calls


def new_user() -> str:
    return str(uuid.uuid4())
