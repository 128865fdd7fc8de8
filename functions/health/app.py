"""GET /health: liveness and the build version, without auth or dependencies."""

from __future__ import annotations

import json
import os
from typing import Any

VERSION = os.environ.get("BUILD_VERSION", "unbuilt")


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return {
        "statusCode": 200,
        "headers": {"content-type": "application/json", "cache-control": "no-store"},
        "body": json.dumps({"status": "ok", "version": VERSION}),
    }
