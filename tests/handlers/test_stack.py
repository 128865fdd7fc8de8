"""The handler stack follows the spec: a function added to it, with a table of its own and a
folder holding its handler, gets its environment, its table in moto, and its module loaded,
with no edit to any test."""

from __future__ import annotations

import json
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from template_gen.model import Function, Key, Route, Table, environment_variable, reads
from template_gen.naming import Names
from template_gen.spec import SPEC
from tests.handlers.conftest import LambdaContext
from tests.handlers.stack import ACCOUNT, ENVIRONMENT, REGION, entry_point, running
from tests.http_events import route_event

HANDLER = """
import json
import os

import boto3

TABLE = os.environ["{variable}"]


def handler(event, context):
    found = boto3.client("dynamodb").describe_table(TableName=TABLE)["Table"]
    return {{"statusCode": 200, "body": json.dumps({{"table": found["TableName"]}})}}
"""


def test_a_new_function_in_the_spec_is_in_the_stack(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    name = "added"
    assert name not in {f.name for f in SPEC.functions} | {t.name for t in SPEC.tables}
    folder = tmp_path / name
    folder.mkdir()
    table = Table(name=name, partition_key=Key("id"))
    (folder / "app.py").write_text(HANDLER.format(variable=environment_variable(table)))
    route = Route("GET", f"/{name}")
    function = Function(name=name, source=str(folder), routes=(route,), relations=(reads(name),))
    # Another project, so none of its names meet the session's stack in the shared moto.
    spec = replace(
        SPEC, project="probe", functions=(*SPEC.functions, function), tables=(*SPEC.tables, table)
    )
    monkeypatch.setattr(sys, "path", list(sys.path))  # load_function puts the folder on it
    with running(spec) as functions:
        assert set(functions) == {f.name for f in spec.functions}
        reply = entry_point(functions[name], name, spec)(route_event(route), LambdaContext())
    assert reply["statusCode"] == 200
    physical = Names(spec.project).table(name).resolve(ENVIRONMENT, ACCOUNT, REGION)
    assert json.loads(reply["body"]) == {"table": physical}
