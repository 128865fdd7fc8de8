"""Field rules as data. A schema maps each field to a rule; validating collects a message
for every bad field, so `details` names them all at once."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from backend_kit.errors import invalid

Rule = Callable[[Any], Any]  # returns the cleaned value or raises ValueError(message)

EMAIL = re.compile(
    r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$"
)
MULTILINE = frozenset("\n\r\t")


def _has_control(value: str, allowed: frozenset[str] = frozenset()) -> bool:
    return any(unicodedata.category(ch) == "Cc" and ch not in allowed for ch in value)


def _has_surrogate(value: str) -> bool:
    """A lone UTF-16 half (JSON's "\ud800"): no UTF-8 encodes it, and DynamoDB refuses it."""
    return any("\ud800" <= ch <= "\udfff" for ch in value)


def shown(name: str) -> str:
    """A field name as an error can print it, whatever the client sent."""
    return name.encode("utf-8", "replace").decode("utf-8")[:100]


def text(min_length: int, max_length: int, multiline: bool = False) -> Rule:
    def rule(value: Any) -> str:
        if not isinstance(value, str):
            raise ValueError("must be a string")
        if not min_length <= len(value) <= max_length:
            raise ValueError(f"must be {min_length} to {max_length} characters")
        if _has_control(value, MULTILINE if multiline else frozenset()):
            raise ValueError("must not contain control characters")
        if _has_surrogate(value):
            raise ValueError("must be valid Unicode, without lone surrogates")
        return value

    return rule


def integer(minimum: int, below: int) -> Rule:
    def rule(value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError("must be an integer")
        if not minimum <= value < below:
            raise ValueError(f"must be at least {minimum} and below {below}")
        return value

    return rule


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

    return rule


def email(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError("must be a string")
    if len(value) > 254 or not EMAIL.match(value):
        raise ValueError("must be an email address")
    return value.lower()


@dataclass(frozen=True)
class Field:
    rule: Rule
    required: bool = False
    nullable: bool = False  # null clears the field on an update


Schema = Mapping[str, Field]


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
