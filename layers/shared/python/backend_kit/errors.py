"""The API contract's errors: `{"error": {"code", "message", "request_id"[, "details"]}}`."""

from __future__ import annotations

from typing import Any


class ApiError(Exception):
    """An expected failure with its HTTP status; the resolver turns it into the contract."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        details: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details = details
        self.headers = headers or {}

    def body(self, request_id: str) -> dict[str, Any]:
        error: dict[str, Any] = {
            "code": self.code,
            "message": self.message,
            "request_id": request_id,
        }
        if self.details:
            error["details"] = self.details
        return {"error": error}


def invalid(details: dict[str, str], message: str = "The request is invalid") -> ApiError:
    return ApiError(400, "invalid_request", message, details=details)


def malformed(message: str) -> ApiError:
    return ApiError(400, "malformed_request", message)


def unauthorized() -> ApiError:
    return ApiError(401, "unauthorized", "A valid bearer token is required")


def forbidden(message: str) -> ApiError:
    return ApiError(403, "forbidden", message)


def not_found(what: str = "resource") -> ApiError:
    return ApiError(404, "not_found", f"No such {what}")


def conflict(message: str, code: str = "conflict", **headers: str) -> ApiError:
    return ApiError(409, code, message, headers=headers or None)


def precondition_failed() -> ApiError:
    return ApiError(412, "precondition_failed", "The resource changed: If-Match is stale")


def payload_too_large(limit: int) -> ApiError:
    return ApiError(413, "payload_too_large", f"The body exceeds {limit} bytes")


def unsupported_media_type() -> ApiError:
    return ApiError(415, "unsupported_media_type", "The body must be application/json")


def precondition_required() -> ApiError:
    return ApiError(428, "precondition_required", "This request needs an If-Match header")


def unavailable(retry_after_s: int) -> ApiError:
    return ApiError(
        503,
        "unavailable",
        "A dependency is unavailable; retry later",
        headers={"Retry-After": str(retry_after_s)},
    )


INTERNAL = ApiError(500, "internal_error", "An unexpected error occurred")
