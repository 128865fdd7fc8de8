"""Each resource operation of the emulator's CloudFormation, authorized as the stack acts.

A stack given a service role (`RoleARN` on CreateChangeSet, CreateStack, UpdateStack or
DeleteStack) performs every resource operation as a session of that role, and keeps the role
for later operations, delete included, that name none; a stack without one uses the caller's
credentials (https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/using-iam-servicerole.html).
Each handler operation needs the actions its type's registry schema lists
(template_gen/deploy_permissions.py); each is decided with aws_semantics/policy.py, the engine the
functions' own calls go through, and written to the audit log. The emulator's administrator is
allowed everything, so a stack acting as it is not checked.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from aws_semantics.policy import Decision, PolicyError, Request, authorize, within_boundary
from offline.iam import request_context
from offline.iam.audit import Audit
from offline.iam.callers import Caller, service_session
from offline.iam.request_context import Arrival
from template_gen import iam_reference
from template_gen.deploy_permissions import PERMISSIONS_BOUNDARY, Need, Place, Resource, needs

log = logging.getLogger("offline.emulator")

# The session name CloudFormation gives its session of a stack's service role, as the
# assumed-role ARN in its refusals shows.
SESSION_NAME = "AWSCloudFormation"

# Per stack id: the service role it keeps.
_roles: dict[str, str] = {}
_local = threading.local()


@dataclass(frozen=True)
class Serving:
    """The request being served: who signed it, the audit its decisions go to, how it came."""

    caller: Caller
    audit: Audit
    arrival: Arrival


class Refused(Exception):
    """A handler refused as the stack's principal: the resource fails, the stack rolls back."""

    def __init__(self, logical_id: str, kind: str, operation: str, reason: str) -> None:
        super().__init__(reason)
        self.logical_id = logical_id
        self.kind = kind
        self.operation = operation
        self.reason = reason


@contextmanager
def serving(caller: Caller, audit: Audit, arrival: Arrival) -> Iterator[None]:
    """For the duration of one request (offline/enforcement/gate.py), who made it."""
    previous = getattr(_local, "serving", None)
    _local.serving = Serving(caller, audit, arrival)
    try:
        yield
    finally:
        _local.serving = previous


def remember(stack_id: str, role_arn: str | None) -> None:
    """A RoleARN given to an operation becomes the stack's; none given keeps the one it has."""
    if role_arn:
        _roles[stack_id] = role_arn


def forget(stack_id: str) -> None:
    _roles.pop(stack_id, None)


def role_of(stack_id: str) -> str | None:
    return _roles.get(stack_id)


@contextmanager
def acting(stack_id: str | None, role_arn: str | None = None) -> Iterator[None]:
    """Resource operations in this block act as the stack's principal: the session of the role
    given (`role_arn`) or kept, else the caller of the request being served (none: an
    in-process call, not checked)."""
    role = role_arn or (_roles.get(stack_id) if stack_id else None)
    current: Serving | None = getattr(_local, "serving", None)
    principal = service_session(role, SESSION_NAME) if role else None
    if principal is None and current is not None:
        principal = current.caller
    previous = getattr(_local, "acting", None)
    _local.acting = (principal, current)
    try:
        yield
    finally:
        _local.acting = previous


def _principal() -> tuple[Caller | None, Serving | None]:
    acting_now = getattr(_local, "acting", None)
    return acting_now if acting_now is not None else (None, None)


def check(
    logical_id: str,
    kind: str,
    properties: Mapping[str, Any],
    physical_id: str | None,
    operation: str,
    region: str,
    account: str,
    done: frozenset[Need] = frozenset(),
) -> frozenset[Need]:
    """Authorize the handler's `operation` on this resource as the stack's principal; the Needs
    decided (to leave out of a later check), or Refused at the first refusal."""
    principal, current = _principal()
    if principal is None or principal.administrator:
        return frozenset()
    resource = Resource(kind, dict(properties), physical_id)
    try:
        found, _skipped = needs(resource, operation, Place.concrete(region, account))
    except Exception as error:  # a type the registry has no schema for: refuse, and say why
        raise Refused(
            logical_id, kind, operation,
            f"the emulator does not model the {operation} handler of {kind}: {error}",
        ) from None  # fmt: skip
    decided = set(done)
    for need in found:
        if need in decided:
            continue
        decided.add(need)
        decision = _decide(principal, current, need, region, account)
        if not decision.allowed:
            raise Refused(logical_id, kind, operation, handler_message(decision, need))
    return frozenset(decided)


def _current_boundary(action: str, resource: str, account: str) -> str | None:
    """The permissions boundary an existing role has, which iam:PermissionsBoundary holds for
    an action on that role ("whether the specified policy is set as the permissions boundary
    on the IAM entity": https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_iam-condition-keys.html#ck_PermissionsBoundary)."""
    keys = {k.lower() for k in iam_reference.action(action).condition_keys}
    if PERMISSIONS_BOUNDARY.lower() not in keys or ":role/" not in resource:
        return None
    from moto.iam.models import iam_backends

    try:
        role = iam_backends[account]["global"].get_role(resource.rsplit("/", 1)[-1])
    except Exception:  # not there (yet): the request carries no boundary
        return None
    return role.permissions_boundary_arn or None


def _decide(
    principal: Caller, current: Serving | None, need: Need, region: str, account: str
) -> Decision:
    own = dict(need.context)
    if PERMISSIONS_BOUNDARY not in own:
        boundary = _current_boundary(need.action, need.resource, account)
        if boundary:
            own[PERMISSIONS_BOUNDARY] = boundary
    arrival = current.arrival if current else Arrival(datetime.now(UTC), region, "127.0.0.1")
    try:
        context: Mapping[str, Any] = request_context.complete(
            need.action, need.resource, own, principal.requester, arrival
        )
    except request_context.NotCarried as error:
        # The reference lists the action on another resource type: decide on the handler's
        # own keys rather than refuse what AWS allows.
        log.debug("%s on %s: %s", need.action, need.resource, error)
        context = own
    request = Request(
        need.action, need.resource, principal.requester.arn, account, context, principal.aliases
    )
    try:
        decision = within_boundary(authorize(request, principal.policies), principal.boundary)
    except PolicyError as error:
        decision = Decision(False, request, f"because the emulator cannot evaluate: {error}", None)
    if current is not None:
        current.audit.record(
            role=principal.role, caller=principal.arn, action=need.action,
            resource=need.resource, on_behalf_of="cloudformation", allowed=decision.allowed,
            reason=decision.reason, policy=decision.by.policy if decision.by else None,
            sid=decision.by.sid if decision.by else None,
        )  # fmt: skip
    return decision


# The service name and error shape a handler's refusal carries, per action prefix, as the
# resource's event shows it
# (https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/troubleshooting.html).
SERVICE_NAMES = {
    "dynamodb": "DynamoDb", "iam": "Iam", "lambda": "Lambda", "s3": "S3", "sns": "Sns",
    "sqs": "Sqs", "kms": "Kms", "logs": "CloudWatchLogs", "cloudwatch": "CloudWatch",
    "cognito-idp": "CognitoIdentityProvider", "apigateway": "ApiGatewayV2",
}  # fmt: skip


def handler_message(decision: Decision, need: Need) -> str:
    """`Resource handler returned message: "<AccessDenied sentence> (Service: ..., Status
    Code: 400, Request ID: ...)" (RequestToken: ..., HandlerErrorCode: AccessDenied)`."""
    prefix = need.action.split(":", 1)[0]
    service = SERVICE_NAMES.get(prefix, prefix.capitalize())
    return (
        f'Resource handler returned message: "{decision.message()} (Service: {service}, '
        f'Status Code: 400, Request ID: {uuid.uuid4()})" '
        f"(RequestToken: {uuid.uuid4()}, HandlerErrorCode: AccessDenied)"
    )
