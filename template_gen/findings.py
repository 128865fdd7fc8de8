"""Scanner findings the design rejects, each with its reason.

A waiver is one design decision: its reason, written once, and the ids each scanner knows it
by. It is written into the resource's own Metadata in every form the scanners read, so each
one sees why its check does not apply:

- cfn-lint: `cfn-lint: {config: {ignore_checks: [id]}}`;
- checkov: `checkov: {skip: [{id, comment}]}`;
- cdk-nag: `cdk_nag: {rules_to_suppress: [{id, reason}]}`
  (https://github.com/cdklabs/cdk-nag#suppressing-a-rule-in-cloudformation);
- cfn-guard: `guard: {SuppressedRules: [name]}`, the AWS Guard rules registry's convention,
  which `tools/scan` also applies to the Control Tower rules it runs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Waiver:
    reason: str
    cfn_lint: tuple[str, ...] = ()
    checkov: tuple[str, ...] = ()
    cdk_nag: tuple[str, ...] = ()
    # Rule names of cfn-guard: the AWS Guard rules registry's, which honour SuppressedRules
    # themselves, and Control Tower's proactive controls, which tools/scan.py holds to it.
    guard: tuple[str, ...] = ()


SYNCHRONOUS_API_FUNCTION = Waiver(
    reason=(
        "Invoked synchronously by the HTTP API: the caller gets the error, so there is no"
        " asynchronous event to send to a dead-letter queue or an on-failure destination."
    ),
    cfn_lint=("ES1007",),
    checkov=("CKV_AWS_116",),
    cdk_nag=("Serverless-LambdaDLQ", "HIPAA.Security-LambdaDLQ", "NIST.800.53.R5-LambdaDLQ"),
    guard=("LAMBDA_DLQ_CHECK",),
)
NO_VPC_RESOURCES = Waiver(
    reason=(
        "Reaches only DynamoDB, S3, SSM and KMS through their public, IAM-authorised"
        " endpoints; it has no VPC resource to reach, and a VPC would add NAT cost and cold"
        " start for no isolation gain."
    ),
    checkov=("CKV_AWS_117",),
    cdk_nag=("HIPAA.Security-LambdaInsideVPC", "NIST.800.53.R5-LambdaInsideVPC"),
    guard=("LAMBDA_INSIDE_VPC", "LAMBDA_INSIDE_VPC_CHECK"),
)
NO_RESERVED_CONCURRENCY = Waiver(
    reason=(
        "Concurrency is bounded by the API's route throttling parameters; reserving"
        " concurrency per function would fail deploys in accounts with a low regional limit."
    ),
    checkov=("CKV_AWS_115",),
    cdk_nag=("HIPAA.Security-LambdaConcurrency", "NIST.800.53.R5-LambdaConcurrency"),
    guard=("LAMBDA_CONCURRENCY_CHECK",),
)
NO_CODE_SIGNING = Waiver(
    reason=(
        "Artifacts are content-hashed by build.py and uploaded by sam deploy; a signing"
        " profile is an account-level choice that a team adds through CodeSigningConfigArn."
    ),
    checkov=("CKV_AWS_272",),
)
PINNED_RUNTIME = Waiver(
    reason=(
        "python3.14 is the runtime the build compiles bytecode for, with the pinned CPython"
        " 3.14 (pyodide in package-lock.json); a newer runtime is a toolchain change made on"
        " purpose, with its own bytecode and tests, not a template edit."
    ),
    cdk_nag=("AwsSolutions-L1", "Serverless-LambdaLatestVersion"),
)
SAM_ROUTE_PERMISSIONS = Waiver(
    reason=(
        "SAM writes each route's invoke permission for apigateway.amazonaws.com with a"
        " SourceArn of this API, stage, method and path, as an Fn::Sub that CT.LAMBDA.PR.2"
        " does not read as a local reference; the permission is not public."
    ),
    guard=("LAMBDA_FUNCTION_PUBLIC_ACCESS_PROHIBITED_CHECK",),
)
ACCESS_LOG_BUCKET = Waiver(
    reason=(
        "This bucket receives S3 server access logs: S3 requires SSE-S3 for a log target,"
        " and logging the log bucket into itself would loop."
    ),
    checkov=("CKV_AWS_18", "CKV_AWS_145"),
    cdk_nag=("HIPAA.Security-S3DefaultEncryptionKMS", "NIST.800.53.R5-S3DefaultEncryptionKMS"),
    guard=(
        "S3_BUCKET_LOGGING_ENABLED",
        "S3_BUCKET_LOGGING_ENABLED_CHECK",
        "S3_BUCKET_DEFAULT_ENCRYPTION_KMS_CHECK",
    ),
)
REGIONAL_BUCKET = Waiver(
    reason=(
        "Each region's stack has its own bucket; cross-region replication is a data"
        " residency decision left to the team, not a default."
    ),
    checkov=("CKV_AWS_144",),
    cdk_nag=(
        "HIPAA.Security-S3BucketReplicationEnabled",
        "NIST.800.53.R5-S3BucketReplicationEnabled",
    ),
    guard=("S3_BUCKET_REPLICATION_ENABLED",),
)
NO_OBJECT_LOCK = Waiver(
    reason=(
        "Object Lock would forbid the API's DELETE of an attachment and the lifecycle"
        " rules' expiry; versioning with noncurrent-version retention is the recovery path."
    ),
    guard=("S3_BUCKET_DEFAULT_LOCK_ENABLED", "S3_BUCKET_OBJECT_LOCK_ENABLED_CHECK"),
)
NO_OBJECT_EVENTS = Waiver(
    reason=(
        "Nothing consumes object events yet; a team that adds a consumer turns on"
        " EventBridge delivery with it, rather than paying for events no one reads."
    ),
    guard=("S3_EVENT_NOTIFICATIONS_ENABLED_CHECK",),
)
NO_BUCKET_ACLS = Waiver(
    reason=(
        "ACLs are disabled (ObjectOwnership: BucketOwnerEnforced) and every public access"
        " setting is blocked, so no ACL can grant public read or write."
    ),
    guard=("S3_BUCKET_NO_PUBLIC_RW_ACL",),
)

OWN_LOG_GROUP = Waiver(
    reason=(
        "The function's log group /aws/lambda/<name> is declared with retention and KMS and"
        " wired through LoggingConfig.LogGroup; the rule only recognises a log group whose"
        " name is a literal or references the function, which would make a dependency cycle."
    ),
    cfn_lint=("WS1004",),
)
RETENTION_BY_ENVIRONMENT = Waiver(
    reason=(
        "Retention is the LogRetentionDays parameter, set per environment in samconfig.toml"
        " (365 days in prod, 14 in dev): a literal here would keep dev logs for a year."
    ),
    guard=("CW_LOGGROUP_RETENTION_PERIOD_CHECK", "CLOUDWATCH_LOG_GROUP_RETENTION_PERIOD_CHECK"),
)
ALARM_EMAIL_SUBSCRIPTION = Waiver(
    reason=(
        "An email subscription for alarm notifications: the alarm state stays in CloudWatch"
        " and every state change notifies again, so a redrive queue would hold nothing useful."
    ),
    cfn_lint=("ES7000",),
    cdk_nag=("Serverless-SNSRedrivePolicy",),
)
RESOLVED_LAYER_NAME = Waiver(
    reason=(
        "The SAM transform resolves the Environment parameter inside LayerName, leaving a Sub"
        " with no variables in the expanded template; the SAM template itself needs the Sub."
    ),
    cfn_lint=("W1020",),
)
EXPLICIT_NAMES = Waiver(
    reason=(
        "Names follow one scheme (project, environment, and region where the name is global)"
        " so two stacks never collide, alarms and dashboards are found by name, and a"
        " redeploy after make destroy imports the retained resources by name."
    ),
    guard=("CFN_NO_EXPLICIT_RESOURCE_NAMES",),
)
INLINE_POLICY = Waiver(
    reason=(
        "One inline policy per role is the design: it lives and dies with its role, cannot"
        " be attached to another principal, and the permissions boundary caps it."
    ),
    cdk_nag=("HIPAA.Security-IAMNoInlinePolicy", "NIST.800.53.R5-IAMNoInlinePolicy"),
    guard=("IAM_NO_INLINE_POLICY_CHECK",),
)
# cdk-nag names each wildcard resource apart (AwsSolutions-IAM5[Resource::...]): the waiver
# lists exactly the ones the role's statements hold, so a new wildcard is a new finding.
SCOPED_WILDCARDS = Waiver(
    reason=(
        "Each wildcard stands for what the template cannot name: X-Ray's trace actions take"
        " no resource, object keys under the role's own prefix, its functions' versions, its"
        " tables' backups, the parameters key make params creates; build/iam-report.md shows"
        " every grant used."
    ),
    cdk_nag=("AwsSolutions-IAM5",),
    guard=("IAM_POLICYDOCUMENT_NO_WILDCARD_RESOURCE",),
)
# The same decision, as the Serverless pack names it for a role Lambda assumes.
LAMBDA_ROLE_WILDCARDS = Waiver(
    reason=SCOPED_WILDCARDS.reason, cdk_nag=("Serverless-LambdaStarPermissions",)
)
BOOTSTRAP_PATTERNS = Waiver(
    reason=(
        "The bootstrap's policies are ARN patterns: any region (one environment deploys to"
        " any), ids AWS generates, and the project's name prefix; each action is on the"
        " resource types the Service Authorization Reference gives it."
    ),
    cdk_nag=("AwsSolutions-IAM5",),
    guard=("IAM_POLICYDOCUMENT_NO_WILDCARD_RESOURCE",),
)
MFA_BY_ENVIRONMENT = Waiver(
    reason=(
        "MFA (TOTP) is required in prod and optional elsewhere through Fn::If on Environment,"
        " which the rule cannot resolve; tests/unit/test_production_profile.py checks both."
    ),
    cdk_nag=("AwsSolutions-COG2",),
)
THREAT_PROTECTION_BY_ENVIRONMENT = Waiver(
    reason=(
        "Threat protection (Plus tier, ENFORCED) is on in prod and off elsewhere through the"
        " ThreatProtection parameter, which the rule cannot resolve; it is billed per active"
        " user, so dev does not pay for it."
    ),
    cdk_nag=("AwsSolutions-COG8",),
)

LAMBDA_FUNCTION = (
    SYNCHRONOUS_API_FUNCTION,
    OWN_LOG_GROUP,
    NO_VPC_RESOURCES,
    NO_RESERVED_CONCURRENCY,
    NO_CODE_SIGNING,
    PINNED_RUNTIME,
    SAM_ROUTE_PERMISSIONS,
)
GRANULAR = frozenset({"AwsSolutions-IAM5"})


def wildcard_resources(*documents: Any) -> tuple[str, ...]:
    """cdk-nag's name of each wildcard resource in these policy documents
    (`Resource::<text>`, Sub variables and attributes written `<Name>` as cdk-nag prints
    them): what a granular waiver of AwsSolutions-IAM5 applies to."""
    found: set[str] = set()
    for document in documents:
        plain = to_plain(document)
        for statement in plain.get("Statement", []):
            resources = statement.get("Resource", [])
            for resource in resources if isinstance(resources, list) else [resources]:
                text = _as_text(resource)
                if text is not None and "*" in text:
                    found.add(f"Resource::{text}")
    return tuple(sorted(found))


def to_plain(value: Any) -> Any:
    """troposphere objects as the JSON the template holds."""
    if hasattr(value, "to_dict"):
        return to_plain(value.to_dict())
    if isinstance(value, dict):
        return {k: to_plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_plain(v) for v in value]
    return value


def _as_text(resource: Any) -> str | None:
    if isinstance(resource, str):
        return resource
    sub = resource.get("Fn::Sub") if isinstance(resource, dict) else None
    if isinstance(sub, str):
        return re.sub(r"\$\{([^}]+)\}", r"<\1>", sub)
    if isinstance(resource, dict) and "Fn::GetAtt" in resource:
        target = resource["Fn::GetAtt"]
        return f"<{'.'.join(target) if isinstance(target, list) else target}>"
    return None


def waiver_metadata(*waivers: Waiver, wildcards: tuple[str, ...] = ()) -> dict:
    """Every form the scanners read. `wildcards` are what the granular cdk-nag rules among
    the waivers apply to (cdk-nag's `applies_to`)."""
    ignored = sorted({check for waiver in waivers for check in waiver.cfn_lint})
    skipped = [
        {"id": check, "comment": waiver.reason} for waiver in waivers for check in waiver.checkov
    ]
    suppressed = []
    for waiver in waivers:
        for rule in waiver.cdk_nag:
            entry: dict[str, Any] = {"id": rule, "reason": waiver.reason}
            if rule in GRANULAR:
                if not wildcards:
                    continue  # nothing for it to apply to
                entry["applies_to"] = list(wildcards)
            suppressed.append(entry)
    guarded = sorted({rule for waiver in waivers for rule in waiver.guard})
    metadata: dict = {}
    if ignored:
        metadata["cfn-lint"] = {"config": {"ignore_checks": ignored}}
    if skipped:
        metadata["checkov"] = {"skip": skipped}
    if suppressed:
        metadata["cdk_nag"] = {"rules_to_suppress": suppressed}
    if guarded:
        metadata["guard"] = {"SuppressedRules": guarded}
    return metadata
