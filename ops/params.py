"""SecureString parameters the spec declares: created once, rotated on request, never
taking their value from the command line or the environment."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from template_gen.model import Spec
from template_gen.naming import Names

VALUE_BYTES = 48  # 384 random bits, URL-safe base64
# SecureStrings use the account's SSM key, which exists before any stack does.
KEY_ID = "alias/aws/ssm"


@dataclass(frozen=True)
class Outcome:
    name: str
    action: str  # "created", "rotated" or "kept"


def parameter_names(spec: Spec, environment: str) -> list[str]:
    names = Names(spec.project)
    return [names.parameter(p.name).resolve(environment, "", "") for p in spec.parameters]


def random_value() -> str:
    return secrets.token_urlsafe(VALUE_BYTES)


def ensure(
    ssm: Any,
    spec: Spec,
    environment: str,
    *,
    rotate: bool = False,
    value: Callable[[str], str] = lambda _name: random_value(),
) -> list[Outcome]:
    """Create each missing parameter; with `rotate`, replace every value. Idempotent."""
    outcomes = []
    for name in parameter_names(spec, environment):
        try:
            ssm.get_parameter(Name=name)
            exists = True
        except ssm.exceptions.ParameterNotFound:
            exists = False
        if exists and not rotate:
            outcomes.append(Outcome(name, "kept"))
            continue
        ssm.put_parameter(
            Name=name,
            Type="SecureString",
            KeyId=KEY_ID,
            Value=value(name),
            Overwrite=exists,
            Tier="Standard",
        )
        outcomes.append(Outcome(name, "rotated" if exists else "created"))
    return outcomes
