"""Whether the execution role as deployed still grants what the template needs: the bootstrap
is made once, and a template that later adds resources, or resources of a new type, needs
grants the role does not have yet. Found before `sam deploy`, that is one line naming the
fix; found by CloudFormation, it is a refused resource half-way through and a rollback."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any
from urllib.parse import unquote

Grant = tuple[str, str, str]  # action (lower case), resource, condition as sorted JSON


def resolved(document: Mapping[str, Any], environment: str, account: str, partition: str) -> Any:
    """A built policy with the values CloudFormation gives its Sub variables."""
    text = json.dumps(document)
    for variable, value in (
        ("${Environment}", environment), ("${AWS::AccountId}", account),
        ("${AWS::Partition}", partition),
    ):  # fmt: skip
        text = text.replace(variable, value)
    return json.loads(text)


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def grants(document: Mapping[str, Any]) -> set[Grant]:
    """Each (action, resource, condition) an Allow statement grants."""
    found = set()
    for statement in _as_list(document.get("Statement", [])):
        if statement.get("Effect") != "Allow":
            continue
        condition = json.dumps(statement.get("Condition", {}), sort_keys=True)
        for action in _as_list(statement.get("Action", [])):
            for resource in _as_list(statement.get("Resource", [])):
                found.add((str(action).lower(), str(resource), condition))
    return found


def policy_document(iam: Any, arn: str) -> Mapping[str, Any]:
    """A managed policy's document as in force: its default version."""
    version = iam.get_policy(PolicyArn=arn)["Policy"]["DefaultVersionId"]
    body = iam.get_policy_version(PolicyArn=arn, VersionId=version)["PolicyVersion"]["Document"]
    return dict(json.loads(unquote(body)) if isinstance(body, str) else body)


Each = Callable[[Callable[[str], Mapping[str, Any]], Iterable[str]], Iterator[Mapping[str, Any]]]


def deployed_documents(iam: Any, role_name: str, each: Each = map) -> list[Mapping[str, Any]]:
    """The default version of each managed policy attached to the role, in their order. `each`
    maps the read over the policies: an executor's map reads them all at once."""
    attached = iam.list_attached_role_policies(RoleName=role_name)["AttachedPolicies"]
    return list(each(lambda arn: policy_document(iam, arn), [p["PolicyArn"] for p in attached]))


def missing(needed: Mapping[str, Any], deployed: Iterable[Mapping[str, Any]]) -> list[Grant]:
    """What `needed` grants that no deployed policy does, sorted."""
    have: set[Grant] = set()
    for document in deployed:
        have |= grants(document)
    return sorted(grants(needed) - have)
