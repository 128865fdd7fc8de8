"""CloudFormation intrinsic functions: resolved against a deployed stack, and the logical ids
a value refers to."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

NO_VALUE = object()


@dataclass
class Context:
    parameters: dict[str, Any]
    physical_ids: dict[str, str]
    conditions: dict[str, Any]
    attribute: Callable[[str, str], Any]  # (logical id, attribute) -> value
    _evaluated: dict[str, bool] = field(default_factory=dict)

    def ref(self, name: str) -> Any:
        if name == "AWS::NoValue":
            return NO_VALUE
        if name in self.parameters:
            return self.parameters[name]
        if name in self.physical_ids:
            return self.physical_ids[name]
        raise KeyError(f"cannot resolve Ref {name}")

    def condition(self, name: str) -> bool:
        if name not in self._evaluated:
            self._evaluated[name] = bool(resolve(self.conditions[name], self))
        return self._evaluated[name]


def _sub(template: str, variables: dict[str, Any], context: Context) -> str:
    def replace(match: re.Match) -> str:
        name = match.group(1)
        if name in variables:
            return str(resolve(variables[name], context))
        if "." in name and not name.startswith("AWS::"):
            logical, attribute = name.split(".", 1)
            return str(context.attribute(logical, attribute))
        return str(context.ref(name))

    return re.sub(r"\$\{([^}!]+)\}", replace, template)


def resolve(value: Any, context: Context) -> Any:
    if isinstance(value, list):
        return [v for v in (resolve(item, context) for item in value) if v is not NO_VALUE]
    if not isinstance(value, dict):
        return value
    if len(value) == 1:
        ((key, argument),) = value.items()
        if key == "Ref":
            return context.ref(argument)
        if key == "Fn::GetAtt":
            logical, attribute = argument if isinstance(argument, list) else argument.split(".", 1)
            return context.attribute(logical, attribute)
        if key == "Fn::Sub":
            template, variables = (argument, {}) if isinstance(argument, str) else argument
            return _sub(template, variables, context)
        if key == "Fn::Join":
            separator, items = argument
            return separator.join(str(v) for v in resolve(items, context))
        if key == "Fn::If":
            name, when_true, when_false = argument
            return resolve(when_true if context.condition(name) else when_false, context)
        if key == "Fn::Equals":
            left, right = (resolve(v, context) for v in argument)
            return str(left) == str(right)
        if key == "Fn::Not":
            return not resolve(argument[0], context)
        if key == "Fn::And":
            return all(resolve(v, context) for v in argument)
        if key == "Fn::Or":
            return any(resolve(v, context) for v in argument)
        if key == "Condition":
            return context.condition(argument)
        if key == "Fn::Split":
            separator, text = argument
            return str(resolve(text, context)).split(separator)
        if key == "Fn::Select":
            index, items = argument
            return resolve(items, context)[int(resolve(index, context))]
    resolved = {k: resolve(v, context) for k, v in value.items()}
    return {k: v for k, v in resolved.items() if v is not NO_VALUE}


def references(value: Any) -> set[str]:
    """Logical ids (and parameters) a value refers to through Ref, Fn::GetAtt or Fn::Sub."""
    if isinstance(value, list):
        return set().union(*map(references, value)) if value else set()
    if not isinstance(value, dict):
        return set()
    if set(value) == {"Ref"}:
        return {value["Ref"]}
    if set(value) == {"Fn::GetAtt"}:
        target = value["Fn::GetAtt"]
        return {target[0] if isinstance(target, list) else target.split(".")[0]}
    if set(value) == {"Fn::Sub"}:
        sub = value["Fn::Sub"]
        text, variables = (sub, {}) if isinstance(sub, str) else sub
        named = {m.split(".")[0] for m in re.findall(r"\$\{([^!][^}]*)\}", text)}
        return (named - set(variables)) | references(variables)
    return set().union(*map(references, value.values())) if value else set()
