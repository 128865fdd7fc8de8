"""GET /health: liveness and the build version, without auth."""

from __future__ import annotations

import json
import os
from typing import Any


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    body = {"status": "ok", "version": os.environ.get("BUILD_VERSION", "unbuilt")}
    return {
        "statusCode": 200,
        "headers": {"content-type": "application/json", "cache-control": "no-store"},
        "body": json.dumps(body),
    }
