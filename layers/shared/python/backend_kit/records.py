"""Record plumbing shared by the functions: ids, timestamps, DynamoDB attribute maps."""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()


def now() -> str:
    """ISO 8601 in UTC with milliseconds, e.g. 2026-11-23T19:00:00.123Z."""
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def new_id() -> str:
    """A UUIDv7 (RFC 9562): time-ordered, so a partition lists in creation order."""
    millis = time.time_ns() // 1_000_000
    value = (millis & ((1 << 48) - 1)) << 80
    value |= 0x7 << 76  # version
    value |= int.from_bytes(os.urandom(10), "big") & ((1 << 76) - 1)
    value = (value & ~(0x3 << 62)) | (0x2 << 62)  # RFC 4122 variant
    return str(uuid.UUID(int=value))


def is_id(value: str) -> bool:
    try:
        return str(uuid.UUID(value)) == value
    except (ValueError, TypeError, AttributeError):
        return False


def to_item(record: dict[str, Any]) -> dict[str, Any]:
    return {key: _serializer.serialize(value) for key, value in record.items()}


def from_item(item: dict[str, Any]) -> dict[str, Any]:
    record = {key: _deserializer.deserialize(value) for key, value in item.items()}
    return {key: _plain(value) for key, value in record.items()}


def _plain(value: Any) -> Any:
    """DynamoDB numbers come back as Decimal; the API speaks integers."""
    if isinstance(value, Decimal):
        return int(value)
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def value(data: Any) -> Mapping[str, Any]:
    """One DynamoDB attribute value, e.g. `{"S": "abc"}`."""
    return _serializer.serialize(data)
