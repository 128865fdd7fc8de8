"""The test stack the spec describes, in moto: every function's environment as the rendered
template gives it, the tables, buckets and parameters it names, and each function's handler
module imported from its folder as Lambda imports it. Nothing here names a function: a new
`Function(...)` in the spec, with its resources and its folder, is in the stack as it is."""

from __future__ import annotations

import functools
import importlib.util
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType
from typing import Any

import boto3
import pytest
from moto import mock_aws

from aws_semantics import intrinsics
from aws_semantics.intrinsics import Context
from offline.dynamodb import atomic_writes
from template_gen.model import Function, Spec
from template_gen.naming import Names, function_id
from template_gen.spec import SPEC
from template_gen.template import build_template

ROOT = Path(__file__).resolve().parents[2]
REGION = "us-east-1"
ACCOUNT = "123456789012"  # moto's account
ENVIRONMENT = "test"
# What CloudFormation answers for the template's parameters and pseudo parameters here.
PARAMETERS = {"Environment": ENVIRONMENT, "AWS::AccountId": ACCOUNT, "AWS::Region": REGION}
# The physical name `Ref` answers for each kind of resource an environment variable names.
NAME_PROPERTY = {"AWS::DynamoDB::Table": "TableName", "AWS::S3::Bucket": "BucketName"}
# This stack's AWS and logging settings. They win over the template's: one process runs every
# function with one Logger, so POWERTOOLS_SERVICE_NAME, which names each function, is "test".
TEST_SETTINGS = {
    "AWS_REGION": REGION,
    "AWS_DEFAULT_REGION": REGION,
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "POWERTOOLS_SERVICE_NAME": "test",
    "POWERTOOLS_LOG_LEVEL": "WARNING",
}
PARAMETER_VALUE = "k" * 64


@functools.cache
def resources(spec: Spec = SPEC) -> dict[str, Any]:
    resources: dict[str, Any] = build_template(spec).to_dict()["Resources"]
    return resources


def no_attribute(logical: str, attribute: str) -> Any:
    raise ValueError(f"the test stack has no {logical}.{attribute}")


@functools.cache
def context(spec: Spec = SPEC) -> Context:
    """What the stack resolves values against: the parameters above, and the physical name
    of each table and bucket, which is what `Ref` answers for them."""
    named = Context(PARAMETERS, {}, {}, no_attribute)
    physical_ids = {
        logical: intrinsics.resolve(resource["Properties"][NAME_PROPERTY[resource["Type"]]], named)
        for logical, resource in resources(spec).items()
        if resource["Type"] in NAME_PROPERTY
    }
    return Context(PARAMETERS, physical_ids, {}, no_attribute)


def resolve(value: Any, spec: Spec = SPEC) -> str:
    """A value of the template, a string, as this stack resolves it (aws_semantics/intrinsics.py):
    a `Ref` or `Fn::Sub` of the parameters above and of the tables' and buckets' names."""
    resolved = intrinsics.resolve(value, context(spec))
    if not isinstance(resolved, str):
        raise ValueError(f"the test stack cannot resolve {value!r} to a string")
    return resolved


def function_environment(function: Function, spec: Spec = SPEC) -> dict[str, str]:
    """The variables the template gives `function`, resolved for this stack."""
    properties = resources(spec)[function_id(function.name)]["Properties"]
    variables: dict[str, Any] = properties["Environment"]["Variables"]
    return {key: resolve(value, spec) for key, value in variables.items()}


def stack_environment(spec: Spec = SPEC) -> dict[str, str]:
    """Every function's variables at once, then this stack's AWS and logging settings."""
    merged: dict[str, str] = {}
    for function in spec.functions:
        for key, value in function_environment(function, spec).items():
            if merged.setdefault(key, value) != value and key not in TEST_SETTINGS:
                raise ValueError(
                    f"{key} is {merged[key]!r} for one function, {value!r} for another"
                )
    return {**merged, **TEST_SETTINGS}


def of_type(type_: str, spec: Spec) -> list[dict[str, Any]]:
    return [r["Properties"] for r in resources(spec).values() if r["Type"] == type_]


def create_resources(spec: Spec = SPEC) -> None:
    """The template's tables and buckets, and the spec's parameters, in moto."""
    dynamodb = boto3.client("dynamodb", region_name=REGION)
    for table in of_type("AWS::DynamoDB::Table", spec):
        name = resolve(table["TableName"], spec)
        kwargs = {k: table[k] for k in ("AttributeDefinitions", "KeySchema", "BillingMode")}
        if "GlobalSecondaryIndexes" in table:
            kwargs["GlobalSecondaryIndexes"] = table["GlobalSecondaryIndexes"]
        dynamodb.create_table(TableName=name, **kwargs)
        if "TimeToLiveSpecification" in table:
            dynamodb.update_time_to_live(
                TableName=name, TimeToLiveSpecification=table["TimeToLiveSpecification"]
            )
    s3 = boto3.client("s3", region_name=REGION)
    for bucket in of_type("AWS::S3::Bucket", spec):
        s3.create_bucket(Bucket=resolve(bucket["BucketName"], spec))
    ssm = boto3.client("ssm", region_name=REGION)
    for parameter in spec.parameters:
        name = Names(spec.project).parameter(parameter.name).resolve(ENVIRONMENT, ACCOUNT, REGION)
        ssm.put_parameter(Name=name, Type="SecureString", Value=PARAMETER_VALUE)


def declared(name: str, spec: Spec = SPEC) -> Function:
    for function in spec.functions:
        if function.name == name:
            return function
    raise KeyError(f"the spec declares no function {name!r}")


def load_function(name: str, container: int = 0, spec: Spec = SPEC) -> ModuleType:
    """Import a function's handler module as a fresh module: each `container` has its own
    state. Its folder goes on the path, as /var/task is on Lambda's."""
    function = declared(name, spec)
    folder = ROOT / function.source
    module_name = function.handler.rsplit(".", 1)[0]
    sys.path.insert(0, str(folder))
    location = folder / f"{module_name}.py"
    found = importlib.util.spec_from_file_location(f"{name}_handler_{container}", location)
    if found is None or found.loader is None:
        raise ImportError(f"function {name!r}: cannot import {location}")
    module = importlib.util.module_from_spec(found)
    found.loader.exec_module(module)
    return module


def entry_point(module: ModuleType, name: str, spec: Spec = SPEC) -> Any:
    """The handler Lambda calls in a module loaded by load_function."""
    return getattr(module, declared(name, spec).handler.rsplit(".", 1)[1])


@contextmanager
def running(spec: Spec = SPEC) -> Iterator[dict[str, ModuleType]]:
    """Every function of `spec` by name, imported once its environment and resources exist."""
    with pytest.MonkeyPatch.context() as patch:
        for key, value in stack_environment(spec).items():
            patch.setenv(key, value)
        with mock_aws():
            # DynamoDB's own semantics that moto lacks: atomic conditions, transaction tokens.
            atomic_writes.install()
            create_resources(spec)
            yield {
                function.name: load_function(function.name, spec=spec)
                for function in spec.functions
            }
