"""The HTTP side of every function: the resolver with the contract's error handling, and
request helpers that validate as they read."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.logging import correlation_paths
from botocore.exceptions import BotoCoreError, ClientError

from backend_kit import errors, snapstart
from backend_kit.aws import RETRY_AFTER_S, is_unavailable
from backend_kit.cursors import Cursors
from backend_kit.validation import IF_MATCH, MAX_PAGE, Schema, validate

MAX_BODY_BYTES = 64 * 1024
DEFAULT_PAGE = 20
MAX_SUBJECT = 128
JSON = "application/json"

logger = Logger()
metrics = Metrics()


def _json(data: Any) -> str:
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False, sort_keys=True)


def request_id(app: APIGatewayHttpResolver) -> str:
    """API Gateway's request id; Lambda's for a direct invocation that carries none."""
    try:
        from_gateway = app.current_event.request_context.request_id
    except KeyError:
        from_gateway = ""
    return str(from_gateway or getattr(app.lambda_context, "aws_request_id", ""))


def error_response(app: APIGatewayHttpResolver, error: errors.ApiError) -> Response:
    return Response(
        status_code=error.status,
        content_type=JSON,
        body=_json(error.body(request_id(app))),
        headers=error.headers,
    )


def create_app() -> APIGatewayHttpResolver:
    """A resolver whose every failure, expected or not, is the contract's JSON error."""
    app = APIGatewayHttpResolver(serializer=_json)

    @app.not_found
    def _not_found(_: Exception) -> Response:
        return error_response(app, errors.not_found("route"))

    @app.exception_handler(errors.ApiError)
    def _api_error(error: errors.ApiError) -> Response:
        if error.status >= 500:
            logger.warning("request failed", extra={"code": error.code})
        return error_response(app, error)

    @app.exception_handler([ClientError, BotoCoreError])
    def _aws_error(error: Exception) -> Response:
        if is_unavailable(error):
            logger.warning("dependency unavailable after retries", exc_info=error)
            return error_response(app, errors.unavailable(RETRY_AFTER_S))
        return _unexpected(error)

    @app.exception_handler(Exception)
    def _unexpected(error: Exception) -> Response:
        # The trace goes to the logs only; the caller gets the request id to quote.
        logger.exception("unhandled error")
        return error_response(app, errors.INTERNAL)

    return app


def lambda_handler(app: APIGatewayHttpResolver) -> Callable[[dict, Any], dict]:
    """The entry point Lambda calls, made at import; it arms SnapStart's hooks, so no handler
    can leave out what restored environments must not share (backend_kit/snapstart.py)."""
    snapstart.arm()

    @metrics.log_metrics
    @logger.inject_lambda_context(
        correlation_id_path=correlation_paths.API_GATEWAY_HTTP, clear_state=True
    )
    def handler(event: dict, context: Any) -> dict:
        return app.resolve(event, context)

    return handler


def is_subject(value: str) -> bool:
    """What a caller's id can be: 1 to 128 printable characters (no control characters, no
    lone surrogates)."""
    return 0 < len(value) <= MAX_SUBJECT and value.isprintable()


def caller(app: APIGatewayHttpResolver) -> str:
    """The token's subject, as the JWT authorizer passed it through. Never from the body."""
    subject = app.current_event.request_context.authorizer.jwt_claim.get("sub")
    # The authorizer verified the token; this only keeps odd subjects out of table keys.
    if not isinstance(subject, str) or not is_subject(subject):
        raise errors.unauthorized()
    logger.append_keys(caller=subject)
    return subject


def header(app: APIGatewayHttpResolver, name: str) -> str | None:
    value = app.current_event.headers.get(name)  # case-insensitive in Powertools v3
    return value if isinstance(value, str) else None


def json_body(app: APIGatewayHttpResolver, schema: Schema, *, partial: bool = False) -> dict:
    # Not event.decoded_body: it decodes base64 leniently (dropping what is not base64), then
    # to text, raising on bytes that are not UTF-8; the size limit and the 400s need the bytes.
    event = app.current_event
    raw = event.body
    if raw is None or raw == "":
        return validate(None, schema, partial=partial)
    if not isinstance(raw, str):  # a direct invocation can pass any JSON value
        raise errors.malformed("The body is not valid JSON")
    if event.is_base64_encoded:
        try:
            data = base64.b64decode(raw, validate=True)
        except (binascii.Error, ValueError):
            raise errors.malformed("The body is not valid base64") from None
    else:
        data = raw.encode("utf-8", "surrogatepass")
    if len(data) > MAX_BODY_BYTES:
        raise errors.payload_too_large(MAX_BODY_BYTES)
    content_type = (header(app, "content-type") or "").split(";")[0].strip().lower()
    if content_type != JSON and not content_type.endswith("+json"):
        raise errors.unsupported_media_type()
    try:
        body = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise errors.malformed("The body is not valid UTF-8 JSON") from None
    return validate(body, schema, partial=partial)


# What a weak tag asks for: versions start at 1, so the write's condition fails as a stale
# version would (412), and a missing record is still 404, as it is without If-Match.
NO_VERSION = -1


def expected_version(app: APIGatewayHttpResolver) -> int:
    """The version in If-Match; 428 without it. If-Match compares strongly, so a weak tag
    (`W/"3"`) never matches (RFC 9110, 13.1.1). Read it after the body: a request that is
    invalid without its precondition is 400 (RFC 9110, 13.2.1)."""
    value = header(app, "if-match")
    if value is None:
        raise errors.precondition_required()
    tag = value.strip()
    if IF_MATCH.fullmatch(tag) is None:
        raise errors.invalid({"If-Match": 'must be the resource\'s version, e.g. "3"'})
    # `W/"3"`, `"3"` or `3`: the pattern allows nothing else around the number.
    return NO_VERSION if tag.startswith("W/") else int(tag.strip('"'))


def page_limit(app: APIGatewayHttpResolver) -> int:
    raw = app.current_event.get_query_string_value("limit")
    if raw is None:
        return DEFAULT_PAGE
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 3 and 1 <= int(raw) <= MAX_PAGE):
        raise errors.invalid({"limit": f"must be an integer from 1 to {MAX_PAGE}"})
    return int(raw)


def cursor_param(app: APIGatewayHttpResolver) -> str | None:
    return app.current_event.get_query_string_value("cursor")


Page = tuple[list[dict[str, Any]], dict[str, Any] | None]


def list_page(
    app: APIGatewayHttpResolver,
    cursors: Cursors,
    route: str,
    fetch: Callable[[str, int, dict[str, Any] | None], Page],
) -> Response:
    """One page of `fetch(caller, limit, start)`, with a cursor bound to caller and route."""
    who = caller(app)
    limit = page_limit(app)
    scope = f"{who}:{route}"
    items, last = fetch(who, limit, cursors.decode(scope, cursor_param(app)))
    return respond(200, {"items": items, "next_cursor": cursors.encode(scope, last)})


def respond(
    status: int, body: Any = None, *, etag: int | None = None, location: str | None = None
) -> Response:
    headers = {}
    if etag is not None:
        headers["ETag"] = f'"{etag}"'
    if location is not None:
        headers["Location"] = location
    return Response(
        status_code=status,
        content_type=JSON if body is not None else None,
        body=_json(body) if body is not None else "",
        headers=headers,
    )
