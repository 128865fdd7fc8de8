"""Generated authorization cases for the differential test: identity, resource and key
policies, and requests with the contexts the emulator builds (offline/request_context.py),
over every condition operator family. One case is one request against its policies."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import seed as seeded
from hypothesis import strategies as st

from offline.request_context import Arrival, Requester, complete

ACCOUNT, OTHER = "123456789012", "210987654321"
REGION = "us-east-1"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/app-role"
SESSION = f"arn:aws:sts::{ACCOUNT}:assumed-role/app-role/app-session"
ROOT = f"arn:aws:iam::{ACCOUNT}:root"
PARAMETER = f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter/app/dev/key"
KEY = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
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


SCENARIOS = [
    Scenario(
        "dynamodb:GetItem",
        f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/items",
        {"dynamodb:LeadingKeys": ["alice"], "aws:ResourceAccount": ACCOUNT},
    ),
    Scenario(
        "dynamodb:Query",
        f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/items/index/by-created",
        {"dynamodb:LeadingKeys": ["alice"], "dynamodb:Select": "ALL_ATTRIBUTES"},
    ),
    Scenario(
        "dynamodb:PutItem",
        f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/items",
        {
            "dynamodb:LeadingKeys": ["bob"],
            "dynamodb:ReturnValues": "ALL_OLD",
            "dynamodb:EnclosingOperation": "TransactWriteItems",
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
        "ssm:GetParameter",
        f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter/app/dev/key",
        {"aws:ResourceTag/team": "items"},
    ),
    Scenario(
        "logs:PutLogEvents",
        f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/aws/lambda/fn:log-stream:2026/12/05/x",
        {},
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
]


@dataclass
class Case:
    scenario: Scenario
    context: dict[str, str | list[str]]
    identity: list[dict[str, Any]]
    resource_policy: dict[str, Any] | None
    features: set[str] = field(default_factory=set)  # what the case uses, for coverage

    def simulation(self) -> dict[str, Any]:
        simulation: dict[str, Any] = {
            "request": {
                "principal": SESSION,
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
    return complete(
        scenario.action, scenario.resource, scenario.own, REQUESTER, arrival, scenario.via
    )


# --- values ----------------------------------------------------------------------------------


def _variants(value: str) -> list[str]:
    """The value, near misses, and wildcard forms that match it or not."""
    found = [value, value.upper(), value[:-1] + "x" if value else "x", value + "-other"]
    if len(value) > 3:
        found += [value[:3] + "*", "*" + value[-3:], value[:2] + "?" + value[3:], "*", "?"]
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
DATE_KEYS = ["aws:CurrentTime", "aws:TokenIssueTime", "aws:EpochTime"]
CIDRS = ["127.0.0.0/8", "127.0.0.1/32", "10.0.0.0/8", "203.0.113.0/24", "::1/128", "0.0.0.0/0"]
DATES = [
    "2026-12-05T09:00:00Z",
    "2026-12-05T10:00:00Z",
    "2026-12-05T10:30:00Z",
    "2026-12-06T00:00:00Z",
    "2025-01-01T00:00:00Z",
    "1796464800",
    "1796468400",
]


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


@st.composite
def condition(draw: st.DrawFn, context: dict[str, Any], own: list[str]) -> tuple[str, str, Any]:
    """(operator, key, values) of one condition, of any operator family."""
    family = draw(
        st.sampled_from(["String", "Arn", "Bool", "Numeric", "Date", "Ip", "Null", "Multi"])
    )
    if family == "Null":
        key = draw(st.sampled_from([*sorted(context), "aws:SourceVpc", "aws:PrincipalOrgID"]))
        return "Null", key, draw(st.sampled_from(["true", "false", True, False]))
    if family == "Multi":
        multi = [k for k, v in context.items() if isinstance(v, list)] or ["aws:TagKeys"]
        key = draw(st.sampled_from(multi))
        present = context.get(key, ["kind"])
        pool = sorted({*present, *(v + "x" for v in present), "other", "*"})
        values = draw(st.lists(st.sampled_from(pool), min_size=1, max_size=3, unique=True))
        base = draw(
            st.sampled_from(["StringEquals", "StringLike", "StringNotEquals", "StringNotLike"])
        )
        setop = draw(st.sampled_from(["ForAnyValue:", "ForAllValues:", ""]))
        return f"{setop}{base}", key, values
    base = draw(st.sampled_from(FAMILIES[family]))
    if family == "String":
        keys = [k for k in own if isinstance(context.get(k), str)] + STRING_KEYS
        key = draw(st.sampled_from(keys))
        pool = _variants(str(context.get(key, "value")))
    elif family == "Arn":
        key = draw(st.sampled_from(ARN_KEYS))
        pool = _arn_values(str(context.get(key, ROLE)))
    elif family == "Bool":
        key, pool = draw(st.sampled_from(BOOL_KEYS)), [True, False, "true", "false"]
    elif family == "Numeric":
        numeric = [k for k in ("s3:max-keys", "s3:signatureAge") if k in context]
        key = draw(st.sampled_from(numeric or ["s3:max-keys"]))
        pool = ["0", "99", "100", "101", "1000", 100]
    elif family == "Date":
        key, pool = draw(st.sampled_from(DATE_KEYS)), DATES
    else:
        key, pool = "aws:SourceIp", CIDRS
    values = draw(st.lists(st.sampled_from(pool), min_size=1, max_size=2, unique_by=str))
    if_exists = draw(st.booleans()) and family != "Null"
    setop = draw(st.sampled_from(["", "", "", "ForAnyValue:", "ForAllValues:"]))
    operator = f"{setop}{base}{'IfExists' if if_exists else ''}"
    return operator, key, values if len(values) > 1 else values[0]


@st.composite
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
    actions = draw(st.lists(st.sampled_from(action_pool), min_size=1, max_size=2, unique=True))
    resource = scenario.resource
    resource_pool = (
        [
            "*",
            resource,
            resource + "x",
            *_arn_values(resource)[2:],
            resource[:-2] + "?" + resource[-1:],
        ]
        if resource != "*"
        else ["*", f"arn:aws:{service}:{REGION}:{ACCOUNT}:*"]
    )
    if resource != "*" and "/" in resource:
        head, _, tail = resource.rpartition("/")
        resource_pool += [f"{head}/*", f"{head.split('/')[0]}/*/{tail}", f"{head[:-2]}*/{tail}"]
    resources = draw(st.lists(st.sampled_from(resource_pool), min_size=1, max_size=2, unique=True))
    chosen: dict[str, Any] = {"Effect": draw(st.sampled_from(["Allow", "Allow", "Deny"]))}
    chosen["NotAction" if draw(st.integers(0, 5)) == 0 else "Action"] = (
        actions if len(actions) > 1 else actions[0]
    )
    chosen["NotResource" if draw(st.integers(0, 5)) == 0 else "Resource"] = (
        resources if len(resources) > 1 else resources[0]
    )
    if resource_policy:
        principal_pool: list[Any] = [
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
        ]
        principal = draw(st.sampled_from(principal_pool))
        chosen["NotPrincipal" if draw(st.integers(0, 6)) == 0 else "Principal"] = principal
    own = list(scenario.own)
    conditions = draw(st.lists(condition(context, own), max_size=2))
    if conditions:
        block: dict[str, dict[str, Any]] = {}
        for operator, key, values in conditions:
            block.setdefault(operator, {})[key] = values
        chosen["Condition"] = block
    return chosen


@st.composite
def case(draw: st.DrawFn) -> Case:
    scenario = draw(st.sampled_from(SCENARIOS))
    context = _context(
        scenario,
        draw(st.integers(-60, 60)),
        draw(st.sampled_from(["127.0.0.1", "10.1.2.3", "::1"])),
        draw(st.sampled_from(["Boto3/1.40 Python/3.14", "aws-cli/2"])),
    )
    identity = [
        {
            "Version": "2012-10-17",
            "Statement": draw(
                st.lists(statement(scenario, context, False), min_size=1, max_size=3)
            ),
        }
        for _ in range(draw(st.integers(0 if scenario.policy else 1, 2)))
    ]
    resource_policy = None
    if scenario.policy == "key" or (scenario.policy and draw(st.booleans())):
        statements = draw(st.lists(statement(scenario, context, True), min_size=1, max_size=3))
        if scenario.policy == "key":
            for one in statements:  # key policies name their key as "*"
                one.pop("NotResource", None)
                one["Resource"] = "*"
        resource_policy = {"Version": "2012-10-17", "Statement": statements}
    return Case(scenario, context, identity, copy.deepcopy(resource_policy))


def features(one: Case) -> set[str]:
    """The operators, keys and elements a case uses: what the run covers."""
    found = {f"action:{one.scenario.action}"}
    for document in [*one.identity, *([one.resource_policy] if one.resource_policy else [])]:
        for statement_ in document["Statement"]:
            found |= {f"element:{k}" for k in statement_ if k != "Condition"}
            for operator, tests in statement_.get("Condition", {}).items():
                found.add(f"operator:{operator}")
                found |= {f"key:{key}" for key in tests}
    return found


def generated(count: int, seed: int, batch: int = 25) -> list[Case]:
    """`count` cases drawn by hypothesis from `case()`, the same ones for the same seed."""
    found: list[Case] = []

    @seeded(seed)
    @settings(
        max_examples=-(-count // batch),
        deadline=None,
        database=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(st.lists(case(), min_size=batch, max_size=batch))
    def collect(cases: list[Case]) -> None:
        found.extend(cases)

    collect()
    return found[:count]
