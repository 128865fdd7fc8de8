"""The CloudFormation registry's resource schemas, as cfn-lint ships them
(cfnlint/data/schemas): for each resource type, the permissions its handlers need to create,
read, update and delete a resource
(https://docs.aws.amazon.com/cloudformation-cli/latest/userguide/resource-type-schema.html#schema-properties-handlers).

CloudFormation calls those handlers with the execution role a stack is deployed with
(https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/using-iam-servicerole.html), so
what a role needs to deploy a template follows from the template's resource types. A type
without a schema here is an error, never an empty list.
"""

from __future__ import annotations

import json
from functools import cache
from importlib.util import find_spec
from pathlib import Path
from typing import Any


def _package(name: str) -> Path:
    """An installed package's folder, found without importing it: importing cfnlint takes
    about half a second (sympy, networkx), and every `python -m ops` command loads this."""
    spec = find_spec(name)
    if spec is None or spec.origin is None:
        raise ModuleNotFoundError(f"{name} is not installed: run `make install`", name=name)
    return Path(spec.origin).parent


SCHEMAS = _package("cfnlint") / "data" / "schemas"
# The provider index names each type's schema file; every commercial region's lists the same
# types this project uses, so one region's index serves.
INDEX_REGION = "us-east-1"
OPERATIONS = ("create", "read", "update", "delete")


class NoSchema(LookupError):
    """A resource type the registry data does not describe."""


@cache
def _index() -> dict[str, str]:
    path = SCHEMAS / "providers" / f"{INDEX_REGION}.json"
    return dict(json.loads(path.read_text(encoding="utf-8")))


@cache
def schema(type_name: str) -> dict[str, Any]:
    """The registry schema of a resource type."""
    digest = _index().get(type_name)
    if digest is None:
        raise NoSchema(f"the CloudFormation registry data has no schema for {type_name}")
    path = SCHEMAS / "resources" / f"{digest}.json"
    return dict(json.loads(path.read_text(encoding="utf-8")))


def handler_permissions(type_name: str, operation: str) -> tuple[str, ...]:
    """The actions a type's `operation` handler (create, read, update, delete) needs; a type
    with no handler for it (no update: every change replaces) needs none for it."""
    if operation not in OPERATIONS:
        raise ValueError(f"operation must be one of {OPERATIONS}, not {operation!r}")
    handler = schema(type_name).get("handlers", {}).get(operation, {})
    return tuple(str(action) for action in handler.get("permissions", ()))
