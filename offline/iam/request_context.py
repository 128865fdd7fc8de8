"""The request context of one authorization check: the global condition keys AWS documents for
the caller and the request, then the action's own keys, checked against the Service
Authorization Reference (template_gen/iam_reference.py).

Global keys, each included when its "Availability" line on
https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html says
so (the anchor of each key's section is given beside it in GLOBAL_KEYS). A service's own keys
come from offline/iam/calls.py, which knows their values from the call; any key there that the
reference does not list for the action and its resource type is an error (NotCarried), as is
an action it does not list or a resource that is none of the action's resource types.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cached_property

from aws_semantics import policy
from template_gen import iam_reference

Context = dict[str, str | list[str]]
PAGE = "https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html"


class NotCarried(ValueError):
    """A check the reference says AWS does not make this way."""


@dataclass(frozen=True)
class Requester:
    """Who signed the request, as the principal keys describe it."""

    arn: str  # arn:aws:sts::<account>:assumed-role/<role>/<session>, or the account root
    account: str
    kind: str  # aws:PrincipalType: AssumedRole, Account, Anonymous
    principal_arn: str  # aws:PrincipalArn: a session's role ARN, not the session's
    user_id: str  # aws:userid: <role id>:<session name> for a session
    tags: Mapping[str, str] = field(default_factory=dict)  # the role's tags
    issued_at: datetime | None = None  # temporary credentials only

    @property
    def anonymous(self) -> bool:
        return self.kind == ANONYMOUS_KIND


ANONYMOUS_KIND = "Anonymous"
ANONYMOUS = Requester(policy.ANONYMOUS, "", ANONYMOUS_KIND, "", "")


@dataclass(frozen=True)
class Signature:
    """How the request was signed, for the keys S3 derives from it."""

    auth_type: str  # s3:authType: REST-HEADER, REST-QUERY-STRING, POST
    signed_at: datetime
    content_sha256: str | None = None  # the x-amz-content-sha256 header, if sent


@dataclass(frozen=True)
class Arrival:
    """The request as it arrived."""

    time: datetime  # timezone-aware UTC
    region: str  # the region the request was signed for
    source_ip: str
    user_agent: str | None = None
    referer: str | None = None
    signature: Signature | None = None
    # Requests reach the emulator over loopback only; it takes them as sent over TLS, as
    # every AWS SDK sends them (a plain-HTTP request cannot be shown here).
    secure: bool = True

    @cached_property
    def iso_time(self) -> str:
        return self.time.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

    @cached_property
    def epoch_time(self) -> str:
        return str(int(self.time.timestamp()))


def _bool(value: bool) -> str:
    return "true" if value else "false"


Value = Callable[[Requester, Arrival, str], str | list[str] | None]

# key -> (its section on PAGE, its value for a requester and arrival; `via` is the service
# that makes the call with the caller's credentials, or ""). None: absent from the context.
GLOBAL_KEYS: dict[str, tuple[str, Value]] = {
    # "always included in the request context"
    "aws:CurrentTime": ("condition-keys-currenttime", lambda r, a, via: a.iso_time),
    "aws:EpochTime": ("condition-keys-epochtime", lambda r, a, via: a.epoch_time),
    "aws:SecureTransport": ("condition-keys-securetransport", lambda r, a, via: _bool(a.secure)),
    "aws:RequestedRegion": ("condition-keys-requestedregion", lambda r, a, via: a.region),
    # "included in the request context, except when the requester uses a VPC endpoint"; when
    # a service calls on the caller's behalf it is the service's address, which is not known
    # here, so it is left out of those checks.
    "aws:SourceIp": ("condition-keys-sourceip", lambda r, a, via: None if via else a.source_ip),
    "aws:UserAgent": (
        "condition-keys-useragent",
        lambda r, a, via: None if via else a.user_agent,
    ),
    # "only if the request ... was invoked by linking from a web page URL in the browser"
    "aws:referer": ("condition-keys-referer", lambda r, a, via: None if via else a.referer),
    # Principal keys: in every signed request; an anonymous one has none but its type.
    "aws:PrincipalType": ("condition-keys-principaltype", lambda r, a, via: r.kind),
    "aws:PrincipalArn": (
        "condition-keys-principalarn",
        lambda r, a, via: None if r.anonymous else r.principal_arn,
    ),
    "aws:PrincipalAccount": (
        "condition-keys-principalaccount",
        lambda r, a, via: None if r.anonymous else r.account,
    ),
    "aws:userid": ("condition-keys-userid", lambda r, a, via: None if r.anonymous else r.user_id),
    "aws:PrincipalIsAWSService": (
        "condition-keys-principalisawsservice",
        lambda r, a, via: None if r.anonymous else "false",
    ),
    # "true when a service uses the credentials of an IAM principal to make a request on
    # behalf of the principal ... false when the principal makes the call directly"
    "aws:ViaAWSService": (
        "condition-keys-viaawsservice",
        lambda r, a, via: None if r.anonymous else _bool(bool(via)),
    ),
    # "only when the principal uses temporary credentials": a role session, without MFA here.
    "aws:MultiFactorAuthPresent": (
        "condition-keys-multifactorauthpresent",
        lambda r, a, via: "false" if r.issued_at else None,
    ),
    "aws:TokenIssueTime": (
        "condition-keys-tokenissuetime",
        lambda r, a, via: r.issued_at.strftime("%Y-%m-%dT%H:%M:%SZ") if r.issued_at else None,
    ),
}
# Keys a check carries about its resource, set by offline/iam/calls.py, each with its section.
RESOURCE_KEYS = {
    "aws:ResourceAccount": "condition-keys-resourceaccount",
    "aws:ResourceTag/": "condition-keys-resourcetag",
    "aws:RequestTag/": "condition-keys-requesttag",
    "aws:TagKeys": "condition-keys-tagkeys",
}
# "present in the request when a service that supports aws:CalledVia uses the credentials of
# an IAM principal to make a request to another service"; of the services here, the page
# lists DynamoDB (dynamodb.amazonaws.com) and KMS.
CALLED_VIA = frozenset({"dynamodb"})


def global_keys(requester: Requester, arrival: Arrival, via: str = "") -> Context:
    """The global keys of a request: made by `requester`, or with its credentials by the
    service `via` (the signing name: s3, ssm, dynamodb, logs)."""
    context: Context = {}
    for name, (_, value) in GLOBAL_KEYS.items():
        found = value(requester, arrival, via)
        if found is not None:
            context[name] = found
    if not requester.anonymous:
        for tag, tag_value in requester.tags.items():
            # "included ... for a principal using an IAM role with attached tags"
            context[f"aws:PrincipalTag/{tag}"] = tag_value
    if via in CALLED_VIA:
        service = f"{via}.amazonaws.com"
        context.update({
            "aws:CalledVia": [service], "aws:CalledViaFirst": service, "aws:CalledViaLast": service,
        })  # fmt: skip
    return context


def _is_global(key: str) -> bool:
    return key in GLOBAL_KEYS or any(key.startswith(k) for k in RESOURCE_KEYS)


def s3_signature_keys(arrival: Arrival) -> Context:
    """The keys S3 derives from how a request was signed
    (https://docs.aws.amazon.com/AmazonS3/latest/API/bucket-policy-s3-sigv4-conditions.html):
    s3:authType, s3:signatureversion, s3:signatureAge (milliseconds since the signature's
    date) and s3:x-amz-content-sha256."""
    signature = arrival.signature
    if signature is None:
        return {}
    age = (arrival.time - signature.signed_at).total_seconds() * 1000
    context: Context = {
        "s3:authType": signature.auth_type,
        "s3:signatureversion": "AWS4-HMAC-SHA256",
        "s3:signatureAge": str(max(0, int(age))),
    }
    if signature.content_sha256:
        context["s3:x-amz-content-sha256"] = signature.content_sha256
    return context


def complete(
    action: str,
    resource: str,
    own: Mapping[str, str | Sequence[str]],
    requester: Requester,
    arrival: Arrival,
    via: str = "",
) -> Context:
    """The whole context of one check of `action` on `resource`, whose own keys (from the call)
    are `own`: each must be a key the reference lists for the action and the resource's
    type, or a global key; the action and resource must be ones the reference lists."""
    try:
        entry = iam_reference.action(action)
        entry.resource_type(resource)
    except iam_reference.NotInReference as error:
        raise NotCarried(str(error)) from None
    context = global_keys(requester, arrival, via)
    if action.startswith("s3:") and not via:
        own = {**s3_signature_keys(arrival), **own}
    for key, value in own.items():
        if not (_is_global(key) or entry.carries(key, resource)):
            raise NotCarried(f"{key} is not a condition key of {entry.name} on {resource}")
        context[key] = value if isinstance(value, str) else list(value)
    return context
