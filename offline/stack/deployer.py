"""A principal that holds the bootstrap's deployer policy and nothing else, as a CI role does:
what `make local` and the tests deploy as, so every call SAM CLI and the deploy commands make
is authorized against that policy, never the administrator's rights."""

from __future__ import annotations

import json
from typing import Any

from offline.common.endpoint import ACCOUNT, Endpoint

# Trusted by the account, as a CI role is trusted by its identity provider.
TRUST = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
            "Action": "sts:AssumeRole",
        }
    ],
}
SESSION = "deployer"
# Long enough for a deploy, an update and a destroy; STS's default is an hour.
DURATION_S = 3600


def role(endpoint: Endpoint, name: str, policy_arns: list[str]) -> str:
    """Create (or reset) the role `name` with exactly `policy_arns` attached; its ARN."""
    iam = endpoint.client("iam", "us-east-1")
    try:
        found = iam.get_role(RoleName=name)["Role"]
    except iam.exceptions.NoSuchEntityException:
        found = iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(TRUST))["Role"]
    attached = iam.list_attached_role_policies(RoleName=name)["AttachedPolicies"]
    for policy in attached:
        if policy["PolicyArn"] not in policy_arns:
            iam.detach_role_policy(RoleName=name, PolicyArn=policy["PolicyArn"])
    for arn in policy_arns:
        iam.attach_role_policy(RoleName=name, PolicyArn=arn)
    return str(found["Arn"])


def session(endpoint: Endpoint, role_arn: str, region: str) -> dict[str, Any]:
    """STS credentials of a session of `role_arn`, issued by the emulator's STS."""
    sts = endpoint.client("sts", region)
    answer = sts.assume_role(RoleArn=role_arn, RoleSessionName=SESSION, DurationSeconds=DURATION_S)
    return dict(answer["Credentials"])


def environment(endpoint: Endpoint, region: str, credentials: dict[str, Any]) -> dict[str, str]:
    """What a process needs to call the emulator as that session."""
    return {
        **endpoint.environment(region),
        "AWS_ACCESS_KEY_ID": str(credentials["AccessKeyId"]),
        "AWS_SECRET_ACCESS_KEY": str(credentials["SecretAccessKey"]),
        "AWS_SESSION_TOKEN": str(credentials["SessionToken"]),
    }
