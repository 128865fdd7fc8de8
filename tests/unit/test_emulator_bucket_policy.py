"""Bucket policies in the emulator follow S3's evaluation: a statement applies only when its
conditions hold, an explicit Deny wins, then an Allow."""

from __future__ import annotations

from typing import Any

import pytest
from moto.iam.access_control import IAMPolicy, PermissionResult

from offline.s3 import bucket_policy

BUCKET = "arn:aws:s3:::assets"
TLS_ONLY = {
    "Effect": "Deny",
    "Principal": "*",
    "Action": "s3:*",
    "Resource": [BUCKET, f"{BUCKET}/*"],
    "Condition": {"Bool": {"aws:SecureTransport": "false"}},
}


def policy(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def test_the_tls_only_statement_denies_a_plain_request_and_only_that(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    document = policy(TLS_ONLY)
    verdict = bucket_policy.permission(document, "s3:PutObject", f"{BUCKET}/key")
    assert verdict == PermissionResult.NEUTRAL  # loopback counts as TLS
    monkeypatch.setattr(bucket_policy, "REQUEST_CONTEXT", {"aws:SecureTransport": "false"})
    verdict = bucket_policy.permission(document, "s3:PutObject", f"{BUCKET}/key")
    assert verdict == PermissionResult.DENIED


def test_moto_alone_denies_every_request_under_a_conditional_deny() -> None:
    """Why the emulator evaluates policies itself: moto treats an unmet condition as a deny."""
    import json

    moto_verdict = IAMPolicy(json.dumps(policy(TLS_ONLY))).is_action_permitted(
        "s3:PutObject", f"{BUCKET}/key"
    )
    assert moto_verdict == PermissionResult.DENIED


def test_an_explicit_deny_wins_over_an_allow() -> None:
    allow = {
        "Effect": "Allow",
        "Principal": "*",
        "Action": "s3:GetObject",
        "Resource": f"{BUCKET}/*",
    }
    deny = {**allow, "Effect": "Deny", "Resource": f"{BUCKET}/private/*"}
    document = policy(allow, deny)
    assert bucket_policy.permission(document, "s3:GetObject", f"{BUCKET}/public/a") == (
        PermissionResult.PERMITTED
    )
    assert bucket_policy.permission(document, "s3:GetObject", f"{BUCKET}/private/a") == (
        PermissionResult.DENIED
    )
    assert bucket_policy.permission(document, "s3:PutObject", f"{BUCKET}/public/a") == (
        PermissionResult.NEUTRAL
    )


def test_a_condition_on_a_key_the_request_lacks_does_not_apply() -> None:
    scoped = {
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:*",
        "Resource": f"{BUCKET}/*",
        "Condition": {"StringEquals": {"aws:SourceAccount": "111122223333"}},
    }
    assert bucket_policy.permission(policy(scoped), "s3:GetObject", f"{BUCKET}/a") == (
        PermissionResult.NEUTRAL
    )
