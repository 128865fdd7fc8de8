"""Who holds an access key the emulator is sent: the emulator's administrator, or a session of
a role issued by the emulator's STS (the function sandboxes get one each, as Lambda does).
Any other key is unknown, and its request is refused as AWS refuses an unknown key.

The administrator is the one long-term key pair of the emulator's account (`endpoint.
CREDENTIALS`): the deploy tooling, SAM CLI and the tests' own checks sign with it, and it is
allowed every call, like an account administrator. A session is a role's temporary
credentials: its secret, its session token and its expiry are the ones STS issued, and its
permissions are the role's policies.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any
from urllib.parse import unquote

from aws_semantics.policy import Policy
from offline.common.endpoint import ACCOUNT, CREDENTIALS
from offline.common.patching import wrap
from offline.iam.moto_state import backend
from offline.iam.request_context import Requester

ADMINISTRATOR = "the emulator's administrator"
ROOT = f"arn:aws:iam::{ACCOUNT}:root"


@dataclass(frozen=True)
class Caller:
    arn: str
    aliases: tuple[str, ...]  # the role a session belongs to, which a Principal may name
    role: str | None  # None for the emulator's administrator identity
    policies: tuple[Policy, ...]
    requester: Requester  # the caller as the global condition keys describe it
    secret: str
    session_token: str | None = None  # the token a session's requests must carry
    expires: datetime | None = None
    session_policy: str | None = None  # a policy passed to AssumeRole, which narrows a session
    boundary: tuple[Policy, ...] = ()  # the role's permissions boundary, which caps its policies

    @property
    def administrator(self) -> bool:
        return self.role is None


def administrator() -> Caller:
    requester = Requester(ROOT, ACCOUNT, "Account", ROOT, ACCOUNT)
    secret = CREDENTIALS["aws_secret_access_key"]
    return Caller(ADMINISTRATOR, (), None, (), requester, secret)


def caller_of(access_key: str) -> Caller | None:
    """The caller an access key belongs to; None for a key the emulator never issued."""
    if access_key == CREDENTIALS["aws_access_key_id"]:
        return administrator()
    session = _session(access_key)
    return _session_caller(session) if session is not None else None


# A session's caller as last built, with the role's state it was built from: the policies are
# read again only when the role changed, and their parsed statements kept (aws_semantics/policy.py).
_BUILT: dict[str, tuple[tuple[Any, ...], Caller]] = {}


def _session_caller(session: Any) -> Caller:
    from moto.iam.models import iam_backends

    role_name = session.role_arn.split("/")[-1]
    role = backend(iam_backends, "aws").get_role(role_name)
    return _cached(session, role, role_name, session.access_key_id)


def service_session(role_arn: str, session_name: str) -> Caller:
    """A session of `role_arn` that a service assumes to act for the account, as CloudFormation
    assumes a stack's service role; no key of it ever reaches the emulator."""
    from moto.iam.models import iam_backends

    role_name = role_arn.split("/")[-1]
    role = backend(iam_backends, "aws").get_role(role_name)
    now = datetime.now(UTC).replace(microsecond=0)
    session = SimpleNamespace(
        role_arn=role_arn, session_name=session_name, issued_at=now, expiration=now,
        secret_access_key="", session_token="", policy=None,
    )  # fmt: skip
    return _cached(session, role, role_name, f"{role_arn} {session_name}")


def _cached(session: Any, role: Any, role_name: str, key: str) -> Caller:
    # A managed policy applies through its default version
    # (https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies_managed-versioning.html).
    managed = tuple(
        (arn, version.document)
        for arn, policy in sorted(role.managed_policies.items())
        for version in policy.versions
        if version.is_default
    )
    inline = tuple(sorted(role.policies.items()))
    boundary = _boundary_document(role)
    state = (role.id, inline, managed, boundary, repr(role.tags), session.session_token)
    built = _BUILT.get(key)
    if built is not None and built[0] == state:
        return built[1]
    caller = _built(session, role, role_name, inline, managed, boundary)
    _BUILT[key] = (state, caller)
    return caller


def _built(
    session: Any,
    role: Any,
    role_name: str,
    inline: tuple[tuple[str, str], ...],
    managed: tuple[tuple[str, str], ...],
    boundary: tuple[str, str] | None = None,
) -> Caller:
    policies = tuple(
        Policy(f"role {role_name} / {name}", _document(document)) for name, document in inline
    ) + tuple(Policy(f"role {role_name} / {arn}", _document(document)) for arn, document in managed)
    arn = f"arn:aws:sts::{ACCOUNT}:assumed-role/{role_name}/{session.session_name}"
    # aws:userid of a role session is "role-id:caller-specified-role-name"
    # (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_variables.html#principaltable).
    requester = Requester(
        arn, ACCOUNT, "AssumedRole", session.role_arn, f"{role.id}:{session.session_name}",
        {str(t["Key"]): str(t["Value"]) for t in role.tags or []},
        getattr(session, "issued_at", None),
    )  # fmt: skip
    return Caller(
        arn, (session.role_arn,), role_name, policies, requester,
        str(session.secret_access_key), str(session.session_token),
        session.expiration.replace(tzinfo=UTC), session.policy or None,
        () if boundary is None else
        (Policy(f"role {role_name} boundary {boundary[0]}", _document(boundary[1])),),
    )  # fmt: skip


def _boundary_document(role: Any) -> tuple[str, str] | None:
    """The role's permissions boundary as (ARN, default version's document); moto keeps the ARN
    (https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies_boundaries.html)."""
    from moto.iam.models import iam_backends

    arn = getattr(role, "permissions_boundary_arn", None)
    if not arn:
        return None
    policy = backend(iam_backends, "aws").get_policy(arn)
    default = next(v for v in policy.versions if v.is_default)
    return (str(arn), str(default.document))


def _session(access_key: str) -> Any:
    """The role session (moto's STS assumed role) an access key was issued to, if any."""
    from moto.sts.models import sts_backends

    for session in backend(sts_backends, "aws").assumed_roles:
        if session.access_key_id == access_key:
            return session
    return None


def secret_of(access_key: str) -> str | None:
    """The secret of a key the emulator issued or knows; None for any other."""
    caller = caller_of(access_key)
    return caller.secret if caller else None


def _document(document: str) -> dict[str, Any]:
    # Inline policies are kept as text (stack_resources._role_policies_as_text), as managed
    # policy versions are.
    return dict(json.loads(unquote(document) if document.startswith("%7B") else document))


def install() -> None:
    """Sessions remember when STS issued them, for aws:TokenIssueTime
    (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html#condition-keys-tokenissuetime);
    moto keeps only the expiry."""
    from moto.sts.models import AssumedRole

    def make(original: Any) -> Any:
        def init(self: Any, *args: Any, **kwargs: Any) -> None:
            original(self, *args, **kwargs)
            self.issued_at = datetime.now(UTC).replace(microsecond=0)

        return init

    wrap(AssumedRole, "__init__", make)
