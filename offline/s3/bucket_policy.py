"""Bucket policies evaluated the way S3 evaluates them (aws_semantics/policy.py), on moto's own S3
path, which serves the administrator identity's calls.

moto applies a bucket policy but treats a statement whose Condition does not hold as a denial,
so any conditional Deny (the TLS-only statement every bucket here carries, and SAM CLI's own
artifacts bucket) refuses every request. In AWS a statement whose condition does not hold
does not apply at all: an explicit Deny wins, then an Allow, else no opinion
(https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html).

Requests reach the emulator over loopback only, and are taken as `aws:SecureTransport`
true: the TLS-only statement stays in every policy and is evaluated, but this machine cannot
show what a plain-HTTP request from elsewhere would get.
"""

from __future__ import annotations

import json
from typing import Any

from moto.iam.access_control import PermissionResult
from moto.s3.models import FakeBucket

from aws_semantics.policy import Effect, Policy, Request, evaluate
from offline.common.endpoint import ACCOUNT
from offline.iam.calls import TRANSPORT

REQUEST_CONTEXT = TRANSPORT  # named here too, so a test can give S3 a plain-HTTP request
# moto's own S3 path knows no caller: it asks on behalf of the administrator identity, which
# statements for "*" (or for the account) cover.
ADMINISTRATOR = f"arn:aws:iam::{ACCOUNT}:root"
VERDICTS = {
    Effect.DENY: PermissionResult.DENIED,
    Effect.ALLOW: PermissionResult.PERMITTED,
    Effect.NONE: PermissionResult.NEUTRAL,
}


def permission(policy: dict[str, Any], action: str, resource: str) -> PermissionResult:
    request = Request(action, resource, ADMINISTRATOR, ACCOUNT, REQUEST_CONTEXT)
    # A policy the evaluator cannot read raises: moto answers 500, loudly, never a guess.
    match = evaluate(Policy("bucket policy", policy), request, resource_policy=True)
    return VERDICTS[match.effect]


def _get_permission(self: FakeBucket, action: str, resource: str) -> PermissionResult:
    if self.policy is None:
        return PermissionResult.NEUTRAL
    return permission(json.loads(self.policy), action, resource)


def install() -> None:
    FakeBucket.get_permission = _get_permission  # type: ignore[method-assign]
