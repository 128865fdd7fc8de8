"""The differential run: the same cases through aws_semantics/policy.py and through the reference
evaluator. A disagreement is explained only by known_differences.toml: each row's rule picks
out the element the two read differently and rewrites it into one the reference reads as
aws_semantics/policy.py does (an equivalent form, or the element decided by the documented rule);
the rewritten case must then agree. Anything else is reported."""

from __future__ import annotations

import copy
import re
import tomllib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aws_semantics.policy import (
    Policy,
    authorize,
    condition_holds,
    not_principal_spares,
    resource_matches,
)
from tests.reference.cases import ACCOUNT, OTHER, REGION, ROLE, SESSION, Case, features
from tests.reference.simulator import Simulator

KNOWN = Path(__file__).with_name("known_differences.toml")
ALWAYS_FALSE = {"Null": {"aws:CurrentTime": "true"}}  # aws:CurrentTime is in every request


def ours(one: Case) -> str:
    """aws_semantics/policy.py's verdict, in the reference's words."""
    identity = [Policy(f"p{i}", document) for i, document in enumerate(one.identity)]
    resource = Policy("resource", one.resource_policy) if one.resource_policy else None
    decision = authorize(one.request(), identity, resource,
                         resource_required=one.scenario.policy == "key")  # fmt: skip
    if decision.allowed:
        return "Allowed"
    return "ExplicitlyDenied" if decision.explicitly_denied else "ImplicitlyDenied"


def _listed(values: Any) -> list[Any]:
    return values if isinstance(values, list) else [values]


def _statements(one: Case) -> Iterator[dict[str, Any]]:
    for document in [*one.identity, *([one.resource_policy] if one.resource_policy else [])]:
        yield from document["Statement"]


Rewrite = Callable[[Case], Case | None]  # None: the rule does not apply to the case


def _rewritten(one: Case, change: Callable[[dict[str, Any]], bool]) -> Case | None:
    """A copy of the case with `change` applied to each statement; None if nothing changed."""
    copied = copy.deepcopy(one)
    changed = [change(statement) for statement in _statements(copied)]
    return copied if any(changed) else None


def _conditions_rewritten(
    one: Case, rewrite: Callable[[str, str, Any], dict[str, Any] | None]
) -> Case | None:
    """Each condition (operator, key, values) replaced by what `rewrite` gives for it."""

    def change(statement: dict[str, Any]) -> bool:
        block, changed = statement.get("Condition"), False
        if not block:
            return False
        new: dict[str, dict[str, Any]] = {}
        for operator, tests in block.items():
            for key, values in tests.items():
                replacement = rewrite(operator, key, values)
                if replacement is None:
                    new.setdefault(operator, {})[key] = values
                    continue
                changed = True
                for other_operator, other_tests in replacement.items():
                    new.setdefault(other_operator, {}).update(other_tests)
        if changed:
            statement["Condition"] = new
        return changed

    return _rewritten(one, change)


def _decided(one: Case, operator: str, key: str, values: Any) -> dict[str, Any]:
    """The condition decided by aws_semantics/policy.py's rule: no condition, or one never true."""
    return {} if condition_holds({operator: {key: values}}, one.context) else ALWAYS_FALSE


def _source_ip(one: Case) -> str:
    return str(one.context.get("aws:SourceIp", ""))


def zero_prefix_ipv4_range(one: Case) -> Case | None:
    """An IPv4 range with a /0 prefix, for an IPv4 caller, rewritten as the two /1 ranges that
    cover the same."""

    def rewrite(operator: str, key: str, values: Any) -> dict[str, Any] | None:
        listed = [str(v) for v in _listed(values)]
        if "IpAddress" not in operator or not any(v.endswith(".0/0") for v in listed):
            return None
        if ":" in _source_ip(one) or not _source_ip(one):
            return None
        kept = [v for v in listed if not v.endswith(".0/0")]
        return {operator: {key: [*kept, "0.0.0.0/1", "128.0.0.0/1"]}}

    return _conditions_rewritten(one, rewrite)


def dates_in_two_forms(one: Case) -> Case | None:
    """Date values in the other form than the request's, rewritten into the request's form."""

    def same_form(value: Any, epoch: bool) -> str:
        text = str(value)
        if text.isdigit() == epoch:
            return text
        if epoch:
            moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
            return str(int((moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()))
        return datetime.fromtimestamp(int(text), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

    lowered = {name.lower(): value for name, value in one.context.items()}

    def rewrite(operator: str, key: str, values: Any) -> dict[str, Any] | None:
        present = lowered.get(key.lower())  # key names are not case-sensitive
        if "Date" not in operator or not isinstance(present, str):
            return None
        converted = [same_form(v, present.isdigit()) for v in _listed(values)]
        if converted == [str(v) for v in _listed(values)]:
            return None
        return {operator: {key: converted}}

    return _conditions_rewritten(one, rewrite)


def encryption_context_condition(one: Case) -> Case | None:
    """A condition on a kms:EncryptionContext:<key> key, decided by the documented rule."""

    present = {name.lower() for name in one.context}

    def rewrite(operator: str, key: str, values: Any) -> dict[str, Any] | None:
        if not key.lower().startswith("kms:encryptioncontext:") or key.lower() not in present:
            return None
        return _decided(one, operator, key, values)

    return _conditions_rewritten(one, rewrite)


def _entries_decided(
    one: Case, picked: Callable[[str], bool], names: tuple[str, ...] = ("Resource", "NotResource")
) -> Case | None:
    """Each entry of the `names` elements that `picked` selects, replaced by the request's
    resource if the documented rule (aws_semantics/policy.py) matches it, else by the ARN of a
    resource of another account, which names nothing here."""
    resource = one.scenario.resource
    service = one.scenario.action.split(":")[0]
    elsewhere = f"arn:aws:{service}:{REGION}:{OTHER}:elsewhere"

    def change(statement: dict[str, Any]) -> bool:
        changed = False
        for name in names:
            if name not in statement:
                continue
            entries = []
            for pattern in _listed(statement[name]):
                if picked(pattern):
                    changed = True
                    pattern = resource if resource_matches(pattern, resource) else elsewhere
                entries.append(pattern)
            statement[name] = entries
        return changed

    return _rewritten(one, change)


def wildcard_in_resource_type(one: Case) -> Case | None:
    """A Resource or NotResource entry with a wildcard in its resource type (tab*/items) that
    names the resource: the reference takes the type for literal text."""
    resource = one.scenario.resource

    def typed_wildcard(pattern: str) -> bool:
        part = pattern.split(":", 5)[5] if pattern.count(":") >= 5 else ""
        if "/" not in part and ":" not in part:
            return False
        kind = part.split("/", 1)[0].split(":", 1)[0]
        return ("*" in kind or "?" in kind) and resource_matches(pattern, resource)

    return _entries_decided(one, typed_wildcard)


def _across_colons(pattern: str, resource: str) -> bool:
    """`pattern` read with every wildcard free to match colons too."""
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.fullmatch(regex, resource, re.DOTALL) is not None


def wildcard_inside_a_segment(one: Case) -> Case | None:
    """A full-length ARN entry whose `*` or `?` inside a colon-separated segment would have to
    match a colon to name the resource (log-group:/*/x for a log stream)."""
    resource = one.scenario.resource

    def inside(pattern: str) -> bool:
        full = pattern.count(":") >= 5
        return full and _across_colons(pattern, resource) != resource_matches(pattern, resource)

    return _entries_decided(one, inside)


def _by_position(pattern: str, resource: str) -> bool:
    """`pattern` read as the reference reads it: its first five colon-separated segments each
    against the resource's own, whatever wildcards end them, the rest against the rest, and a
    short pattern padded with `*` segments."""
    wanted, actual = pattern.split(":", 5), resource.split(":", 5)
    wanted += ["*"] * (6 - len(wanted))
    if len(actual) < 6:
        return False
    heads = all(_across_colons(w, a) for w, a in zip(wanted[:5], actual[:5], strict=True))
    return heads and _across_colons(wanted[5], actual[5])


def segment_final_star_spans_segments(one: Case) -> Case | None:
    """An ARN entry whose partition, service, region or account segment ends with a `*` that
    spans colons (arn:aws:dynamodb:*:table/items, arn:aws:logs:*:log-group:name)."""
    resource = one.scenario.resource

    def spans(pattern: str) -> bool:
        heads = pattern.split(":")[1:5]
        ends = pattern.startswith("arn:") and any(head.endswith("*") for head in heads)
        return ends and _by_position(pattern, resource) != resource_matches(pattern, resource)

    return _entries_decided(one, spans)


def short_arn_not_listed(one: Case) -> Case | None:
    """A NotResource entry of fewer than six segments that does not name the resource."""
    resource = one.scenario.resource

    def short_miss(pattern: str) -> bool:
        short = pattern.startswith("arn:") and pattern.count(":") < 5
        return short and not resource_matches(pattern, resource)

    return _entries_decided(one, short_miss, ("NotResource",))


def bare_ip_address(one: Case) -> Case | None:
    """An IPv4 address without a routing prefix, for an IPv6 caller, written with its default
    prefix, /32."""

    def rewrite(operator: str, key: str, values: Any) -> dict[str, Any] | None:
        listed = [str(v) for v in _listed(values)]
        if "IpAddress" not in operator or all("/" in v or ":" in v for v in listed):
            return None
        if ":" not in _source_ip(one):
            return None
        return {operator: {key: [v if "/" in v or ":" in v else f"{v}/32" for v in listed]}}

    return _conditions_rewritten(one, rewrite)


def partial_not_principal(one: Case) -> Case | None:
    """A NotPrincipal naming some, not all, of the session, its role and its account,
    replaced by one the reference reads the same way as the documented rule."""
    request = one.request()

    def change(statement: dict[str, Any]) -> bool:
        value = statement.get("NotPrincipal")
        if not isinstance(value, dict) or "AWS" not in value:
            return False
        entries = [str(e) for e in _listed(value["AWS"])]
        if "*" in entries or not_principal_spares(entries, request):
            return False
        named = {SESSION, ROLE, f"arn:aws:iam::{ACCOUNT}:root", ACCOUNT} & set(entries)
        if not named:
            return False
        statement["NotPrincipal"] = {"AWS": f"arn:aws:iam::{OTHER}:root"}
        return True

    return _rewritten(one, change)


# Each known difference's rewrite (its row in known_differences.toml names it by id).
REWRITES: dict[str, Rewrite] = {
    "not-principal-partial-chain": partial_not_principal,
    "encryption-context-keys-ignored": encryption_context_condition,
    "ipv4-zero-prefix": zero_prefix_ipv4_range,
    "wildcard-in-resource-type": wildcard_in_resource_type,
    "wildcard-inside-a-segment-across-colons": wildcard_inside_a_segment,
    "segment-final-star-spans-segments": segment_final_star_spans_segments,
    "bare-ip-address": bare_ip_address,
    "short-arn-outside-not-resource": short_arn_not_listed,
    "dates-in-two-forms": dates_in_two_forms,
}
# Context keys the reference drops from a request though the action carries them.
IGNORED_BY_THE_REFERENCE = ("kms:encryptioncontext:",)


@dataclass
class Run:
    cases: int = 0
    agreed: int = 0
    explained_cases: int = 0
    explained: dict[str, int] = field(default_factory=dict)  # per known difference
    unexplained: list[tuple[Case, str, str]] = field(default_factory=list)
    covered: set[str] = field(default_factory=set)


def known_differences() -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = tomllib.loads(KNOWN.read_text(encoding="utf-8"))["difference"]
    for row in rows:
        assert row["id"] in REWRITES, f"{row['id']} has no rewrite in {__file__}"
        assert row["page"].startswith("https://docs.aws.amazon.com/"), row["id"]
        assert row["aws_agrees_with"] == "offline", row["id"]
    return rows


def _checked(answer: dict[str, Any], one: Case) -> str:
    # A case the reference rejects, or whose keys it ignores (but those of a known
    # difference), is the generator's bug.
    assert "errors" not in answer, (answer, one.simulation())
    ignored = [
        key
        for key in answer["ignoredContextKeys"]
        if not key.lower().startswith(IGNORED_BY_THE_REFERENCE)
    ]
    assert ignored == [], (ignored, one.scenario.action)
    return str(answer["overallResult"])


def compare(simulator: Simulator, cases: list[Case], run: Run) -> None:
    rows = known_differences()
    answers = simulator.run([one.simulation() for one in cases])
    differing: list[tuple[Case, str, str, Case, list[str]]] = []
    for one, answer in zip(cases, answers, strict=True):
        theirs = _checked(answer, one)
        run.cases += 1
        run.covered |= features(one)
        mine = ours(one)
        if mine == theirs:
            run.agreed += 1
            continue
        rewritten, applied = one, list[str]()
        for row in rows:
            changed = REWRITES[row["id"]](rewritten)
            if changed is not None:
                rewritten, applied = changed, [*applied, row["id"]]
        differing.append((one, mine, theirs, rewritten, applied))
    if not differing:
        return
    again = simulator.run([rewritten.simulation() for *_, rewritten, _ in differing])
    for (one, mine, theirs, rewritten, applied), answer in zip(differing, again, strict=True):
        # Explained only if the rewrite changed the case and both now agree, as they must
        # when the rewritten element is all they read differently.
        if applied and ours(rewritten) == mine and _checked(answer, rewritten) == mine:
            run.explained_cases += 1
            for difference in applied:
                run.explained[difference] = run.explained.get(difference, 0) + 1
        else:
            run.unexplained.append((one, mine, theirs))
