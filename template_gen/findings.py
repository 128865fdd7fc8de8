"""Scanner findings the design rejects, each with its reason.

A waiver is written into the resource's own Metadata, in the form cfn-lint (ignore_checks)
and checkov (skip with comment) both read, so every scanner sees why the check does not apply.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Waiver:
    reason: str
    cfn_lint: tuple[str, ...] = ()
    checkov: tuple[str, ...] = ()


SYNCHRONOUS_API_FUNCTION = Waiver(
    reason=(
        "Invoked synchronously by the HTTP API: the caller gets the error, so there is no"
        " asynchronous event to send to a dead-letter queue or an on-failure destination."
    ),
    cfn_lint=("ES1007",),
    checkov=("CKV_AWS_116",),
)
NO_VPC_RESOURCES = Waiver(
    reason=(
        "Reaches only DynamoDB, S3, SSM and KMS through their public, IAM-authorised"
        " endpoints; it has no VPC resource to reach, and a VPC would add NAT cost and cold"
        " start for no isolation gain."
    ),
    checkov=("CKV_AWS_117",),
)
NO_RESERVED_CONCURRENCY = Waiver(
    reason=(
        "Concurrency is bounded by the API's route throttling parameters; reserving"
        " concurrency per function would fail deploys in accounts with a low regional limit."
    ),
    checkov=("CKV_AWS_115",),
)
NO_CODE_SIGNING = Waiver(
    reason=(
        "Artifacts are content-hashed by build.py and uploaded by sam deploy; a signing"
        " profile is an account-level choice that a team adds through CodeSigningConfigArn."
    ),
    checkov=("CKV_AWS_272",),
)
ACCESS_LOG_BUCKET = Waiver(
    reason=(
        "This bucket receives S3 server access logs: S3 requires SSE-S3 for a log target,"
        " and logging the log bucket into itself would loop."
    ),
    checkov=("CKV_AWS_18", "CKV_AWS_145"),
)
REGIONAL_BUCKET = Waiver(
    reason=(
        "Each region's stack has its own bucket; cross-region replication is a data"
        " residency decision left to the team, not a default."
    ),
    checkov=("CKV_AWS_144",),
)

OWN_LOG_GROUP = Waiver(
    reason=(
        "The function's log group /aws/lambda/<name> is declared with retention and KMS and"
        " wired through LoggingConfig.LogGroup; the rule only recognises a log group whose"
        " name is a literal or references the function, which would make a dependency cycle."
    ),
    cfn_lint=("WS1004",),
)
ALARM_EMAIL_SUBSCRIPTION = Waiver(
    reason=(
        "An email subscription for alarm notifications: the alarm state stays in CloudWatch"
        " and every state change notifies again, so a redrive queue would hold nothing useful."
    ),
    cfn_lint=("ES7000",),
)
RESOLVED_LAYER_NAME = Waiver(
    reason=(
        "The SAM transform resolves the Environment parameter inside LayerName, leaving a Sub"
        " with no variables in the expanded template; the SAM template itself needs the Sub."
    ),
    cfn_lint=("W1020",),
)

LAMBDA_FUNCTION = (
    SYNCHRONOUS_API_FUNCTION,
    OWN_LOG_GROUP,
    NO_VPC_RESOURCES,
    NO_RESERVED_CONCURRENCY,
    NO_CODE_SIGNING,
)


def waiver_metadata(*waivers: Waiver) -> dict:
    ignored = sorted({check for waiver in waivers for check in waiver.cfn_lint})
    skipped = [
        {"id": check, "comment": waiver.reason} for waiver in waivers for check in waiver.checkov
    ]
    metadata: dict = {}
    if ignored:
        metadata["cfn-lint"] = {"config": {"ignore_checks": ignored}}
    if skipped:
        metadata["checkov"] = {"skip": skipped}
    return metadata
