"""SecureString parameters the spec declares: created once, rotated on request, never
taking their value from the command line or the environment, and encrypted with a customer
managed key of their own.

The account's AWS managed key for Parameter Store (`alias/aws/ssm`) lets every principal of
the account decrypt (https://docs.aws.amazon.com/kms/latest/developerguide/services-parameter-store.html):
anyone allowed `ssm:GetParameter` could read the cursor signing key and forge cursors. So
each region and environment gets one key, `alias/<project>-<env>-parameters`, created here
before any stack exists, whose policy lets account principals use it only through SSM and
only as their own IAM policies allow: the roles that may read a parameter, no one else.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from template_gen.encryption import administration
from template_gen.model import Spec
from template_gen.naming import Names

VALUE_BYTES = 48  # 384 random bits, URL-safe base64
# What SSM does with the key on the caller's behalf: encrypt on put, decrypt on get.
SSM_KEY_ACTIONS = ("kms:Decrypt", "kms:DescribeKey", "kms:Encrypt", "kms:GenerateDataKey")


@dataclass(frozen=True)
class Outcome:
    name: str
    action: str  # "created", "rotated", "kept" or "moved to <alias>"


def parameter_names(spec: Spec, environment: str) -> list[str]:
    names = Names(spec.project)
    return [names.parameter(p.name).resolve(environment, "", "") for p in spec.parameters]


def key_alias(spec: Spec, environment: str) -> str:
    return Names(spec.project).parameters_key_alias().resolve(environment, "", "")


def random_value() -> str:
    return secrets.token_urlsafe(VALUE_BYTES)


def key_policy(account: str, region: str, partition: str) -> dict[str, Any]:
    root = f"arn:{partition}:iam::{account}:root"
    return {
        "Version": "2012-10-17",
        "Statement": [
            administration(root),
            {
                # The account delegates to IAM, and only through SSM: a principal needs its
                # own kms:Decrypt grant, which only the roles that read a parameter have.
                "Sid": "UseThroughSsm",
                "Effect": "Allow",
                "Principal": {"AWS": root},
                "Action": list(SSM_KEY_ACTIONS),
                "Resource": "*",
                "Condition": {
                    "StringEquals": {
                        "kms:CallerAccount": account,
                        "kms:ViaService": f"ssm.{region}.amazonaws.com",
                    }
                },
            },
        ],
    }


def ensure_key(
    kms: Any, spec: Spec, environment: str, *, account: str, region: str, partition: str = "aws"
) -> tuple[str, str]:
    """(alias, "created" or "kept"): the parameters key of this region and environment."""
    alias = key_alias(spec, environment)
    try:
        kms.describe_key(KeyId=alias)
        return alias, "kept"
    except kms.exceptions.NotFoundException:
        pass
    key = kms.create_key(
        Description=f"{spec.project} {environment}: SecureString parameters (make params)",
        KeyUsage="ENCRYPT_DECRYPT",
        Policy=json.dumps(key_policy(account, region, partition)),
        Tags=[
            {"TagKey": "project", "TagValue": spec.project},
            {"TagKey": "environment", "TagValue": environment},
        ],
    )["KeyMetadata"]
    kms.enable_key_rotation(KeyId=key["KeyId"])
    kms.create_alias(AliasName=alias, TargetKeyId=key["KeyId"])
    return alias, "created"


def _current_key(ssm: Any, name: str) -> str | None:
    """The KeyId a SecureString is encrypted with, None if the parameter does not exist."""
    found = ssm.describe_parameters(ParameterFilters=[{"Key": "Name", "Values": [name]}])
    return next((p.get("KeyId", "") for p in found["Parameters"]), None)


def ensure(
    ssm: Any,
    spec: Spec,
    environment: str,
    key: str,
    *,
    rotate: bool = False,
    value: Callable[[str], str] = lambda _name: random_value(),
) -> list[Outcome]:
    """Create each missing parameter under `key`; move one encrypted with another key to it,
    keeping its value; with `rotate`, replace every value. Idempotent."""
    outcomes = []
    for name in parameter_names(spec, environment):
        current = _current_key(ssm, name)
        if current is None or rotate:
            new_value = value(name)
            action = "created" if current is None else "rotated"
        elif current != key:
            new_value = ssm.get_parameter(Name=name, WithDecryption=True)["Parameter"]["Value"]
            action = f"moved to {key}"
        else:
            outcomes.append(Outcome(name, "kept"))
            continue
        ssm.put_parameter(
            Name=name,
            Type="SecureString",
            KeyId=key,
            Value=new_value,
            Overwrite=current is not None,
            Tier="Standard",
        )
        outcomes.append(Outcome(name, action))
    return outcomes


def provision(
    kms: Any,
    ssm: Any,
    spec: Spec,
    environment: str,
    *,
    account: str,
    region: str,
    partition: str = "aws",
    rotate: bool = False,
    value: Callable[[str], str] = lambda _name: random_value(),
) -> list[Outcome]:
    """What `make params` does: the key, then every parameter under it."""
    alias, action = ensure_key(
        kms, spec, environment, account=account, region=region, partition=partition
    )
    return [
        Outcome(alias, action),
        *ensure(ssm, spec, environment, alias, rotate=rotate, value=value),
    ]
