"""The /items routes. Until their handlers land, every route answers 501 in the contract's
error shape, so a deployed stack fails loudly rather than pretending to work."""

from __future__ import annotations

from typing import Any

from backend_kit.errors import error_response


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    request_id = event.get("requestContext", {}).get("requestId", "")
    route = event.get("routeKey", "")
    return error_response(501, "not_implemented", f"{route} is not implemented yet", request_id)
