"""schemathesis hooks for `make fuzz` (fuzz.toml names this file).

An Idempotency-Key names one logical request. A client sends a key again only to retry, and
a retry of a create whose item was deleted since replays the first 201 (the stored response,
as the Idempotency-Key header draft prescribes; docs/api.md). Generated keys collide all the
time, since hypothesis favours short strings, and ensure_resource_availability then reads a
replay as a lost item. So each valid generated key gets a serial suffix: still valid, never
repeated. Invalid keys are left as generated, so their rejection is still tested.
"""

from __future__ import annotations

import itertools
import re
from typing import Any

import schemathesis

VALID_KEY = re.compile(r"[\x21-\x7e]{1,100}")  # room for the suffix within 128 characters
_serial = itertools.count()


@schemathesis.hook
def map_headers(context: Any, headers: dict[str, Any] | None) -> dict[str, Any] | None:
    operation = context.operation
    if not headers or operation is None or operation.label != "POST /items":
        return headers
    key = headers.get("Idempotency-Key")
    if not isinstance(key, str) or not VALID_KEY.fullmatch(key):
        return headers
    return {**headers, "Idempotency-Key": f"{key}-{next(_serial)}"}
