"""Each field rule's JSON Schema accepts exactly the values the rule accepts, so the OpenAPI
document (made from the schemas) and the handlers (which run the rules) cannot disagree."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jsonschema
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from backend_kit.errors import ApiError
from backend_kit.validation import Rule, body_schema, validate
from template_gen.render import load_fields
from template_gen.spec import SPEC

ROOT = Path(__file__).resolve().parents[2]


# Every route's body fields, as the OpenAPI document loads them.
BODIES = load_fields(SPEC, ROOT)
RULES = {
    f"{route} {name}": field.rule
    for route, (schema, _) in BODIES.items()
    for name, field in schema.items()
}
# Every character, lone surrogates and control characters included.
ANY_TEXT = st.text(st.characters(exclude_categories=()), max_size=260)
VALUES = st.one_of(
    ANY_TEXT,
    st.text(st.sampled_from("abcAB09-._@/+ \t\n"), max_size=70),
    st.from_regex(r"[a-z]{1,8}@[a-z]{1,8}\.[a-z]{2,4}", fullmatch=True),
    st.from_regex(r"[a-z]{1,10}/[a-z0-9.+-]{1,10}", fullmatch=True),
    st.integers(min_value=-5, max_value=10**12 + 5),
    st.lists(ANY_TEXT, max_size=22),
    st.none(),
    st.booleans(),
)


def holds_lone_surrogate(value: Any) -> bool:
    """No JSON document holds one (RFC 7493: I-JSON strings are Unicode scalar values), so no
    schema can be asked about it; the rules refuse it (validation.text)."""
    if isinstance(value, str):
        return any("\ud800" <= ch <= "\udfff" for ch in value)
    if isinstance(value, list):
        return any(holds_lone_surrogate(v) for v in value)
    if isinstance(value, dict):
        return any(holds_lone_surrogate(k) or holds_lone_surrogate(v) for k, v in value.items())
    return False


def accepts(rule: Rule, value: Any) -> bool:
    try:
        rule(value)
    except ValueError:
        return False
    return True


@pytest.mark.parametrize("name", sorted(RULES))
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(value=VALUES)
def test_a_rule_and_its_schema_accept_the_same_values(name: str, value: Any) -> None:
    rule = RULES[name]
    if holds_lone_surrogate(value):
        assert not accepts(rule, value), (name, value)
        return
    by_schema = jsonschema.Draft202012Validator(dict(rule.schema)).is_valid(value)
    assert accepts(rule, value) == by_schema, (name, value)


@pytest.mark.parametrize("route", sorted(BODIES))
@settings(max_examples=100, deadline=None)
@given(body=st.dictionaries(st.sampled_from(["name", "email", "tags", "size", "x"]), VALUES))
def test_a_body_schema_accepts_the_bodies_validate_accepts(route: str, body: dict) -> None:
    schema, partial = BODIES[route]
    document = body_schema(schema, partial=partial)
    if holds_lone_surrogate(body):
        with pytest.raises(ApiError):
            validate(body, schema, partial=partial)
        return
    try:
        validate(body, schema, partial=partial)
        valid = True
    except Exception:
        valid = False
    assert jsonschema.Draft202012Validator(document).is_valid(body) == valid, (route, body)


def test_a_body_is_required_exactly_where_the_handlers_refuse_none() -> None:
    """OpenAPI's requestBody.required defaults to false, which would tell a client that a
    PATCH without a body is fine; validate() answers it 400."""
    from template_gen.openapi import document
    from template_gen.render import load_bodies, load_parameters

    paths = document(SPEC, load_bodies(SPEC, ROOT), load_parameters(ROOT))["paths"]
    for key, (schema, partial) in BODIES.items():
        with pytest.raises(ApiError):
            validate(None, schema, partial=partial)
        method, path = key.split(" ", 1)
        assert paths[path][method.lower()]["requestBody"]["required"] is True, key


@pytest.mark.parametrize(
    "name", sorted(n for n, r in RULES.items() if r.schema["type"] == "string")
)
def test_every_text_rule_refuses_a_lone_surrogate(name: str) -> None:
    """The case the schema comparison leaves out, every time, not only when generated."""
    assert not accepts(RULES[name], "ok\ud800")
