"""What a browser gets from the emulator: CORS as each AWS endpoint a page calls answers it.
moto answers every origin on every response (and S3's preflight from all of a bucket's rules
at once); these answers replace its.

- The user pool's API, `cognito-idp.<region>.amazonaws.com`, takes calls from any origin: a
  pool has no CORS setting ("currently this is not supported on Cognito",
  https://github.com/aws-amplify/amplify-js/issues/2982). Its preflight answer, recorded
  (https://github.com/AllanZhengYP/cors-test/blob/main/output.md, "cognito-idp"): 200, empty,
  `Access-Control-Allow-Origin: *`, the requested headers allowed as they were asked for,
  `Access-Control-Allow-Methods: POST`, the x-amzn-RequestId, x-amzn-ErrorType,
  x-amzn-ErrorMessage and Date headers exposed, `Access-Control-Max-Age: 172800`. Its answer
  to a call from a page carries the same origin and exposed headers, an error's too.
- S3 answers from the bucket's CORS configuration (offline/s3/cors.py).

A preflight is never signed (https://fetch.spec.whatwg.org/#cors-preflight-fetch: it "excludes
credentials"), so it is answered before any signature is looked for.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from offline.enforcement.service_errors import Answer, refusal
from offline.s3 import cors

Environ = dict[str, Any]
Headers = list[tuple[str, str]]
COGNITO_TARGET = "AWSCognitoIdentityProviderService."
COGNITO_EXPOSED = "x-amzn-RequestId,x-amzn-ErrorType,x-amzn-ErrorMessage,Date"
COGNITO_MAX_AGE = "172800"


def _origin(environ: Environ) -> str | None:
    return environ.get("HTTP_ORIGIN") or None


def _without_cors(headers: Headers) -> Headers:
    """moto's own CORS headers dropped: its Access-Control-* and the `Vary: Origin` that goes
    with them."""
    return [
        (name, value)
        for name, value in headers
        if not name.lower().startswith("access-control-")
        and not (name.lower() == "vary" and value.strip().lower() == "origin")
    ]


def is_cognito(environ: Environ) -> bool:
    return str(environ.get("HTTP_X_AMZ_TARGET", "")).startswith(COGNITO_TARGET)


def cognito_preflight(environ: Environ) -> Answer:
    headers = [("Access-Control-Allow-Origin", "*")]
    requested = environ.get("HTTP_ACCESS_CONTROL_REQUEST_HEADERS")
    if requested:
        headers.append(("Access-Control-Allow-Headers", str(requested)))
    headers += [
        ("Access-Control-Allow-Methods", "POST"),
        ("Access-Control-Expose-Headers", COGNITO_EXPOSED),
        ("Access-Control-Max-Age", COGNITO_MAX_AGE),
    ]
    return 200, headers, b""


def cognito_headers(environ: Environ, headers: Headers) -> Headers:
    kept = _without_cors(headers)
    if _origin(environ) is None:
        return kept
    return [*kept, ("Access-Control-Allow-Origin", "*"),
            ("Access-Control-Expose-Headers", COGNITO_EXPOSED)]  # fmt: skip


def _bucket_and_key(environ: Environ) -> tuple[str, str]:
    bucket, _, key = str(environ.get("PATH_INFO", "")).lstrip("/").partition("/")
    return bucket, key


def s3_preflight(environ: Environ) -> Answer:
    name, key = _bucket_and_key(environ)
    method = environ.get("HTTP_ACCESS_CONTROL_REQUEST_METHOD") or None
    requested = cors.requested_headers(environ.get("HTTP_ACCESS_CONTROL_REQUEST_HEADERS"))
    decided = cors.preflight(cors.bucket_named(name), key, _origin(environ), method, requested)
    if isinstance(decided, cors.Refused):
        return refusal(
            environ, "s3", decided.code, decided.message, decided.status, decided.details
        )
    return 200, decided, b""


def s3_headers(environ: Environ, headers: Headers) -> Headers:
    kept = _without_cors(headers)
    origin = _origin(environ)
    if origin is None:
        return kept
    # A browser sends these only on a preflight, but when a request carries them S3 matches
    # its rules with them (recorded against S3: test_cors_match_methods and
    # test_cors_match_headers in https://github.com/localstack/localstack/blob/main/tests/aws/services/s3/test_s3_cors.py).
    method = environ.get("HTTP_ACCESS_CONTROL_REQUEST_METHOD") or environ["REQUEST_METHOD"]
    requested = cors.requested_headers(environ.get("HTTP_ACCESS_CONTROL_REQUEST_HEADERS"))
    bucket = cors.bucket_named(_bucket_and_key(environ)[0])
    return kept + cors.actual(bucket, origin, method, requested)


def rewriting(
    start_response: Callable[..., Any], rewrite: Callable[[Environ, Headers], Headers],
    environ: Environ,
) -> Callable[..., Any]:  # fmt: skip
    """start_response, with the answer's headers as `rewrite` gives them."""

    def start(status: str, headers: Headers, exc_info: Any = None) -> Any:
        rewritten = rewrite(environ, list(headers))
        if exc_info is None:
            return start_response(status, rewritten)
        return start_response(status, rewritten, exc_info)

    return start
