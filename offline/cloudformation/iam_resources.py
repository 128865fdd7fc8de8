"""The emulator's CloudFormation makes and changes IAM roles and managed policies as AWS's does.

moto's AWS::IAM::Role ignores `ManagedPolicyArns`, and its update changes only the
description: a role's inline policies, attached policies, boundary and trust policy stay as
first created. Its AWS::IAM::ManagedPolicy has no update, so a changed document never takes
effect. The bootstrap's execution role is made of attached managed policies, and a new
`make bootstrap` changes their documents: without these fixes the emulator would authorize a
deploy with policies AWS would not have
(https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-iam-role.html,
aws-resource-iam-managedpolicy.html: a changed PolicyDocument is an update without
interruption, which makes a new default version).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from offline.common.patching import wrap

# IAM keeps at most five versions of a managed policy
# (https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies_managed-versioning.html).
MAX_VERSIONS = 5


def _backend(account_id: str, region_name: str) -> Any:
    from moto.iam.models import iam_backends
    from moto.utilities.utils import get_partition

    return iam_backends[account_id][get_partition(region_name)]


def _text(document: Any) -> str:
    return document if isinstance(document, str) else json.dumps(document)


def _attach(backend: Any, role: Any, wanted: list[str]) -> None:
    """Exactly `wanted` attached to the role."""
    for arn in sorted(set(role.managed_policies) - set(wanted)):
        backend.detach_role_policy(arn, role.name)
    for arn in wanted:
        if arn not in role.managed_policies:
            backend.attach_role_policy(arn, role.name)


def _create_role(original: Callable[..., Any]) -> Callable[..., Any]:
    def create(cls: Any, name: str, cloudformation_json: dict[str, Any], account_id: str,
               region_name: str, **kw: Any) -> Any:  # fmt: skip
        role = original(name, cloudformation_json, account_id, region_name, **kw)
        wanted = list(cloudformation_json.get("Properties", {}).get("ManagedPolicyArns", []))
        _attach(_backend(account_id, region_name), role, wanted)
        return role

    return create


def _update_role(original: Callable[..., Any]) -> Callable[..., Any]:
    """Every property that changes without replacing the role, applied."""

    # The parameter names are moto's: it passes them by keyword (cloudformation/parsing.py).
    def update(
        cls: Any,
        original_resource: Any,
        new_resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
    ) -> Any:
        role = original_resource
        backend = _backend(account_id, region_name)
        properties = cloudformation_json.get("Properties", {})
        trust = properties.get("AssumeRolePolicyDocument")
        if trust is not None:
            backend.update_assume_role_policy(role.name, _text(trust))
        role.description = properties.get("Description", "")
        inline = {
            p["PolicyName"]: _text(p["PolicyDocument"]) for p in properties.get("Policies", [])
        }
        for name in sorted(set(role.policies) - set(inline)):
            backend.delete_role_policy(role.name, name)
        for name, document in inline.items():
            role.put_policy(name, document)
        _attach(backend, role, list(properties.get("ManagedPolicyArns", [])))
        boundary = properties.get("PermissionsBoundary")
        if boundary:
            backend.put_role_permissions_boundary(role.name, boundary)
        else:
            backend.delete_role_permissions_boundary(role.name)
        return role

    return update


def _update_managed_policy(cls: Any, original_resource: Any, new_resource_name: str,
                           cloudformation_json: dict[str, Any], account_id: str,
                           region_name: str) -> Any:  # fmt: skip
    """A changed document becomes the default version; the oldest other goes at the limit."""
    policy = original_resource
    backend = _backend(account_id, region_name)
    document = _text(cloudformation_json.get("Properties", {}).get("PolicyDocument", {}))
    current = next(v for v in policy.versions if v.is_default)
    if json.loads(current.document) == json.loads(document):
        return policy
    if len(policy.versions) >= MAX_VERSIONS:
        oldest = next(v for v in policy.versions if not v.is_default)
        backend.delete_policy_version(policy.arn, oldest.version_id)
    backend.create_policy_version(policy.arn, document, set_as_default=True)
    return policy


def install() -> None:
    from moto.iam import models

    wrap(models.Role, "create_from_cloudformation_json", _create_role)
    wrap(models.Role, "update_from_cloudformation_json", _update_role)
    wrap(
        models.ManagedPolicy,
        "update_from_cloudformation_json",
        lambda _original: _update_managed_policy,
    )
