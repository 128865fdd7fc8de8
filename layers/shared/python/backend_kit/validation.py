"""Field rules as data. A schema maps each field to a rule; validating collects a message
for every bad field, so `details` names them all at once. Each rule also states, as JSON
Schema, exactly the values it accepts: build/openapi.json is made from them."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from backend_kit.errors import invalid


@dataclass(frozen=True)
class Rule:
    """`check` returns the cleaned value or raises ValueError(message); `schema` is the JSON
    Schema of the values it accepts."""

    check: Callable[[Any], Any]
    schema: Mapping[str, Any]

    def __call__(self, value: Any) -> Any:
        return self.check(value)


EMAIL = re.compile(
    r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$"
)
MULTILINE = frozenset("\n\r\t")
# Where a JSON Schema pattern must end: `$` also matches before a final newline in Python's
# regular expressions (not in ECMA-262's), and this lookahead means the end in both.
END = "(?![\\s\\S])"
# What text() accepts, as JSON Schema patterns: no control character (Unicode category Cc);
# multiline text may hold tabs and line breaks. A lone surrogate is refused too, though no
# pattern says so: it is no Unicode scalar value, so no I-JSON string holds one (RFC 7493),
# and JSON Schema's strings are I-JSON's.
ONE_LINE = "^[^\\u0000-\\u001f\\u007f-\\u009f]*" + END
MULTILINE_TEXT = "^[^\\u0000-\\u0008\\u000b\\u000c\\u000e-\\u001f\\u007f-\\u009f]*" + END


def whole(pattern: re.Pattern[str]) -> str:
    """An anchored pattern as a JSON Schema pattern that matches the whole string only."""
    return pattern.pattern.removesuffix("$") + END


# The headers and query parameters the handlers read (backend_kit.http, .idempotency), here
# so that build/openapi.json states them from the same rules (parameter_schemas).
# An entity tag of a version (`"3"`, RFC 9110 8.8.3), or the bare number.
IF_MATCH = re.compile(r'^(?:(?:W/)?"[0-9]{1,18}"|[0-9]{1,18})$')
IDEMPOTENCY_KEY = re.compile(r"^[\x21-\x7e]{1,128}$")
MAX_PAGE = 100


def parameter_schemas() -> dict[str, dict[str, Any]]:
    """The JSON Schema of each header and query parameter above, by the name it is sent as."""
    return {
        "If-Match": {"type": "string", "pattern": whole(IF_MATCH)},
        "Idempotency-Key": {"type": "string", "pattern": whole(IDEMPOTENCY_KEY)},
        "limit": {"type": "integer", "minimum": 1, "maximum": MAX_PAGE},
    }


def _has_control(value: str, allowed: frozenset[str] = frozenset()) -> bool:
    return any(unicodedata.category(ch) == "Cc" and ch not in allowed for ch in value)


def _has_surrogate(value: str) -> bool:
    """A lone UTF-16 half (JSON's "\\ud800"): no UTF-8 encodes it, and DynamoDB refuses it."""
    return any("\ud800" <= ch <= "\udfff" for ch in value)


def shown(name: str) -> str:
    """A field name as an error can print it, whatever the client sent."""
    return name.encode("utf-8", "replace").decode("utf-8")[:100]


def text(
    min_length: int,
    max_length: int,
    multiline: bool = False,
    pattern: re.Pattern[str] | None = None,
    meaning: str = "",
) -> Rule:
    """Text of a length; `pattern` (ASCII only) narrows it further, `meaning` says how."""

    def rule(value: Any) -> str:
        if not isinstance(value, str):
            raise ValueError("must be a string")
        if not min_length <= len(value) <= max_length:
            raise ValueError(f"must be {min_length} to {max_length} characters")
        if _has_control(value, MULTILINE if multiline else frozenset()):
            raise ValueError("must not contain control characters")
        if _has_surrogate(value):
            raise ValueError("must be valid Unicode, without lone surrogates")
        if pattern is not None and not pattern.fullmatch(value):
            raise ValueError(meaning or f"must match {pattern.pattern}")
        return value

    # A narrowing pattern (ASCII, anchored) excludes control characters itself.
    allowed = whole(pattern) if pattern else MULTILINE_TEXT if multiline else ONE_LINE
    schema = {"type": "string", "minLength": min_length, "maxLength": max_length,
              "pattern": allowed}  # fmt: skip
    return Rule(rule, schema)


def integer(minimum: int, below: int) -> Rule:
    def rule(value: Any) -> int:
        # JSON has one number type: 3.0 is the integer 3, as JSON Schema's "integer" says.
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError("must be an integer")
        if not minimum <= value < below:
            raise ValueError(f"must be at least {minimum} and below {below}")
        return value

    return Rule(rule, {"type": "integer", "minimum": minimum, "maximum": below - 1})


def string_list(max_items: int, item: Rule) -> Rule:
    def rule(value: Any) -> list[Any]:
        if not isinstance(value, list):
            raise ValueError("must be a list")
        if len(value) > max_items:
            raise ValueError(f"must have at most {max_items} entries")
        cleaned = []
        for index, entry in enumerate(value):
            try:
                cleaned.append(item(entry))
            except ValueError as error:
                raise ValueError(f"entry {index} {error}") from None
        return cleaned

    return Rule(rule, {"type": "array", "maxItems": max_items, "items": dict(item.schema)})


def _email(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError("must be a string")
    if len(value) > 254 or not EMAIL.fullmatch(value):
        raise ValueError("must be an email address")
    return value.lower()


email = Rule(_email, {"type": "string", "maxLength": 254, "pattern": whole(EMAIL)})


@dataclass(frozen=True)
class Field:
    rule: Rule
    required: bool = False
    nullable: bool = False  # null clears the field on an update


Schema = Mapping[str, Field]


def body_schema(schema: Schema, *, partial: bool = False) -> dict[str, Any]:
    """The JSON Schema of the bodies validate() accepts, with the same `partial`."""
    properties: dict[str, Any] = {}
    for name, field in schema.items():
        accepted = dict(field.rule.schema)
        properties[name] = (
            {"anyOf": [accepted, {"type": "null"}]} if field.nullable and partial else accepted
        )
    document: dict[str, Any] = {
        "type": "object",
        "properties": properties,
        "additionalProperties": False,
    }
    if partial:
        document["minProperties"] = 1
    else:
        document["required"] = [name for name, field in schema.items() if field.required]
    return document


def validate(body: Any, schema: Schema, *, partial: bool = False) -> dict[str, Any]:
    """Clean `body` against `schema`. `partial` (updates): nothing is required, but at least
    one field must be given."""
    if not isinstance(body, dict):
        raise invalid({"body": "must be a JSON object"})
    details: dict[str, str] = {}
    cleaned: dict[str, Any] = {}
    for name in body:
        if name not in schema:
            details[shown(str(name))] = "is not a known field"
    for name, field in schema.items():
        if name not in body:
            if field.required and not partial:
                details[name] = "is required"
            continue
        value = body[name]
        if value is None and (field.nullable and partial):
            cleaned[name] = None
            continue
        try:
            cleaned[name] = field.rule(value)
        except ValueError as error:
            details[name] = str(error)
    if partial and not body and not details:
        details["body"] = f"must set at least one of: {', '.join(schema)}"
    if details:
        raise invalid(details)
    return cleaned
