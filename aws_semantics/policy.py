"""AWS policy evaluation for one account: does this request pass these policies?

A pure module: it takes parsed policy documents and a request and decides, the way AWS
documents it. Fetching policies and turning HTTP calls into requests is somebody else's job.

Rules and where they come from (each is repeated beside the code that implements it):
- evaluation order, explicit and implicit deny, identity vs resource policies:
  https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html
- Resource / NotResource, and wildcards within an ARN's colon-separated segments:
  https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_resource.html
  https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_notresource.html
- Principal / NotPrincipal, and the anonymous caller of an unsigned request (ANONYMOUS):
  https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html
  https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_notprincipal.html
- Condition operators, multiple keys and values, set operators:
  https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html
  https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_multi-value-conditions.html
- KMS key policies, which must allow before IAM counts:
  https://docs.aws.amazon.com/kms/latest/developerguide/key-policies.html
  https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-default.html
- AccessDenied wording:
  https://docs.aws.amazon.com/IAM/latest/UserGuide/troubleshoot_access-denied.html

Anything this module cannot evaluate faithfully (an unknown condition operator, a policy
variable, a malformed statement) raises instead of guessing.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from enum import Enum
from functools import cached_property, lru_cache
from typing import Any


class PolicyError(ValueError):
    """A policy document this module cannot evaluate as AWS would."""


class UnsupportedCondition(PolicyError):
    """A Condition this module does not implement; the statement's outcome would be a guess."""


@dataclass(frozen=True)
class Policy:
    label: str
    document: Mapping[str, Any]

    @cached_property
    def statements(self) -> tuple[tuple[Mapping[str, Any], _Parsed | None], ...]:
        """Each statement with its effect, actions and resources read once: a caller that keeps
        its Policy objects (offline/iam/callers.py does) reads them once, not on every request.
        None for a statement they cannot be read from, which is read on every evaluation, and
        refused there as it always was."""
        return tuple((statement, _parsed(statement)) for statement in _statements(self.document))


@dataclass(frozen=True)
class Request:
    action: str
    resource: str
    principal: str
    account: str
    context: Mapping[str, str | Sequence[str]]
    principal_aliases: tuple[str, ...] = ()


class Effect(Enum):
    ALLOW = "Allow"
    DENY = "Deny"
    NONE = "None"  # no statement applies: an implicit deny


@dataclass(frozen=True)
class Match:
    effect: Effect
    policy: str | None
    sid: str | None
    delegated: bool = False


NO_MATCH = Match(Effect.NONE, None, None)


# ---------------------------------------------------------------------------------------------
# Wildcards


@lru_cache(maxsize=4096)
def _glob(pattern: str, ignore_case: bool = False) -> re.Pattern[str]:
    # Actions, StringLike values, an ARN operator's components: `*` is any run of characters
    # (`/` and `:` included), `?` exactly one character, "anywhere in the string".
    # https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html#Conditions_String
    parts = (".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.compile("".join(parts), re.DOTALL | (re.IGNORECASE if ignore_case else 0))


def _like(pattern: str, value: str, ignore_case: bool = False) -> bool:
    return _glob(pattern, ignore_case).fullmatch(value) is not None


def _arn_like(pattern: str, value: str) -> bool:
    # ArnLike/ArnEquals match each of the six colon-delimited components separately, so a `*`
    # in the region does not swallow the account: the operators page's own example.
    # https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html#Conditions_ARN
    wanted, actual = pattern.split(":", 5), value.split(":", 5)
    return len(wanted) == len(actual) and all(map(_like, wanted, actual))


# ---------------------------------------------------------------------------------------------
# Statement elements


def _as_list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list) else [value]


def _statements(document: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    # `Statement` may be one object or a list of them.
    # https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_statement.html
    if "Statement" not in document:
        raise PolicyError("policy has no Statement")
    statements = _as_list(document["Statement"])
    if not all(isinstance(s, Mapping) for s in statements):
        raise PolicyError("each Statement must be an object")
    return statements


def _effect(statement: Mapping[str, Any]) -> Effect:
    # https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_effect.html
    effect = statement.get("Effect")
    if effect not in ("Allow", "Deny"):
        raise PolicyError(f"Effect must be Allow or Deny, not {effect!r}")
    return Effect(effect)


def _sid(statement: Mapping[str, Any], index: int) -> str:
    sid = statement.get("Sid")
    return str(sid) if sid else f"#{index}"


def _element(statement: Mapping[str, Any], name: str) -> tuple[list[str], bool]:
    """The values of `name` or `Not<name>`, and whether it was the negated form."""
    negated = f"Not{name}"
    if (name in statement) == (negated in statement):
        raise PolicyError(f"a statement needs exactly one of {name} and {negated}")
    values = _as_list(statement[name] if name in statement else statement[negated])
    if not all(isinstance(v, str) for v in values):
        raise PolicyError(f"{name} values must be strings")
    return values, negated in statement


def _action_matches(statement: Mapping[str, Any], action: str) -> bool:
    # "The prefix and the action name are case insensitive"; NotAction matches the rest.
    # https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_action.html
    # https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_notaction.html
    patterns, negated = _element(statement, "Action")
    listed = any(_like(p, action, ignore_case=True) for p in patterns)
    return listed != negated


def _resource_matches(statement: Mapping[str, Any], resource: str) -> bool:
    # Resource ARNs are case-sensitive; NotResource matches every resource it does not list.
    # https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_resource.html
    # https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_notresource.html
    patterns, negated = _element(statement, "Resource")
    for pattern in patterns:
        _refuse_variables(pattern)
    listed = any(_resource_like(p, resource) for p in patterns)
    return listed != negated


@lru_cache(maxsize=4096)
def _resource_glob(pattern: str) -> re.Pattern[str]:
    # Wildcards match "within the individual segments of an ARN (the parts separated by
    # colons)": `?` is one character of its segment and a `*` inside a segment stays in it,
    # but "If the * wildcard is the last character of a resource ARN segment, it can expand to
    # match beyond the colon boundaries" (arn:aws:logs:*, log-group:/aws/lambda/*). The ARN's
    # colons are its segments' bounds, the resource part's included.
    # https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_resource.html#reference_policies_elements_resource_wildcards
    parts = []
    for index, c in enumerate(pattern):
        if c == "*":
            last = pattern[index + 1 : index + 2] in ("", ":")
            parts.append(".*" if last else "[^:]*")
        else:
            parts.append("[^:]" if c == "?" else re.escape(c))
    return re.compile("".join(parts), re.DOTALL)


def _resource_like(pattern: str, resource: str) -> bool:
    return _resource_glob(pattern).fullmatch(resource) is not None


def _refuse_variables(value: str) -> None:
    # Policy variables such as ${aws:username} need request data this module is not given.
    # https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_variables.html
    if "${" in value:
        raise PolicyError(f"policy variables are not supported: {value!r}")


# ---------------------------------------------------------------------------------------------
# Principals (resource policies only)


class _Named(Enum):
    """How a resource-policy statement's principal relates to the caller."""

    NO = "no"  # the statement is not about this caller
    CALLER = "caller"  # names the caller ("*", its ARN, or its role's ARN)
    ACCOUNT = "account"  # names only the caller's account: delegates to IAM


ROOT_ARN = re.compile(r"arn:[^:]+:iam::(\d{12}):root")
# An unsigned request's caller: only a Principal of "*" names it, it has no identity policies
# and no account (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html#principal-anonymous).
ANONYMOUS = "anonymous"
ACCOUNT_ID = re.compile(r"\d{12}")
PRINCIPAL_TYPES = ("AWS", "Service", "Federated", "CanonicalUser")


def _is_root(request: Request) -> bool:
    root = ROOT_ARN.fullmatch(request.principal)
    return root is not None and root.group(1) == request.account


def _account_of(entry: str) -> str | None:
    """The account an `AWS` principal entry names as a whole, if it is an account entry."""
    # `arn:aws:iam::<id>:root` and the bare id both mean the account.
    # https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html#principal-accounts
    if ACCOUNT_ID.fullmatch(entry):
        return entry
    root = ROOT_ARN.fullmatch(entry)
    return root.group(1) if root else None


def _aws_entries(value: Any) -> list[str]:
    """The `AWS` entries of a Principal or NotPrincipal; other types never name IAM callers."""
    # "*" is the same as {"AWS": "*"}.
    # https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html#principal-anonymous
    if value == "*":
        return ["*"]
    if not isinstance(value, Mapping) or not set(value) <= set(PRINCIPAL_TYPES):
        raise PolicyError(f"Principal must be '*' or an object of {PRINCIPAL_TYPES}: {value!r}")
    # A Service principal (service-name.amazonaws.com) identifies a service, never an IAM caller.
    # https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html#principal-services
    return [str(entry) for entry in _as_list(value.get("AWS", []))]


def _names_caller(entries: list[str], request: Request) -> _Named:
    if request.principal == ANONYMOUS:
        return _Named.CALLER if "*" in entries else _Named.NO
    # Principals match whole: "You cannot use a wildcard to match part of a principal name or
    # ARN". A role ARN covers that role's sessions (passed in as principal_aliases).
    # https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html
    caller = {request.principal, *request.principal_aliases}
    named = _Named.NO
    for entry in entries:
        if entry == "*" or entry in caller:
            return _Named.CALLER
        if _account_of(entry) == request.account:
            # The account principal is the root user itself, and delegates for everyone else.
            # https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-default.html#key-policy-default-allow-root-enable-iam
            if _is_root(request):
                return _Named.CALLER
            named = _Named.ACCOUNT
    return named


def _exempted(entries: list[str], request: Request) -> bool:
    """Whether a NotPrincipal list leaves the caller out: every identity AWS may validate for
    the caller must be listed. "AWS might validate the account first, then the role, and then
    the assumed-role user", so the page lists the session, its role and the account to spare
    a session, and a user with its account; the account alone spares only the root user.
    https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_notprincipal.html"""
    if "*" in entries:
        return True
    if request.principal == ANONYMOUS:
        return False
    account_listed = any(_account_of(entry) == request.account for entry in entries)
    if _is_root(request):
        return account_listed
    chain = {request.principal, *request.principal_aliases}
    return account_listed and chain <= set(entries)


def _principal(statement: Mapping[str, Any], request: Request) -> _Named:
    # Resource policies must say whom a statement is about.
    # https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html
    if ("Principal" in statement) == ("NotPrincipal" in statement):
        raise PolicyError(
            "a resource-policy statement needs exactly one of Principal, NotPrincipal"
        )
    if "Principal" in statement:
        return _names_caller(_aws_entries(statement["Principal"]), request)
    # NotPrincipal denies everyone it does not list; "Using it with "Effect":"Allow" is not
    # supported".
    # https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_notprincipal.html
    if statement.get("Effect") != "Deny":
        raise PolicyError("NotPrincipal must be used with Effect Deny")
    exempt = _exempted(_aws_entries(statement["NotPrincipal"]), request)
    return _Named.NO if exempt else _Named.CALLER


# ---------------------------------------------------------------------------------------------
# Conditions

# One request value against the policy's values for that key.
Test = Callable[[str, list[str]], bool]


def _policy_string(value: Any) -> str:
    # JSON booleans and numbers in a policy compare as their JSON text: true -> "true".
    # https://docs.aws.amazon.com/kms/latest/developerguide/policy-conditions.html (Bool: true)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float | str):
        return str(value)
    raise PolicyError(f"condition values must be strings, numbers or booleans: {value!r}")


def _number(text: str) -> Decimal | None:
    try:
        number = Decimal(text.strip())
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def _policy_numbers(values: list[str]) -> list[Decimal]:
    numbers = [_number(v) for v in values]
    if None in numbers:
        raise PolicyError(f"Numeric condition values must be numbers: {values!r}")
    return [n for n in numbers if n is not None]


def _any_of(same: Callable[[str, str], bool]) -> Test:
    # Several values for one key are OR-ed.
    # https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_multi-value-conditions.html
    return lambda actual, wanted: any(same(actual, w) for w in wanted)


def _none_of(same: Callable[[str, str], bool]) -> Test:
    # A negated operator's values are NOR-ed: true only if the request matches none of them.
    # https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_multi-value-conditions.html
    return lambda actual, wanted: not any(same(actual, w) for w in wanted)


def _numeric(compare: Callable[[Decimal, Decimal], bool], negated: bool = False) -> Test:
    # A request value that is not a number matches no Numeric operator, negated or not.
    # https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html#Conditions_Numeric
    def test(actual: str, wanted: list[str]) -> bool:
        number = _number(actual)
        if number is None:
            return False
        hit = any(compare(number, w) for w in _policy_numbers(wanted))
        return hit != negated

    return test


def _equals(actual: str, wanted: str) -> bool:
    _refuse_variables(wanted)
    return actual == wanted


def _equals_ignore_case(actual: str, wanted: str) -> bool:
    _refuse_variables(wanted)
    return actual.casefold() == wanted.casefold()


def _string_like(actual: str, wanted: str) -> bool:
    _refuse_variables(wanted)
    return _like(wanted, actual)


def _arn(actual: str, wanted: str) -> bool:
    _refuse_variables(wanted)
    return _arn_like(wanted, actual)


def _bool(actual: str, wanted: str) -> bool:
    return actual.lower() == wanted.lower()


def _date(text: str) -> datetime | None:
    # "W3C implementation of the ISO 8601 date formats ... or epoch (UNIX) time"
    # (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html#Conditions_Date).
    text = text.strip()
    if re.fullmatch(r"-?\d+", text):
        return datetime.fromtimestamp(int(text), UTC)
    try:
        found = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return found if found.tzinfo else found.replace(tzinfo=UTC)


def _dated(compare: Callable[[datetime, datetime], bool], negated: bool = False) -> Test:
    # A request value that is not a date matches no Date operator, as with numbers.
    def test(actual: str, wanted: list[str]) -> bool:
        moment = _date(actual)
        if moment is None:
            return False
        dates = [_date(w) for w in wanted]
        if None in dates:
            raise PolicyError(f"Date condition values must be dates: {wanted!r}")
        hit = any(compare(moment, w) for w in dates if w is not None)
        return hit != negated

    return test


def _in_network(negated: bool = False) -> Test:
    # IpAddress: the address is in one of the policy's CIDR ranges, IPv4 or IPv6
    # (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html#Conditions_IPAddress).
    def test(actual: str, wanted: list[str]) -> bool:
        try:
            address = ipaddress.ip_address(actual.strip())
        except ValueError:
            return False
        try:
            networks = [ipaddress.ip_network(w.strip(), strict=False) for w in wanted]
        except ValueError:
            raise PolicyError(
                f"IpAddress condition values must be CIDR ranges: {wanted!r}"
            ) from None
        hit = any(address.version == n.version and address in n for n in networks)
        return hit != negated

    return test


def _binary_equals(actual: str, wanted: str) -> bool:
    # BinaryEquals compares base64-encoded binary values
    # (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html#Conditions_BinaryEquals).
    return actual == wanted


# Operator -> (test, negated). Negated operators are true when the key is absent.
# https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html
OPERATORS: dict[str, tuple[Test, bool]] = {
    "StringEquals": (_any_of(_equals), False),
    "StringNotEquals": (_none_of(_equals), True),
    "StringEqualsIgnoreCase": (_any_of(_equals_ignore_case), False),
    "StringNotEqualsIgnoreCase": (_none_of(_equals_ignore_case), True),
    "StringLike": (_any_of(_string_like), False),
    "StringNotLike": (_none_of(_string_like), True),
    # "The ArnEquals and ArnLike condition operators behave identically."
    "ArnEquals": (_any_of(_arn), False),
    "ArnLike": (_any_of(_arn), False),
    "ArnNotEquals": (_none_of(_arn), True),
    "ArnNotLike": (_none_of(_arn), True),
    "Bool": (_any_of(_bool), False),
    "NumericEquals": (_numeric(lambda a, w: a == w), False),
    "NumericNotEquals": (_numeric(lambda a, w: a == w, negated=True), True),
    "NumericLessThan": (_numeric(lambda a, w: a < w), False),
    "NumericLessThanEquals": (_numeric(lambda a, w: a <= w), False),
    "NumericGreaterThan": (_numeric(lambda a, w: a > w), False),
    "NumericGreaterThanEquals": (_numeric(lambda a, w: a >= w), False),
    "DateEquals": (_dated(lambda a, w: a == w), False),
    "DateNotEquals": (_dated(lambda a, w: a == w, negated=True), True),
    "DateLessThan": (_dated(lambda a, w: a < w), False),
    "DateLessThanEquals": (_dated(lambda a, w: a <= w), False),
    "DateGreaterThan": (_dated(lambda a, w: a > w), False),
    "DateGreaterThanEquals": (_dated(lambda a, w: a >= w), False),
    "IpAddress": (_in_network(), False),
    "NotIpAddress": (_in_network(negated=True), True),
    "BinaryEquals": (_any_of(_binary_equals), False),
}
SET_OPERATORS = ("ForAnyValue", "ForAllValues")


@dataclass(frozen=True)
class _Operator:
    name: str
    qualifier: str | None  # ForAnyValue / ForAllValues
    base: str  # the operator without qualifier or IfExists
    if_exists: bool


def _operator(name: str) -> _Operator:
    qualifier, _, base = name.rpartition(":")
    if qualifier and qualifier not in SET_OPERATORS:
        raise UnsupportedCondition(f"condition operator {name!r} is not supported")
    # IfExists may follow any operator but Null.
    # https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html#Conditions_IfExists
    if_exists = base.endswith("IfExists") and base != "IfExists"
    base = base.removesuffix("IfExists") if if_exists else base
    known = base in OPERATORS or (base == "Null" and not if_exists and not qualifier)
    if not known:
        raise UnsupportedCondition(f"condition operator {name!r} is not supported")
    return _Operator(name, qualifier or None, base, if_exists)


@dataclass(frozen=True)
class _Present:
    """A key's values in the request, and whether the key is multivalued (a list)."""

    values: list[str]
    multivalued: bool


def _null(present: _Present | None, wanted: list[str]) -> bool:
    # Null true: the key is absent; Null false: it is there with a value.
    # https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html#Conditions_Null
    absent = present is None
    return any((w.lower() == "true") == absent for w in wanted)


def _condition_holds(operator: _Operator, present: _Present | None, wanted: list[str]) -> bool:
    if operator.base == "Null":
        return _null(present, wanted)
    test, negated = OPERATORS[operator.base]
    if present is None:
        # An absent key fails the condition, except with IfExists or a negated operator. A set
        # operator decides by itself, IfExists or not: ForAllValues holds over no values, and
        # "if there's no key in the request context ... the condition returns false" for
        # ForAnyValue.
        # https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html#Conditions_IfExists
        # https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-single-vs-multi-valued-context-keys.html
        if operator.qualifier:
            return operator.qualifier == "ForAllValues"
        return operator.if_exists or negated
    if operator.qualifier == "ForAllValues":
        return all(test(v, wanted) for v in present.values)
    if operator.qualifier == "ForAnyValue":
        return any(test(v, wanted) for v in present.values)
    if present.multivalued:
        # "Multivalued context keys ... require a set operator": a single-valued operator,
        # negated or not, does not match a multivalued key that is present.
        # https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-single-vs-multi-valued-context-keys.html
        return False
    return test(present.values[0], wanted)


def _lowered(context: Mapping[str, str | Sequence[str]]) -> dict[str, _Present]:
    # Condition key names are not case-sensitive; a multivalued key with no values is absent.
    # https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition.html
    lowered = {}
    for key, value in context.items():
        if isinstance(value, str):
            lowered[key.lower()] = _Present([value], False)
        elif value:
            lowered[key.lower()] = _Present([str(v) for v in value], True)
    return lowered


def _conditions_hold(block: Any, context: dict[str, _Present]) -> bool:
    # Every operator and every key in the block must hold (AND); values within a key are OR-ed.
    # https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_multi-value-conditions.html
    if not isinstance(block, Mapping):
        raise PolicyError(f"Condition must be an object: {block!r}")
    for name, tests in block.items():
        operator = _operator(name)
        if not isinstance(tests, Mapping):
            raise PolicyError(f"{name} must map condition keys to values: {tests!r}")
        for key, values in tests.items():
            wanted = [_policy_string(v) for v in _as_list(values)]
            present = context.get(str(key).lower())
            if not _condition_holds(operator, present, wanted):
                return False
    return True


# ---------------------------------------------------------------------------------------------
# One policy


@dataclass(frozen=True)
class _Parsed:
    """A statement's effect, and its Action and Resource patterns as compiled globs."""

    effect: Effect
    actions: tuple[re.Pattern[str], ...]
    actions_negated: bool
    resources: tuple[re.Pattern[str], ...]
    resources_negated: bool


def _parsed(statement: Mapping[str, Any]) -> _Parsed | None:
    try:
        effect = _effect(statement)
        actions, actions_negated = _element(statement, "Action")
        resources, resources_negated = _element(statement, "Resource")
        for pattern in resources:
            _refuse_variables(pattern)
    except PolicyError:
        return None
    return _Parsed(
        effect,
        tuple(_glob(a, True) for a in actions),
        actions_negated,
        tuple(_resource_glob(r) for r in resources),
        resources_negated,
    )


def _applies_parsed(
    parsed: _Parsed,
    statement: Mapping[str, Any],
    request: Request,
    context: dict[str, _Present],
    resource_policy: bool,
) -> _Named:
    # The same steps as _applies, in the same order, on the statement's parsed patterns.
    named = _principal(statement, request) if resource_policy else _Named.CALLER
    listed = any(a.fullmatch(request.action) for a in parsed.actions)
    if listed == parsed.actions_negated or named is _Named.NO:
        return _Named.NO
    listed = any(r.fullmatch(request.resource) for r in parsed.resources)
    if listed == parsed.resources_negated:
        return _Named.NO
    if not _conditions_hold(statement.get("Condition", {}), context):
        return _Named.NO
    return named


def _applies(
    statement: Mapping[str, Any],
    request: Request,
    context: dict[str, _Present],
    resource_policy: bool,
) -> _Named:
    # Identity policies have no Principal: they are about the identity they are attached to.
    # A resource policy's principal is read first, so that a malformed one is refused whatever
    # the request.
    named = _principal(statement, request) if resource_policy else _Named.CALLER
    if not _action_matches(statement, request.action) or named is _Named.NO:
        return _Named.NO
    if not _resource_matches(statement, request.resource):
        return _Named.NO
    if not _conditions_hold(statement.get("Condition", {}), context):
        return _Named.NO
    return named


def evaluate(
    policy: Policy,
    request: Request,
    *,
    resource_policy: bool,
    lowered: dict[str, _Present] | None = None,
) -> Match:
    """The effect of one policy document on the request: its first applicable Deny, else its
    Allow (one naming the caller preferred to one naming only the account), else NONE.
    `lowered` is the request's context as _lowered gives it, when the caller has it already."""
    context = _lowered(request.context) if lowered is None else lowered
    allow: Match | None = None
    for index, (statement, parsed) in enumerate(policy.statements):
        if parsed is None:
            effect = _effect(statement)
            named = _applies(statement, request, context, resource_policy)
        else:
            effect = parsed.effect
            named = _applies_parsed(parsed, statement, request, context, resource_policy)
        if named is _Named.NO:
            continue
        sid = _sid(statement, index)
        # An explicit deny overrides any allow.
        # https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html#AccessPolicyLanguage_Interplay
        if effect is Effect.DENY:
            return Match(Effect.DENY, policy.label, sid)
        delegated = named is _Named.ACCOUNT
        if allow is None or (allow.delegated and not delegated):
            allow = Match(Effect.ALLOW, policy.label, sid, delegated=delegated)
    return allow or NO_MATCH


# ---------------------------------------------------------------------------------------------
# The decision


@dataclass(frozen=True)
class Decision:
    allowed: bool
    request: Request
    reason: str
    by: Match | None

    @property
    def explicitly_denied(self) -> bool:
        """Refused by a Deny statement, as opposed to for want of an Allow (implicitly)."""
        # https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html#AccessPolicyLanguage_Interplay
        return not self.allowed and self.by is not None and self.by.effect is Effect.DENY

    def message(self) -> str:
        """AWS's AccessDenied sentence, for a refusal."""
        # "User: <arn> is not authorized to perform: <action> on resource: <arn> <context>";
        # AWS leaves out "on resource:" for actions without one.
        # https://docs.aws.amazon.com/IAM/latest/UserGuide/troubleshoot_access-denied.html
        request = self.request
        on = "" if request.resource == "*" else f" on resource: {request.resource}"
        return (
            f"User: {request.principal} is not authorized to perform: {request.action}{on} "
            f"{self.reason}"
        )


def _explicit_deny(kind: str) -> str:
    article = "an" if kind[0] in "aeiou" else "a"
    return f"with an explicit deny in {article} {kind} policy"


def _no_allow(kind: str, action: str) -> str:
    return f"because no {kind} policy allows the {action} action"


def _allows(kind: str, action: str) -> str:
    article = "an" if kind[0] in "aeiou" else "a"
    return f"because {article} {kind} policy allows the {action} action"


IDENTITY = "identity-based"
RESOURCE = "resource-based"


def authorize(
    request: Request,
    identity: Sequence[Policy],
    resource: Policy | None = None,
    *,
    resource_required: bool = False,
) -> Decision:
    """Whether the caller may perform the action, with all parties in one account.

    `resource_required` is the KMS rule: the key policy must allow, naming the caller, or
    naming the account so that an identity policy's allow counts.
    """
    action = request.action
    if request.principal == ANONYMOUS and identity:
        # An unsigned request has no identity, so no identity policies: only the resource
        # policy can allow it.
        # https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html#principal-anonymous
        raise PolicyError("an anonymous caller has no identity policies")
    # One reading of the context serves every policy.
    lowered = _lowered(request.context)
    identity_matches = [
        evaluate(p, request, resource_policy=False, lowered=lowered) for p in identity
    ]
    resource_match = (
        evaluate(resource, request, resource_policy=True, lowered=lowered) if resource else NO_MATCH
    )

    def decide(allowed: bool, reason: str, by: Match | None) -> Decision:
        return Decision(allowed, request, reason, by)

    # 1. An explicit deny in any policy is final.
    # https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html#policy-eval-denyallow
    for kind, match in [*((IDENTITY, m) for m in identity_matches), (RESOURCE, resource_match)]:
        if match.effect is Effect.DENY:
            return decide(False, _explicit_deny(kind), match)

    identity_allow = next((m for m in identity_matches if m.effect is Effect.ALLOW), None)
    resource_allows = resource_match.effect is Effect.ALLOW
    granted = resource_match if resource_allows and not resource_match.delegated else None
    delegated = resource_allows and resource_match.delegated

    if resource_required:
        # 2a. KMS: "Unless the key policy explicitly allows it, you cannot use IAM policies to
        # allow access to a KMS key." A key policy naming the account enables IAM policies;
        # one naming the caller grants by itself.
        # https://docs.aws.amazon.com/kms/latest/developerguide/key-policies.html
        # https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-default.html#key-policy-default-allow-root-enable-iam
        if granted:
            return decide(True, _allows(RESOURCE, action), granted)
        if delegated and identity_allow:
            return decide(True, _allows(IDENTITY, action), identity_allow)
        if delegated:
            return decide(False, _no_allow(IDENTITY, action), None)
        return decide(False, _no_allow(RESOURCE, action), None)

    # 2b. Same account: an allow in either an identity policy or a resource policy naming the
    # caller is enough; a resource policy naming only the account delegates to IAM.
    # https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html#policy-eval-basics-id-rdp
    # https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html#principal-accounts
    if identity_allow:
        return decide(True, _allows(IDENTITY, action), identity_allow)
    if granted:
        return decide(True, _allows(RESOURCE, action), granted)
    # "all requests are implicitly denied with the exception of the AWS account root user"
    # (KMS keys excepted, above: no principal, root included, has implicit access to a key).
    # https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html#policy-eval-denyallow
    if _is_root(request):
        return decide(True, "because the account root user has full access", None)
    # 3. Otherwise, an implicit deny.
    return decide(False, _no_allow(IDENTITY, action), None)


# ---------------------------------------------------------------------------------------------
# Single rules, for a reader outside this module (the differential test checks each known
# difference by deciding the one element in question with these)


def resource_matches(pattern: str, resource: str) -> bool:
    """Whether a Resource element's entry names the resource."""
    return _resource_like(pattern, resource)


def condition_holds(block: Mapping[str, Any], context: Mapping[str, str | Sequence[str]]) -> bool:
    """Whether a Condition block holds for a request context."""
    return _conditions_hold(block, _lowered(context))


def not_principal_spares(entries: list[str], request: Request) -> bool:
    """Whether a NotPrincipal's AWS entries leave the caller out."""
    return _exempted(entries, request)


BOUNDARY = "permissions boundary"


def within_boundary(decision: Decision, boundary: Sequence[Policy]) -> Decision:
    """A role session's decision limited by its role's permissions boundary: an explicit deny
    in the boundary denies, and what identity policies allow must be allowed by the boundary
    too (https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies_boundaries.html,
    "Evaluating effective permissions with boundaries")."""
    if not boundary or decision.explicitly_denied:
        return decision
    request = decision.request
    lowered = _lowered(request.context)
    matches = [evaluate(p, request, resource_policy=False, lowered=lowered) for p in boundary]
    denied = next((m for m in matches if m.effect is Effect.DENY), None)
    if denied is not None:
        # "with an explicit deny in a permissions boundary" (troubleshoot_access-denied.html)
        return Decision(False, request, f"with an explicit deny in a {BOUNDARY}", denied)
    if not decision.allowed:
        return decision
    if any(m.effect is Effect.ALLOW for m in matches):
        return decision
    # "because no permissions boundary allows the <action> action" (troubleshoot_access-denied.html)
    return Decision(
        False, request, f"because no {BOUNDARY} allows the {request.action} action", None
    )
