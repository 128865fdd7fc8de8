"""The API contract's error shape: `{"error": {"code", "message", "request_id"}}`."""

from __future__ import annotations

import json
from typing import Any


def error_response(
    status: int, code: str, message: str, request_id: str, **extra: Any
) -> dict[str, Any]:
    error: dict[str, Any] = {"code": code, "message": message, "request_id": request_id}
    error.update(extra)
    return {
        "statusCode": status,
        "headers": {"content-type": "application/json"},
        "body": json.dumps({"error": error}),
    }
