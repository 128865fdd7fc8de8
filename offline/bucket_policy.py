"""Bucket policies evaluated the way S3 evaluates them, for the statements this stack writes.

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

import fnmatch
import json
from typing import Any

from moto.iam.access_control import IAMPolicyStatement, PermissionResult
from moto.s3.models import FakeBucket

REQUEST_CONTEXT = {"aws:SecureTransport": "true"}


def _values(value: Any) -> list[str]:
    return [
        str(v).lower() if isinstance(v, bool) else str(v)
        for v in (value if isinstance(value, list) else [value])
    ]


# The condition operators this stack's policies and SAM CLI's use; a key the request does not
# carry makes the condition false, as in AWS (reference_policies_elements_condition.html).
OPERATORS = {
    "Bool": lambda actual, expected: actual.lower() in [e.lower() for e in expected],
    "StringEquals": lambda actual, expected: actual in expected,
    "StringNotEquals": lambda actual, expected: actual not in expected,
    "StringLike": lambda actual, expected: any(fnmatch.fnmatchcase(actual, e) for e in expected),
    "ArnLike": lambda actual, expected: any(fnmatch.fnmatchcase(actual, e) for e in expected),
}


def conditions_hold(conditions: dict[str, Any], context: dict[str, str]) -> bool:
    for operator, tests in conditions.items():
        check = OPERATORS.get(operator)
        if check is None:
            return False  # an operator the emulator cannot evaluate never applies
        for key, expected in tests.items():
            if key not in context or not check(context[key], _values(expected)):
                return False
    return True


def permission(policy: dict[str, Any], action: str, resource: str) -> PermissionResult:
    allowed = False
    statements = policy.get("Statement", [])
    for statement in statements if isinstance(statements, list) else [statements]:
        checked = IAMPolicyStatement(statement)
        key = "NotAction" if "NotAction" in statement else "Action"
        if checked._check_element_matches(key, action) == (key == "NotAction"):
            continue
        if not conditions_hold(statement.get("Condition", {}), REQUEST_CONTEXT):
            continue  # the statement does not apply to this request
        if "Resource" in statement and not checked._check_element_matches("Resource", resource):
            continue
        if statement.get("Effect") == "Deny":
            return PermissionResult.DENIED
        allowed = True
    return PermissionResult.PERMITTED if allowed else PermissionResult.NEUTRAL


def _get_permission(self: FakeBucket, action: str, resource: str) -> PermissionResult:
    if self.policy is None:
        return PermissionResult.NEUTRAL
    return permission(json.loads(self.policy), action, resource)


def install() -> None:
    FakeBucket.get_permission = _get_permission  # type: ignore[method-assign]
