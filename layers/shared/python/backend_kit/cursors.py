"""Opaque pagination cursors, HMAC-signed and bound to the caller and the query.

A cursor is `<payload>.<signature>`, both base64url. The signature covers the scope (caller
and query) as well as the payload, so a cursor replayed by another caller or on another
query fails verification just like a tampered one.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from collections.abc import Callable
from typing import Any

from backend_kit.errors import invalid

MAX_CURSOR_LENGTH = 2048


def _b64encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _b64decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class Cursors:
    def __init__(self, key: Callable[[], bytes]) -> None:
        self._key = key  # fetched lazily: only list pages need it

    def _sign(self, scope: str, payload: str) -> str:
        mac = hmac.new(self._key(), f"{scope}\n{payload}".encode(), hashlib.sha256)
        return _b64encode(mac.digest())

    def encode(self, scope: str, position: dict[str, Any] | None) -> str | None:
        if not position:
            return None
        payload = _b64encode(json.dumps(position, sort_keys=True, separators=(",", ":")).encode())
        return f"{payload}.{self._sign(scope, payload)}"

    def decode(self, scope: str, cursor: str | None) -> dict[str, Any] | None:
        if cursor is None:
            return None
        bad = invalid({"cursor": "is not a valid cursor for this query"})
        if len(cursor) > MAX_CURSOR_LENGTH or cursor.count(".") != 1:
            raise bad
        payload, signature = cursor.split(".")
        expected = self._sign(scope, payload).encode()
        if not hmac.compare_digest(expected, signature.encode("utf-8", "replace")):
            raise bad
        try:
            position = json.loads(_b64decode(payload))
        except (binascii.Error, ValueError, UnicodeDecodeError):
            raise bad from None
        if not isinstance(position, dict):
            raise bad
        return position
