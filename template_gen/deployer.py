"""The deployer policy, as named action tables per command (as template_gen/grants.py does for
the functions, and aws-cdk's bootstrap does for its deploy role): what a CI principal or a
person needs to run `make deploy`, `outputs`, `logs`, `drift` and `destroy` for this project,
on this project's names only. The resources themselves are made by the execution role, which
the deployer may only pass to CloudFormation.

The calls are SAM CLI's own (samcli/lib/deploy/deployer.py, lib/package/s3_uploader.py,
lib/utils/managed_cloudformation_stack.py, commands/logs) and ops/preflight.py's reads.
"""

from __future__ import annotations

import fnmatch
import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from template_gen.deploy_permissions import Need
from template_gen.patterns import ARTIFACTS_BUCKET


@dataclass(frozen=True)
class Grant:
    actions: tuple[str, ...]
    resources: tuple[str, ...]  # Sub patterns; the {stack} etc. placeholders filled per project
    condition: dict[str, Any] | None = None


STACK = "arn:${{AWS::Partition}}:cloudformation:*:${{AWS::AccountId}}:stack/{stack}/*"
SAM_STACK = STACK.replace("{stack}", "aws-sam-cli-managed-default")
# The transform is AWS's: a change set of a SAM template is authorized on it too
# (https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/transform-aws-serverless.html),
# though the Service Authorization Reference lists only stacks for CreateChangeSet.
TRANSFORM = "arn:${{AWS::Partition}}:cloudformation:*:aws:transform/Serverless-2016-10-31"
BUCKET = f"arn:${{{{AWS::Partition}}}}:s3:::{ARTIFACTS_BUCKET}"
OBJECTS = BUCKET + "/{stack}/*"
STACK_BUCKETS = "arn:${{AWS::Partition}}:s3:::{stack}-*"
TABLES = "arn:${{AWS::Partition}}:dynamodb:*:${{AWS::AccountId}}:table/{stack}-*"
FUNCTIONS = "arn:${{AWS::Partition}}:lambda:*:${{AWS::AccountId}}:function:{stack}-*"
KEYS = "arn:${{AWS::Partition}}:kms:*:${{AWS::AccountId}}:key/*"
VAULTS = "arn:${{AWS::Partition}}:backup:*:${{AWS::AccountId}}:backup-vault:{stack}-*"
LOG_GROUPS = [
    "arn:${{AWS::Partition}}:logs:*:${{AWS::AccountId}}:log-group:/aws/lambda/{stack}-*",
    "arn:${{AWS::Partition}}:logs:*:${{AWS::AccountId}}:log-group:/{project}/${{Environment}}/*",
]
# Keys have ids AWS generates: the project's are the ones its aliases name, the stack key's
# and the parameters key's
# (https://docs.aws.amazon.com/kms/latest/developerguide/conditions-kms.html#conditions-kms-resource-aliases).
KEY_ALIASES = {
    "ForAnyValue:StringLike": {"kms:ResourceAliases": ["alias/{stack}", "alias/{stack}-*"]}
}
IAM = "arn:${{AWS::Partition}}:iam::${{AWS::AccountId}}"
EXECUTION_ROLE = IAM + ":role/{stack}-cloudformation"
EXECUTION_POLICIES = IAM + ":policy/{stack}-cloudformation-*"
BOUNDARY = IAM + ":policy/{stack}-boundary"

STACK_READS = (
    "cloudformation:DescribeStacks",
    "cloudformation:DescribeStackEvents",
    "cloudformation:DescribeStackResource",
    "cloudformation:DescribeStackResources",
    "cloudformation:GetTemplate",
    "cloudformation:GetTemplateSummary",
    "cloudformation:ListStackResources",
)

COMMANDS: dict[str, tuple[Grant, ...]] = {
    "deploy": (
        Grant(
            (
                "cloudformation:CreateChangeSet",
                "cloudformation:DeleteChangeSet",
                "cloudformation:DescribeChangeSet",
                "cloudformation:ExecuteChangeSet",
                # samconfig.toml tags the stack; tagging it on create is authorized apart
                # (https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/control-access-with-iam.html).
                "cloudformation:TagResource",
                *STACK_READS,
            ),
            (STACK,),
        ),
        Grant(("cloudformation:CreateChangeSet",), (TRANSFORM,)),
        # `--resolve-s3` reads SAM's managed stack for the bucket's name.
        Grant(("cloudformation:DescribeStacks",), (SAM_STACK,)),
        Grant(("s3:GetObject", "s3:PutObject"), (OBJECTS,)),
        Grant(("s3:GetBucketLocation", "s3:ListBucket"), (BUCKET,)),
        # https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_use_passrole.html
        Grant(
            ("iam:PassRole",),
            (EXECUTION_ROLE,),
            {"StringEquals": {"iam:PassedToService": "cloudformation.amazonaws.com"}},
        ),
        # The preflight's reads: parameters exist, the parameters key, the tables.
        Grant(("ssm:DescribeParameters",), ("*",)),
        # The import after a destroy (ops/adopt.py) looks for what the stack retained by
        # name: tables, buckets (HeadBucket is authorized as s3:ListBucket), the key through
        # its alias, the user pool in the list of pools, which names no resource, the backup
        # vault; and it deletes a failed first attempt before importing.
        Grant(("s3:ListBucket",), (STACK_BUCKETS,)),
        Grant(("cognito-idp:ListUserPools",), ("*",)),
        # The preflight compares the execution role's policies with the built ones, and the
        # template's roles with the boundary in the account.
        Grant(("iam:ListAttachedRolePolicies",), (EXECUTION_ROLE,)),
        Grant(("iam:GetPolicy", "iam:GetPolicyVersion"), (EXECUTION_POLICIES, BOUNDARY)),
        Grant(("cloudformation:DeleteStack",), (STACK,)),
        Grant(("kms:DescribeKey",), (KEYS,), KEY_ALIASES),
        Grant(("dynamodb:DescribeTable",), (TABLES,)),
        Grant(("backup:DescribeBackupVault",), (VAULTS,)),
    ),
    "outputs": (Grant(("cloudformation:DescribeStacks",), (STACK,)),),
    "logs": (
        Grant(STACK_READS, (STACK,)),
        Grant(
            ("logs:FilterLogEvents", "logs:DescribeLogStreams"),
            # A trailing `*` covers the `:*` suffix some calls are authorized on.
            tuple(LOG_GROUPS),
        ),
        Grant(("logs:GetLogEvents",), tuple(f"{g}:log-stream:*" for g in LOG_GROUPS)),
        Grant(("logs:DescribeLogGroups",), ("*",)),
        # sam logs reads each function's log group from its configuration
        # (samcli/lib/observability/cw_logs/cw_log_group_provider.py).
        Grant(("lambda:GetFunctionConfiguration",), (FUNCTIONS,)),
    ),
    # https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/detect-drift-stack.html
    "drift": (
        Grant(
            (
                "cloudformation:DescribeStackResourceDrifts",
                "cloudformation:DetectStackDrift",
                "cloudformation:DetectStackResourceDrift",
                *STACK_READS,
            ),
            (STACK,),
        ),
        # It names no resource in the Service Authorization Reference.
        Grant(("cloudformation:DescribeStackDriftDetectionStatus",), ("*",)),
    ),
    "destroy": (
        Grant(("cloudformation:DeleteStack", "cloudformation:DescribeStacks"), (STACK,)),
        Grant(
            ("iam:PassRole",),
            (EXECUTION_ROLE,),
            {"StringEquals": {"iam:PassedToService": "cloudformation.amazonaws.com"}},
        ),
    ),
}


def _formatted(value: Any, stack: str, project: str) -> Any:
    if isinstance(value, dict):
        return {k: _formatted(v, stack, project) for k, v in sorted(value.items())}
    if isinstance(value, list):
        return [_formatted(v, stack, project) for v in value]
    return value.format(stack=stack, project=project) if isinstance(value, str) else value


def within(resources: Sequence[str], wider: Sequence[str]) -> bool:
    """Each resource matched by one of `wider`, whose `*` matches any characters, as in IAM
    (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_resource.html)."""
    return all(any(fnmatch.fnmatchcase(r, w) for w in wider) for r in resources)


def statements(project: str, extra: list[Grant] | None = None) -> list[dict[str, Any]]:
    """The grants of every command, and `extra`, merged where resources and condition are
    equal."""
    stack = f"{project}-${{Environment}}"
    merged: dict[tuple[tuple[str, ...], str], set[str]] = {}
    conditions: dict[str, dict[str, Any] | None] = {}
    for grants in [*COMMANDS.values(), extra or []]:
        for grant in grants:
            resources = tuple(
                sorted(r.format(stack=stack, project=project) for r in grant.resources)
            )
            condition = _formatted(grant.condition, stack, project)
            key = repr(condition)
            conditions[key] = condition
            merged.setdefault((resources, key), set()).update(grant.actions)
    # A grant another statement already covers (its actions, on a superset of its resources,
    # under the same condition) adds nothing but length against IAM's size limit.
    covered = {
        (resources, key)
        for (resources, key), actions in merged.items()
        for (wider, other), more in merged.items()
        if (wider, other) != (resources, key) and other == key
        and within(resources, wider) and actions <= more
    }  # fmt: skip
    result = []
    for (resources, key), actions in sorted(merged.items(), key=lambda i: (sorted(i[1]), i[0])):
        if (resources, key) in covered:
            continue
        statement: dict[str, Any] = {
            "Effect": "Allow",
            "Action": sorted(actions),
            "Resource": list(resources),
        }
        if conditions[key]:
            statement["Condition"] = conditions[key]
        result.append(statement)
    return result


# Drift detection reads each resource's live configuration with the caller's credentials
# (https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/detect-drift-stack.html), so
# the deployer needs the read handlers' actions; not these, which read data or secrets, not
# configuration.
NOT_FOR_DRIFT: dict[str, str] = {
    "kms:Decrypt": "decrypts data; drift compares configuration",
    "cognito-idp:ListUserPoolClientSecrets": "returns app client secrets",
}


def drift_grants(reads: list[Need], project: str) -> list[Grant]:
    """The read handlers' needs (template_gen/execution.py with the read operation), on any
    name of the stack's, one grant per service: an action never matches an ARN of a type it
    does not take, so the union of a service's resources grants nothing more, and the policy
    stays within its size."""
    stack = f"{project}-${{Environment}}"
    # The trailing `*` covers qualifiers and suffixes too (`:live`, `:*`, `/group`).
    widen = [
        (re.compile(re.escape(stack) + r"-.*$"), f"{stack}-*"),
        (
            re.compile(re.escape(f"/{project}/${{Environment}}/") + ".*$"),
            f"/{project}/${{Environment}}/*",
        ),
    ]
    actions: dict[tuple[str, bool], set[str]] = defaultdict(set)
    resources: dict[tuple[str, bool], set[str]] = defaultdict(set)
    for need in reads:
        if need.action in NOT_FOR_DRIFT:
            continue
        resource = need.resource
        for pattern, wider in widen:
            resource = pattern.sub(wider, resource)
        key = (need.action.split(":")[0], resource == "*")
        actions[key].add(need.action)
        # Grants are format strings: the braces of the Sub variables are doubled.
        resources[key].add(resource.replace("{", "{{").replace("}", "}}"))
    return [
        Grant(
            tuple(sorted(actions[key])),
            tuple(sorted(resources[key])),
            KEY_ALIASES if key[0] == "kms" and not key[1] else None,
        )
        for key in sorted(actions)
    ]
