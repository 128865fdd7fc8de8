"""Generated authorization cases for the differential test: identity, resource and key
policies, and requests with the contexts the emulator builds (offline/iam/request_context.py),
over every condition operator family. One case is one request against its policies.

Choices are drawn by index from cached strategies (`_pick`), which keeps hypothesis fast
enough for thousands of cases a run."""

from __future__ import annotations

import copy
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any, TypeVar

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import seed as seeded
from hypothesis import strategies as st

from aws_semantics.policy import ANONYMOUS as ANONYMOUS_ARN
from aws_semantics.policy import Request
from offline.iam.request_context import ANONYMOUS, Arrival, Requester, complete

T = TypeVar("T")

ACCOUNT, OTHER = "123456789012", "210987654321"
REGION = "us-east-1"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/app-role"
SESSION = f"arn:aws:sts::{ACCOUNT}:assumed-role/app-role/app-session"
ROOT = f"arn:aws:iam::{ACCOUNT}:root"
PARAMETER = f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter/app/dev/key"
KEY = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
TABLE = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/items"
LOG_GROUP = f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/aws/lambda/fn"
REQUESTER = Requester(
    SESSION,
    ACCOUNT,
    "AssumedRole",
    ROLE,
    "AROAEXAMPLEID:app-session",
    {"team": "items"},
    datetime(2026, 12, 5, 9, 0, tzinfo=UTC),
)


@dataclass(frozen=True)
class Scenario:
    """One request of the kind the product's functions make: its action, resource, own keys,
    and which resource policy AWS evaluates with it."""

    action: str
    resource: str
    own: dict[str, str | list[str]]
    policy: str = ""  # "bucket", "key" or "" (none)
    via: str = ""
    anonymous: bool = False  # an unsigned request (S3 only): no identity policies


SCENARIOS = [
    Scenario(
        "dynamodb:GetItem",
        TABLE,
        {"dynamodb:LeadingKeys": ["alice"], "aws:ResourceAccount": ACCOUNT},
    ),
    Scenario(
        "dynamodb:Query",
        f"{TABLE}/index/by-created",
        {"dynamodb:LeadingKeys": ["alice"], "dynamodb:Select": "ALL_ATTRIBUTES"},
    ),
    Scenario(
        "dynamodb:PutItem",
        TABLE,
        {
            "dynamodb:LeadingKeys": ["bob"],
            "dynamodb:ReturnValues": "ALL_OLD",
            "dynamodb:EnclosingOperation": "TransactWriteItems",
        },
    ),
    Scenario(
        "dynamodb:UpdateItem",
        TABLE,
        {
            "dynamodb:LeadingKeys": ["alice", "bob"],
            "dynamodb:Attributes": ["name", "updated"],
            "aws:ResourceTag/team": "items",
        },
    ),
    Scenario("dynamodb:ListTables", "*", {}),
    Scenario(
        "s3:GetObject",
        "arn:aws:s3:::assets-bucket/items/alice/a.png",
        {"s3:ExistingObjectTag/kind": "photo", "s3:ResourceAccount": ACCOUNT},
        "bucket",
    ),
    Scenario(
        "s3:PutObject",
        "arn:aws:s3:::assets-bucket/items/bob/b.png",
        {"s3:x-amz-acl": "private", "s3:RequestObjectTagKeys": ["kind", "owner"]},
        "bucket",
    ),
    Scenario(
        "s3:ListBucket",
        "arn:aws:s3:::assets-bucket",
        {"s3:prefix": "items/", "s3:max-keys": "100"},
        "bucket",
    ),
    Scenario(
        "s3:DeleteObject",
        "arn:aws:s3:::assets-bucket/items/bob/b.png",
        {"s3:ResourceAccount": ACCOUNT},
        "bucket",
    ),
    Scenario(
        "s3:GetObject",
        "arn:aws:s3:::assets-bucket/public/logo.png",
        {"s3:ExistingObjectTag/kind": "logo"},
        "bucket",
        anonymous=True,
    ),
    Scenario(
        "s3:ListBucket",
        "arn:aws:s3:::assets-bucket",
        {"s3:prefix": "public/", "s3:max-keys": "1000"},
        "bucket",
        anonymous=True,
    ),
    Scenario("ssm:GetParameter", PARAMETER, {"aws:ResourceTag/team": "items"}),
    Scenario(
        "ssm:GetParametersByPath",
        f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter/app/dev",
        {"ssm:Recursive": "true"},
    ),
    Scenario("logs:PutLogEvents", f"{LOG_GROUP}:log-stream:2026/12/05/x", {}),
    Scenario(
        "logs:CreateLogGroup",
        LOG_GROUP,
        {"aws:RequestTag/team": "items", "aws:TagKeys": ["team"]},
    ),
    Scenario(
        "kms:Decrypt",
        KEY,
        {
            "kms:ViaService": f"ssm.{REGION}.amazonaws.com",
            "kms:CallerAccount": ACCOUNT,
            "kms:EncryptionContext:PARAMETER_ARN": PARAMETER,
            "kms:EncryptionContextKeys": ["PARAMETER_ARN"],
            "kms:EncryptionAlgorithm": "SYMMETRIC_DEFAULT",
            "kms:ResourceAliases": ["alias/app", "alias/app-dev"],
            "kms:KeySpec": "SYMMETRIC_DEFAULT",
        },
        "key",
        "ssm",
    ),
    Scenario(
        "kms:GenerateDataKey",
        KEY,
        {
            "kms:ViaService": f"s3.{REGION}.amazonaws.com",
            "kms:CallerAccount": ACCOUNT,
            "kms:EncryptionContext:aws:s3:arn": "arn:aws:s3:::assets-bucket",
            "kms:EncryptionContextKeys": ["aws:s3:arn"],
            "kms:KeyUsage": "ENCRYPT_DECRYPT",
        },
        "key",
        "s3",
    ),
    Scenario(
        "kms:Encrypt",
        KEY,
        {
            "kms:CallerAccount": ACCOUNT,
            "kms:EncryptionContextKeys": ["team", "stage"],
            "kms:EncryptionAlgorithm": "SYMMETRIC_DEFAULT",
        },
        "key",
    ),
]


@dataclass
class Case:
    scenario: Scenario
    context: dict[str, str | list[str]]
    identity: list[dict[str, Any]]
    resource_policy: dict[str, Any] | None

    def request(self) -> Request:
        """The case as aws_semantics/policy.py reads it: a role session (its role ARN its alias),
        or an anonymous caller, which has no account (offline/enforcement/gate.py)."""
        if self.scenario.anonymous:
            return Request(self.scenario.action, self.scenario.resource, ANONYMOUS_ARN, "",
                           self.context)  # fmt: skip
        return Request(self.scenario.action, self.scenario.resource, SESSION, ACCOUNT,
                       self.context, (ROLE,))  # fmt: skip

    def simulation(self) -> dict[str, Any]:
        """The case as iam-simulate reads it (its `Simulation` type)."""
        principal: Any = {"type": "Anonymous"} if self.scenario.anonymous else SESSION
        simulation: dict[str, Any] = {
            "request": {
                "principal": principal,
                "action": self.scenario.action,
                "resource": {"resource": self.scenario.resource, "accountId": ACCOUNT},
                "contextVariables": self.context,
            },
            "identityPolicies": [
                {"name": f"p{i}", "policy": p} for i, p in enumerate(self.identity)
            ],
            "serviceControlPolicies": [],
            "resourceControlPolicies": [],
        }
        if self.resource_policy is not None:
            simulation["resourcePolicy"] = self.resource_policy
        return simulation


def _context(scenario: Scenario, minutes: int, ip: str, agent: str) -> dict[str, Any]:
    when = datetime(2026, 12, 5, 10, 0, tzinfo=UTC) + timedelta(minutes=minutes)
    arrival = Arrival(when, REGION, ip, agent)
    requester = ANONYMOUS if scenario.anonymous else REQUESTER
    return complete(
        scenario.action, scenario.resource, scenario.own, requester, arrival, scenario.via
    )


# --- drawing ---------------------------------------------------------------------------------


@cache
def _index(count: int) -> st.SearchStrategy[int]:
    return st.integers(0, count - 1)


def _pick(draw: st.DrawFn, options: Sequence[T]) -> T:
    return options[draw(_index(len(options)))]


def _some(draw: st.DrawFn, options: Sequence[T], most: int = 2) -> list[T]:
    """One to `most` distinct options (a JSON true and "true" are distinct)."""
    chosen: list[T] = []
    for _ in range(1 + draw(_index(most))):
        option = _pick(draw, options)
        if all((type(option), option) != (type(c), c) for c in chosen):
            chosen.append(option)
    return chosen


def _one_or_list(values: list[Any]) -> Any:
    return values if len(values) > 1 else values[0]


# --- condition values ------------------------------------------------------------------------


def _variants(value: str) -> list[str]:
    """The value, near misses, and wildcard forms that match it or not."""
    found = [value, value.upper(), value[:-1] + "x" if value else "x", value + "-other"]
    if len(value) > 3:
        found += [value[:3] + "*", "*" + value[-3:], value[:2] + "?" + value[3:], "*", "?"]
    return found


def _arn_values(value: str) -> list[str]:
    parts = value.split(":")
    found = [value, value.replace("app-role", "other-role")]
    if len(parts) >= 6:
        found += [
            ":".join([*parts[:3], "*", *parts[4:]]),
            ":".join([*parts[:5], "*"]),
            ":".join([*parts[:4], "*", *parts[5:]]),
            value[:-2] + "*",
            value + "/*",
        ]
    return found


# The operators of each family (reference_policies_elements_condition_operators.html).
FAMILIES = {
    "String": ["StringEquals", "StringNotEquals", "StringEqualsIgnoreCase",
               "StringNotEqualsIgnoreCase", "StringLike", "StringNotLike"],
    "Arn": ["ArnEquals", "ArnLike", "ArnNotEquals", "ArnNotLike"],
    "Bool": ["Bool"],
    "Numeric": ["NumericEquals", "NumericNotEquals", "NumericLessThan", "NumericLessThanEquals",
                "NumericGreaterThan", "NumericGreaterThanEquals"],
    "Date": ["DateEquals", "DateNotEquals", "DateLessThan", "DateLessThanEquals",
             "DateGreaterThan", "DateGreaterThanEquals"],
    "Ip": ["IpAddress", "NotIpAddress"],
    "Binary": ["BinaryEquals"],
}  # fmt: skip
STRING_KEYS = [
    "aws:RequestedRegion",
    "aws:PrincipalAccount",
    "aws:userid",
    "aws:PrincipalType",
    "aws:PrincipalTag/team",
    "aws:UserAgent",
    "aws:PrincipalTag/missing",
    "aws:SourceVpce",
]
ARN_KEYS = ["aws:PrincipalArn", "aws:SourceArn"]
BOOL_KEYS = [
    "aws:SecureTransport",
    "aws:ViaAWSService",
    "aws:MultiFactorAuthPresent",
    "aws:PrincipalIsAWSService",
]
# aws:EpochTime is a date and a number: "Use ... with date or numeric condition operators"
# (reference_policies_condition-keys.html#condition-keys-epochtime).
NUMBERS: dict[str, list[Any]] = {
    "s3:max-keys": ["0", "99", "100", "100.0", "101", "1000", 100],
    "aws:EpochTime": ["1796464800", "1796468400", 1796470000, "0"],
    "aws:MultiFactorAuthAge": ["3600", 0],
}
DATE_KEYS = ["aws:CurrentTime", "aws:TokenIssueTime", "aws:EpochTime"]
DATES = [
    "2026-12-05T09:00:00Z",
    "2026-12-05T10:00:00Z",
    "2026-12-05T10:30:00Z",
    "2026-12-06T00:00:00Z",
    "2025-01-01T00:00:00Z",
    "2026-12-05",  # a date alone: its midnight, UTC
    "2026-12-05T10:00:00.000Z",
    "2026-12-05T11:00:00+01:00",
    "1796464800",
    "1796468400",
]
CIDRS = [
    "127.0.0.0/8",
    "127.0.0.1/32",
    "127.0.0.1",
    "10.0.0.0/8",
    "203.0.113.0/24",
    "::1/128",
    "2001:db8::/32",
    "0.0.0.0/0",
]
BINARY_KEYS = ["aws:UserAgent", "aws:PrincipalTag/team"]
NULL_KEYS = ["aws:SourceVpc", "aws:PrincipalOrgID", "aws:TokenIssueTime", "aws:PrincipalArn"]
OPERATOR_FAMILIES = [*FAMILIES, "Null", "Multi"]


def _multivalued(draw: st.DrawFn, context: dict[str, Any]) -> tuple[str, str, Any]:
    """A multivalued key (or one absent), with a set operator or, to see it refused, none."""
    keys = [k for k, v in context.items() if isinstance(v, list)] + ["aws:TagKeys"]
    key = _pick(draw, keys)
    present = context.get(key, ["kind"])
    pool = sorted({*present, *(v + "x" for v in present), "other", "*", present[0][:2] + "*"})
    base = _pick(draw, ["StringEquals", "StringLike", "StringNotEquals", "StringNotLike",
                        "StringEqualsIgnoreCase"])  # fmt: skip
    setop = _pick(draw, ["ForAnyValue:", "ForAllValues:", ""])
    suffix = _pick(draw, ["", "", "IfExists"])
    return f"{setop}{base}{suffix}", key, _some(draw, pool, 3)


def condition(draw: st.DrawFn, context: dict[str, Any], own: list[str]) -> tuple[str, str, Any]:
    """(operator, key, values) of one condition, of any operator family."""
    family = _pick(draw, OPERATOR_FAMILIES)
    if family == "Null":
        key = _pick(draw, [*sorted(context), *NULL_KEYS])
        return "Null", key, _pick(draw, ["true", "false", True, False])
    if family == "Multi":
        return _multivalued(draw, context)
    base = _pick(draw, FAMILIES[family])
    pool: list[Any]
    if family == "String":
        key = _pick(draw, [k for k in own if isinstance(context.get(k), str)] + STRING_KEYS)
        pool = _variants(str(context.get(key, "value")))
    elif family == "Arn":
        key = _pick(draw, ARN_KEYS)
        pool = _arn_values(str(context.get(key, ROLE)))
    elif family == "Bool":
        key, pool = _pick(draw, BOOL_KEYS), [True, False, "true", "false", "TRUE"]
    elif family == "Numeric":
        key = _pick(draw, sorted(NUMBERS))
        pool = NUMBERS[key]
    elif family == "Date":
        key, pool = _pick(draw, DATE_KEYS), DATES
    elif family == "Ip":
        key, pool = "aws:SourceIp", CIDRS
    else:  # Binary: base64 text, compared as given
        key = _pick(draw, BINARY_KEYS)
        pool = [str(context.get(key, "QmluYXJ5")), "QmluYXJ5VmFsdWU=", "aXRlbXM="]
    values = _some(draw, pool)
    suffix = _pick(draw, ["", "IfExists"])
    setop = _pick(draw, ["", "", "", "ForAnyValue:", "ForAllValues:"])
    return f"{setop}{base}{suffix}", key, _one_or_list(values)


# --- statements ------------------------------------------------------------------------------


def _resource_patterns(resource: str, service: str) -> list[str]:
    """Resource entries that name the resource or nearly do: whole segments of `*`, a `*` or
    `?` inside a segment, a segment's last `*` (past colons), and short ARNs."""
    if resource == "*":
        return ["*", f"arn:aws:{service}:{REGION}:{ACCOUNT}:*", f"arn:aws:{service}:*"]
    parts = resource.split(":")
    found = [
        "*",
        resource,
        resource + "x",
        resource[:-2] + "?" + resource[-1:],
        ":".join([*parts[:3], "*", *parts[4:]]),  # any region
        ":".join([*parts[:4], "*", *parts[5:]]),  # any account
        ":".join([*parts[:5], "*"]),  # any resource of the account
        resource[:-2] + "*",
        resource + "/*",
        f"arn:aws:{service}:{parts[3][:3]}*",  # short: the last segment's * spans the rest
        ":".join([*parts[:3], "*", *parts[5:]]),  # short: the region's * spans the account
    ]
    if "/" in resource:
        head, _, tail = resource.rpartition("/")
        found += [f"{head}/*", f"{head.split('/')[0]}/*/{tail}", f"{head[:-2]}*/{tail}"]
    if ":log-stream:" in resource:  # a resource part with colons of its own
        group, _, stream = resource.partition(":log-stream:")
        found += [
            f"{group}:log-stream:*",
            f"{group[:-2]}*",  # the group's last *: every stream of every group fn*
            f"{group.rsplit(':', 1)[0]}:*:log-stream:{stream}",
            f"{group.rsplit(':', 1)[0]}:/aws/*/fn:log-stream:*",  # * inside its segment
            f"{group}?log-stream:*",  # ? in place of a colon
            f"{group.rsplit(':', 1)[0]}:/aws/*/{stream.rsplit('/', 1)[1]}",  # * across colons
        ]
    return found


PRINCIPALS: list[Any] = [
    "*",
    {"AWS": "*"},
    {"AWS": ACCOUNT},
    {"AWS": ROOT},
    {"AWS": ROLE},
    {"AWS": SESSION},
    {"AWS": [ROLE, ROOT]},
    {"AWS": [SESSION, ROLE, ROOT]},
    {"AWS": [SESSION, ROLE]},
    {"AWS": f"arn:aws:iam::{OTHER}:root"},
    {"Service": "s3.amazonaws.com"},
    {"Federated": "cognito-identity.amazonaws.com"},
    {"AWS": [f"arn:aws:iam::{OTHER}:root", "*"]},
]


def statement(
    draw: st.DrawFn, scenario: Scenario, context: dict[str, Any], resource_policy: bool
) -> dict[str, Any]:
    service, name = scenario.action.split(":")
    action_pool = [
        scenario.action,
        f"{service}:*",
        f"{service}:{name[:3]}*",
        "*",
        f"{service}:{name[:-1]}?",
        f"{service}:Other{name}",
        scenario.action.upper(),
        "s3:GetObject" if service != "s3" else "dynamodb:GetItem",
    ]
    chosen: dict[str, Any] = {"Effect": _pick(draw, ["Allow", "Allow", "Deny"])}
    chosen["NotAction" if draw(_index(6)) == 0 else "Action"] = _one_or_list(
        _some(draw, action_pool)
    )
    resources = _some(draw, _resource_patterns(scenario.resource, service))
    chosen["NotResource" if draw(_index(6)) == 0 else "Resource"] = _one_or_list(resources)
    if resource_policy:
        if draw(_index(6)) == 0:
            # "NotPrincipal must be used with "Effect":"Deny""
            # (reference_policies_elements_notprincipal.html).
            chosen["Effect"] = "Deny"
            chosen["NotPrincipal"] = _pick(draw, PRINCIPALS)
        else:
            chosen["Principal"] = _pick(draw, PRINCIPALS)
    block: dict[str, dict[str, Any]] = {}
    for _ in range(draw(_index(3))):
        operator, key, values = condition(draw, context, list(scenario.own))
        if draw(_index(8)) == 0:  # "Condition key names are not case-sensitive"
            key = key.upper()
        block.setdefault(operator, {})[key] = values
    if block:
        chosen["Condition"] = block
    return chosen


def _document(statements: list[dict[str, Any]]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": statements}


@st.composite
def case(draw: st.DrawFn) -> Case:
    scenario = _pick(draw, SCENARIOS)
    context = _context(
        scenario,
        draw(st.integers(-60, 60)),
        _pick(draw, ["127.0.0.1", "10.1.2.3", "::1"]),
        _pick(draw, ["Boto3/1.40 Python/3.14", "aws-cli/2"]),
    )
    # An anonymous caller has no identity policies; every other caller has one at least
    # where no resource policy is read.
    fewest = 0 if scenario.policy else 1
    identity_count = 0 if scenario.anonymous else fewest + draw(_index(3 - fewest))
    identity = [
        _document([statement(draw, scenario, context, False) for _ in range(1 + draw(_index(3)))])
        for _ in range(identity_count)
    ]
    resource_policy = None
    if scenario.policy == "key" or (scenario.policy and draw(_index(4)) > 0):
        statements = [statement(draw, scenario, context, True) for _ in range(1 + draw(_index(3)))]
        if scenario.policy == "key":
            for one in statements:  # key policies name their key as "*"
                one.pop("NotResource", None)
                one["Resource"] = "*"
        resource_policy = _document(statements)
    return Case(scenario, context, identity, copy.deepcopy(resource_policy))


def features(one: Case) -> set[str]:
    """The operators, keys, elements and callers a case uses: what the run covers."""
    caller = "anonymous" if one.scenario.anonymous else "session"
    found = {f"action:{one.scenario.action}", f"caller:{caller}"}
    for document in [*one.identity, *([one.resource_policy] if one.resource_policy else [])]:
        for statement_ in document["Statement"]:
            found |= {f"element:{k}" for k in statement_ if k != "Condition"}
            for operator, tests in statement_.get("Condition", {}).items():
                found.add(f"operator:{operator}")
                found |= {f"key:{key.lower()}" for key in tests}  # names ignore case
    return found


def _identity(one: Case) -> str:
    return json.dumps(one.simulation(), sort_keys=True)


def _drawn(examples: int, seed: int) -> list[Case]:
    found: list[Case] = []

    @seeded(seed)
    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case())
    def collect(one: Case) -> None:
        found.append(one)

    collect()
    return found


def generated(count: int, seed: int) -> list[Case]:
    """`count` distinct cases drawn by hypothesis from `case()`, the same ones for the same
    seed. One case an example: hypothesis repeats parts of earlier examples (and would repeat
    a list's own elements), so a repeated case is skipped and rounds of examples, each with a
    seed of its own, are drawn until `count` are found (or five rounds are spent; then fewer
    come back, which the test counts)."""
    found: dict[str, Case] = {}
    for round_ in range(5):
        wanted = count - len(found)
        if wanted <= 0:
            break
        for one in _drawn(wanted + wanted // 5 + 10, seed + round_):
            found.setdefault(_identity(one), one)
    return list(found.values())[:count]
