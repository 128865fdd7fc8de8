"""Signature Version 4, checked as AWS checks it: the signature a request carries, in its
Authorization header or its query string (a presigned URL), must be the one the caller's secret
gives for the request exactly as it arrived: its raw request URI, the headers it says it
signed, and its body's bytes.

Three calls, none with side effects:
- `signature_of(environ)`: the signature a request carries; None for an unsigned (anonymous)
  request; `Malformed` for one that cannot be read.
- `verify(environ, body, signature, secret, session_token, now)`: None when it verifies; else
  a `Failure` naming the kind (`MISMATCH`, `TOKEN`, `SKEWED`, ...).
- `error_for(service, protocol, failure)`: the status, code and message the service answers
  that failure with, in its protocol (`protocol_of(environ, body, service)`).

The canonical request, the string to sign and the signature are botocore's own
(`SigV4Auth`, `S3SigV4Auth`): its path normalisation and double encoding for every service but
S3, its query string encoding and sorting, its header value trimming and its signing key.

Pages (each rule below names the one that states it):
- https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv-create-signed-request.html
- https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv-signing-elements.html
- https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv-troubleshooting.html
- https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-auth-using-authorization-header.html
- https://docs.aws.amazon.com/AmazonS3/latest/API/sig-v4-header-based-auth.html
- https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-streaming.html
- https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-streaming-trailers.html
- https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-query-string-auth.html
- errors: https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html,
  https://docs.aws.amazon.com/STS/latest/APIReference/CommonErrors.html,
  https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Programming.Errors.html,
  https://docs.aws.amazon.com/systems-manager/latest/APIReference/CommonErrors.html,
  https://docs.aws.amazon.com/kms/latest/APIReference/CommonErrors.html,
  https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/CommonErrors.html,
  https://docs.aws.amazon.com/lambda/latest/api/CommonErrors.html
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from functools import cached_property
from typing import Any, cast
from urllib.parse import unquote

from botocore.auth import S3SigV4Auth, SigV4Auth
from botocore.awsrequest import AWSRequest, HTTPHeaders
from botocore.credentials import Credentials

Environ = Mapping[str, Any]
ALGORITHM = "AWS4-HMAC-SHA256"
TIMESTAMP = "%Y%m%dT%H%M%SZ"
EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()
# S3's x-amz-content-sha256 values besides a body's hex SHA-256
# (sigv4-auth-using-authorization-header.html, "x-amz-content-sha256").
UNSIGNED_PAYLOAD = "UNSIGNED-PAYLOAD"
STREAMING_UNSIGNED_TRAILER = "STREAMING-UNSIGNED-PAYLOAD-TRAILER"
STREAMING_SIGNED = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"
STREAMING_SIGNED_TRAILER = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER"
STREAMING_ECDSA = (
    "STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD",
    "STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD-TRAILER",
)
HEX_SHA256 = re.compile(r"[0-9a-fA-F]{64}")
# "The request reached the service more than 15 minutes after the date stamp on the request
# [...] or the date stamp on the request is more than 15 minutes in the future" (RequestExpired,
# https://docs.aws.amazon.com/STS/latest/APIReference/CommonErrors.html); S3 answers the same
# skew with RequestTimeTooSkewed (ErrorResponses.html).
SKEW = timedelta(minutes=15)
# X-Amz-Expires: "The minimum value you can set is 1, and the maximum is 604800 (seven days)"
# (sigv4-query-string-auth.html).
MAX_EXPIRES = 604800
# A presigned URL's own parameters (sigv4-query-string-auth.html; X-Amz-Expires is required by
# S3 only, and X-Amz-Security-Token only with temporary credentials).
QUERY_FIELDS = ("X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Date", "X-Amz-SignedHeaders",
                "X-Amz-Signature")  # fmt: skip
# Where a request came from when its target is absolute-form (the host is the signed Host
# header, never this).
PLACEHOLDER_ORIGIN = "http://signed.invalid"

# Failure kinds. `Malformed.kind` is MALFORMED or UNSUPPORTED; `Failure.kind` any of the rest.
# MISSING and UNKNOWN_KEY are decided by the caller (no signature; a key nobody issued), and
# EXPIRED_TOKEN too (a session past its expiry): `error_for` answers them all.
MISSING = "missing"  # no signature at all, where the service takes no anonymous call
MALFORMED = "malformed"  # a signature that cannot be read
UNSUPPORTED = "sigv2"  # an algorithm other than AWS4-HMAC-SHA256: SigV2, SigV4a
UNKNOWN_KEY = "unknown-key"  # an access key nobody issued
MISMATCH = "mismatch"  # not what the secret gives for this request
TOKEN = "token"  # the session token is missing, or is not the one issued with the key
EXPIRED_TOKEN = "expired-token"  # the session the key belongs to has ended
SKEWED = "skewed"  # dated more than 15 minutes from now
EXPIRED = "expired"  # a presigned URL past X-Amz-Date + X-Amz-Expires
TOO_LONG = "too-long"  # X-Amz-Expires out of 1..604800
PAYLOAD = "payload"  # S3: the body is not the one x-amz-content-sha256 names
NO_CONTENT_SHA256 = "no-content-sha256"  # S3: a header signature without x-amz-content-sha256
BAD_CONTENT_SHA256 = "bad-content-sha256"  # S3: an x-amz-content-sha256 S3 does not take
UNSIGNED_HEADERS = "unsigned-headers"  # S3: x-amz-* headers sent but not signed
INCOMPLETE_BODY = "incomplete-body"  # S3: an aws-chunked body that is not whole

# Protocols (https://smithy.io/2.0/aws/protocols/): how a service spells its errors.
JSON, QUERY, REST_XML, REST_JSON = "json", "query", "rest-xml", "rest-json"


class Malformed(ValueError):
    """A signature that cannot be read: AWS answers it before it looks at the caller.
    `kind` is MALFORMED, or UNSUPPORTED for any algorithm but AWS4-HMAC-SHA256 (SigV2 among
    them: "Amazon S3 supports only Signature Version 4" for buckets made since June 2020,
    https://docs.aws.amazon.com/AmazonS3/latest/userguide/UsingAWSSDK.html#UsingAWSSDK-sig2-deprecation).
    `in_query` tells a presigned URL's parameters from an Authorization header."""

    def __init__(self, message: str, kind: str = MALFORMED, in_query: bool = False) -> None:
        super().__init__(message)
        self.kind = kind
        self.in_query = in_query

    @property
    def failure(self) -> Failure:
        return Failure(self.kind, str(self), in_query=self.in_query)


@dataclass(frozen=True)
class Signature:
    """A request's signature, as `signature_of` read it."""

    access_key: str
    date: str  # YYYYMMDD, the credential scope's
    region: str
    service: str
    signed_headers: tuple[str, ...]  # lowercase, as listed
    signature: str  # lowercase hex
    in_query: bool  # a presigned URL
    timestamp: str  # YYYYMMDDTHHMMSSZ: X-Amz-Date, or the Date header
    session_token: str | None  # X-Amz-Security-Token, header or query
    expires: int | None  # X-Amz-Expires of a presigned URL, when it has one
    content_sha256: str | None  # the x-amz-content-sha256 header, if sent

    @cached_property
    def signed_at(self) -> datetime:
        return datetime.strptime(self.timestamp, TIMESTAMP).replace(tzinfo=UTC)

    @property
    def auth_type(self) -> str:
        # s3:authType (https://docs.aws.amazon.com/AmazonS3/latest/API/bucket-policy-s3-sigv4-conditions.html).
        return "REST-QUERY-STRING" if self.in_query else "REST-HEADER"


@dataclass(frozen=True)
class Failure:
    """Why a request is refused: its kind (above), words for the message, and for S3 the
    further elements of its <Error> (StringToSign, HeadersNotSigned, ...)."""

    kind: str
    detail: str = ""
    details: tuple[tuple[str, str], ...] = ()
    in_query: bool = False  # the signature was a presigned URL's


# ------------------------------------------------------------------------------ reading


def _header(environ: Environ, name: str) -> str | None:
    """A header as the WSGI server passed it (PEP 3333: Content-Type and Content-Length
    without the HTTP_ prefix; a repeated header joined with commas)."""
    key = name.upper().replace("-", "_")
    value = environ.get(key if key in ("CONTENT_TYPE", "CONTENT_LENGTH") else f"HTTP_{key}")
    return None if value is None else str(value)


def request_target(environ: Environ) -> tuple[str, str]:
    """(path, query) exactly as the client sent them, still percent-encoded: the raw request
    URI, which werkzeug's server passes as RAW_URI and REQUEST_URI. The decoded PATH_INFO cannot
    stand in for it: a key's "%2F" and its "/" decode alike."""
    raw = environ.get("RAW_URI") or environ.get("REQUEST_URI")
    if not raw:
        raise ValueError("the WSGI server passed no raw request URI (RAW_URI or REQUEST_URI)")
    target = str(raw)
    if not target.startswith("/") and "://" in target:  # absolute-form: scheme://host/path
        target = "/" + target.split("://", 1)[1].partition("/")[2]
    path, _, query = target.partition("?")
    return path or "/", query


def _query_pairs(query: str) -> list[tuple[str, str]]:
    # Each name and value percent-decoded once, "+" kept as sent: the canonical query string
    # encodes them again (reference_sigv-create-signed-request.html, "CanonicalQueryString").
    pairs = []
    for part in query.split("&") if query else []:
        name, _, value = part.partition("=")
        pairs.append((unquote(name), unquote(value)))
    return pairs


def _scope(credential: str, in_query: bool) -> tuple[str, str, str, str]:
    # access_key/YYYYMMDD/region/service/aws4_request (reference_sigv-signing-elements.html,
    # "Credential"); the wording is the services' own on the wire.
    parts = credential.split("/")
    if len(parts) != 5 or not all(parts):
        raise Malformed(
            "Credential must have exactly 5 slash-delimited elements, e.g. "
            f"keyid/date/region/service/term, got '{credential}'",
            in_query=in_query,
        )
    if parts[4] != "aws4_request":
        raise Malformed(
            "Credential should be scoped with a valid terminator: 'aws4_request', "
            f"not '{parts[4]}'.",
            in_query=in_query,
        )
    if not re.fullmatch(r"\d{8}", parts[1]):
        raise Malformed(f"Invalid credential date '{parts[1]}'.", in_query=in_query)
    return parts[0], parts[1], parts[2], parts[3]


def _authorization(value: str) -> dict[str, str]:
    """The elements of an Authorization header: `AWS4-HMAC-SHA256 Credential=...,
    SignedHeaders=..., Signature=...` ("There is no comma between the algorithm and
    Credential, but the other elements must be separated by commas",
    https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv-authentication-methods.html)."""
    algorithm, _, rest = value.strip().partition(" ")
    if algorithm != ALGORITHM:
        # "AWS key:signature" (SigV2), "AWS4-ECDSA-P256-SHA256 ..." (SigV4a), or another scheme.
        raise Malformed(
            f"Unsupported authorization type '{algorithm}': only AWS4-HMAC-SHA256 is accepted",
            UNSUPPORTED,
        )
    elements: dict[str, str] = {}
    for element in rest.split(","):
        name, equals, content = element.strip().partition("=")
        if not equals or name in elements:
            raise Malformed(f"Authorization header element '{element.strip()}' is malformed.")
        elements[name] = content.strip()
    for name in ("Credential", "SignedHeaders", "Signature"):
        if not elements.get(name):
            raise Malformed(f"Authorization header requires '{name}' parameter.")
    return elements


def _timestamp(environ: Environ, query: Mapping[str, str], in_query: bool) -> str:
    """X-Amz-Date (a query parameter of a presigned URL, else a header), else the Date header:
    "If we can't find an x-amz-date header, then we look for a date header"
    (reference_sigv-signing-elements.html, "Date")."""
    if in_query:
        stamp = query.get("X-Amz-Date", "")
    else:
        stamp = _header(environ, "x-amz-date") or ""
        date = _header(environ, "date")
        if not stamp and date:
            try:
                parsed = parsedate_to_datetime(date)
            except (TypeError, ValueError):
                raise Malformed(f"Date header '{date}' is not an HTTP date.") from None
            # An HTTP date is GMT; "-0000" (botocore's formatdate) parses as naive.
            aware = parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
            stamp = aware.astimezone(UTC).strftime(TIMESTAMP)
    if not stamp:
        raise Malformed(
            "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.",
            in_query=in_query,
        )
    try:
        datetime.strptime(stamp, TIMESTAMP)
    except ValueError:
        # "YYYYMMDD'T'HHMMSS'Z'" (https://docs.aws.amazon.com/STS/latest/APIReference/CommonParameters.html).
        message = f"X-Amz-Date '{stamp}' is not YYYYMMDD'T'HHMMSS'Z'."
        raise Malformed(message, in_query=in_query) from None
    return stamp


def signature_of(environ: Environ) -> Signature | None:
    """The signature a request carries, from its Authorization header or its query string;
    None when it carries neither (an anonymous request). Raises `Malformed` for one that
    cannot be read."""
    authorization = _header(environ, "authorization")
    _, raw_query = request_target(environ)
    query = dict(_query_pairs(raw_query))
    presigned = any(name in query for name in QUERY_FIELDS)
    if authorization and (presigned or "Signature" in query):
        # S3's wire wording for a request carrying two; it names one mechanism only.
        raise Malformed(
            "Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, "
            "Signature query string parameter or the Authorization header should be specified"
        )
    if authorization:
        elements = _authorization(authorization)
        in_query = False
        credential = elements["Credential"]
        signed_list, provided = elements["SignedHeaders"], elements["Signature"]
        token = _header(environ, "x-amz-security-token")
    elif presigned:
        in_query = True
        if query.get("X-Amz-Algorithm", ALGORITHM) != ALGORITHM:
            raise Malformed(
                'X-Amz-Algorithm only supports "AWS4-HMAC-SHA256"', UNSUPPORTED, in_query=True
            )
        missing = [name for name in QUERY_FIELDS if not query.get(name)]
        if missing:
            raise Malformed(
                "Query-string authentication version 4 requires the X-Amz-Algorithm, "
                "X-Amz-Credential, X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and "
                f"X-Amz-Expires parameters (missing {', '.join(missing)}).",
                in_query=True,
            )
        credential = query["X-Amz-Credential"]
        signed_list, provided = query["X-Amz-SignedHeaders"], query["X-Amz-Signature"]
        token = query.get("X-Amz-Security-Token")
    elif "AWSAccessKeyId" in query and "Signature" in query:
        # A SigV2 presigned URL (https://docs.aws.amazon.com/AmazonS3/latest/API/RESTAuthentication.html).
        raise Malformed("only AWS4-HMAC-SHA256 signatures are accepted", UNSUPPORTED, True)
    else:
        return None
    key, date, region, service = _scope(credential, in_query)
    timestamp = _timestamp(environ, query, in_query)
    if timestamp[:8] != date:
        # "The date that you specify as part of the credential scope must match the date of
        # your request" (reference_sigv-signing-elements.html, "Date").
        raise Malformed(
            "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date "
            f"from HTTP: '{date}' != '{timestamp[:8]}', from '{timestamp}'.",
            in_query=in_query,
        )
    signed = tuple(name.strip().lower() for name in signed_list.split(";"))
    if "host" not in signed:
        # The host header is always signed (reference_sigv-create-signed-request.html,
        # "CanonicalHeaders"; sigv4-query-string-auth.html, "X-Amz-SignedHeaders").
        raise Malformed(
            "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.",
            in_query=in_query,
        )
    expires = None
    if in_query and "X-Amz-Expires" in query:
        try:
            expires = int(query["X-Amz-Expires"])
        except ValueError:
            raise Malformed("X-Amz-Expires should be a number", in_query=True) from None
    elif in_query and service == "s3":
        raise Malformed(
            "Query-string authentication version 4 requires the X-Amz-Algorithm, "
            "X-Amz-Credential, X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and "
            "X-Amz-Expires parameters (missing X-Amz-Expires).",
            in_query=True,
        )
    content_sha256 = _header(environ, "x-amz-content-sha256")
    return Signature(key, date, region, service, signed, provided.lower(), in_query,
                     timestamp, token, expires, content_sha256)  # fmt: skip


# ------------------------------------------------------------------------------ verifying


class _Canonical(SigV4Auth):
    """botocore's SigV4 canonicalization of a request as it arrived. Two changes: every header
    the request names as signed is a canonical header (botocore's list of headers it never
    signs, such as User-Agent, is for a sender's choice, not for a check), and the payload line
    is the service's, given (`payload_line`)."""

    def __init__(self, secret: str, service: str, region: str, payload: str) -> None:
        super().__init__(Credentials("", secret), service, region)
        self.payload_line = payload

    def headers_to_sign(self, request: AWSRequest) -> HTTPHeaders:
        headers = HTTPHeaders()
        for name, value in request.headers.items():
            headers[name.lower()] = value
        return headers

    def payload(self, request: AWSRequest) -> str:
        return self.payload_line

    def canonical_request(self, request: AWSRequest) -> str:
        # botocore takes a signed X-Amz-Content-SHA256 header for the payload line; whether the
        # service does is `payload_line`'s rule.
        head = super().canonical_request(request).rsplit("\n", 1)[0]
        return f"{head}\n{self.payload_line}"


class _S3Canonical(_Canonical, S3SigV4Auth):
    """S3's: the path as sent, not normalised nor encoded again (S3SigV4Auth's)."""


def _payload_line(environ: Environ, signature: Signature, body: bytes) -> str | Failure:
    """The canonical request's last line, or why S3 refuses the x-amz-content-sha256 sent."""
    sent = signature.content_sha256
    if signature.service != "s3":
        # "HashedPayload: A string created using the payload in the body of the HTTP request as
        # input to a hash function" (reference_sigv-create-signed-request.html); UNSIGNED-PAYLOAD
        # is S3's alone.
        return hashlib.sha256(body).hexdigest()
    if signature.in_query:
        # A presigned URL signs no payload: "UNSIGNED-PAYLOAD" (sigv4-query-string-auth.html),
        # unless the URL signed an x-amz-content-sha256 header, as botocore's signer reads it.
        signed = "x-amz-content-sha256" in signature.signed_headers
        return sent if signed and sent is not None else UNSIGNED_PAYLOAD
    if sent is None:
        # "This header is required for all AWS Signature Version 4 requests"
        # (sigv4-auth-using-authorization-header.html, x-amz-content-sha256).
        return Failure(NO_CONTENT_SHA256, "Missing required header for this request: "
                                          "x-amz-content-sha256")  # fmt: skip
    takes = (UNSIGNED_PAYLOAD, STREAMING_UNSIGNED_TRAILER, STREAMING_SIGNED,
             STREAMING_SIGNED_TRAILER, *STREAMING_ECDSA)  # fmt: skip
    if sent not in takes and not HEX_SHA256.fullmatch(sent):
        # The values the header takes (sigv4-auth-using-authorization-header.html); the
        # message is S3's wire wording.
        return Failure(BAD_CONTENT_SHA256, "x-amz-content-sha256 must be " + ", ".join(takes[:-1])
                       + f" or {takes[-1]} or a valid sha256 value.")  # fmt: skip
    return sent


def _unsigned_headers(environ: Environ, signature: Signature) -> list[str]:
    """S3: the x-amz-* headers sent but not signed. "Any x-amz-* headers that you plan to add
    to the request" are signed (sigv4-query-string-auth.html, X-Amz-SignedHeaders;
    sig-v4-header-based-auth.html, CanonicalHeaders), except, with an Authorization header,
    x-amz-content-sha256: "you are not required to include the x-amz-content-sha256 header as a
    canonical header" (sig-v4-header-based-auth.html)."""
    names = sorted(
        key[5:].lower().replace("_", "-")
        for key in environ
        if isinstance(key, str) and key.startswith("HTTP_X_AMZ_")
    )
    exempt = set() if signature.in_query else {"x-amz-content-sha256"}
    return [n for n in names if n not in signature.signed_headers and n not in exempt]


def _timing(signature: Signature, now: datetime) -> Failure | None:
    signed_at = signature.signed_at
    stamp = f"{now:{TIMESTAMP}}"
    if signature.in_query and signature.expires is not None:
        ends = signed_at + timedelta(seconds=signature.expires)
        if now > ends:
            # A presigned URL is valid for X-Amz-Expires seconds from X-Amz-Date
            # (sigv4-query-string-auth.html); S3 says "Request has expired" and when.
            return Failure(EXPIRED, "Request has expired", (
                ("X-Amz-Expires", str(signature.expires)),
                ("Expires", f"{ends:%Y-%m-%dT%H:%M:%SZ}"),
                ("ServerTime", f"{now:%Y-%m-%dT%H:%M:%SZ}"),
            ), in_query=True)  # fmt: skip
        if signed_at - now > SKEW:
            return Failure(SKEWED, _not_yet(signature.timestamp, now), _skew(signed_at, now),
                           in_query=True)  # fmt: skip
        return None
    if now - signed_at > SKEW:
        # The services' wire wording (InvalidSignatureException, RequestExpired).
        detail = (f"Signature expired: {signature.timestamp} is now earlier than "
                  f"{now - SKEW:{TIMESTAMP}} ({stamp} - 15 min.)")  # fmt: skip
        return Failure(SKEWED, detail, _skew(signed_at, now), signature.in_query)
    if signed_at - now > SKEW:
        return Failure(SKEWED, _not_yet(signature.timestamp, now), _skew(signed_at, now),
                       signature.in_query)  # fmt: skip
    return None


def _not_yet(timestamp: str, now: datetime) -> str:
    return (f"Signature not yet current: {timestamp} is still later than "
            f"{now + SKEW:{TIMESTAMP}} ({now:{TIMESTAMP}} + 15 min.)")  # fmt: skip


def _skew(signed_at: datetime, now: datetime) -> tuple[tuple[str, str], ...]:
    # RequestTimeTooSkewed's elements in S3's answer.
    return (
        ("RequestTime", f"{signed_at:%Y%m%dT%H%M%SZ}"),
        ("ServerTime", f"{now:%Y-%m-%dT%H:%M:%SZ}"),
        ("MaxAllowedSkewMilliseconds", str(int(SKEW.total_seconds() * 1000))),
    )


def _canonical(
    environ: Environ, signature: Signature, secret: str, payload: str
) -> tuple[_Canonical, AWSRequest]:
    """botocore's signer for the credential's scope, and the request as it arrived: its method,
    raw path, query parameters (a presigned URL's X-Amz-Signature aside: "The Canonical Query
    String must include all the query parameters [...] except for X-Amz-Signature",
    sigv4-query-string-auth.html), and the headers it names as signed (one it names but did
    not send is signed empty)."""
    path, query = request_target(environ)
    params = [
        (name, value)
        for name, value in _query_pairs(query)
        if not (signature.in_query and name == "X-Amz-Signature")
    ]
    headers = {name: _header(environ, name) or "" for name in signature.signed_headers}
    request = AWSRequest(
        method=str(environ["REQUEST_METHOD"]).upper(),
        url=PLACEHOLDER_ORIGIN + path,
        headers=headers,
        # botocore's canonical query string takes a list of pairs as well (a name may repeat).
        params=cast(Any, params),
    )
    request.context["timestamp"] = signature.timestamp
    # Every service but S3 normalises the path and encodes it a second time; S3 takes it as
    # sent (reference_sigv-create-signed-request.html, "CanonicalURI").
    kind = _S3Canonical if signature.service == "s3" else _Canonical
    return kind(secret, signature.service, signature.region, payload), request


def verify(
    environ: Environ,
    body: bytes,
    signature: Signature,
    secret: str,
    session_token: str | None,
    now: datetime,
) -> Failure | None:
    """None when `signature` is the one `secret` gives for this request, within its time; else
    why not. `body` is the request's body as sent; `session_token` the token issued with a
    temporary key (None for a long-term key); `now` timezone-aware.

    The checks run in this order (AWS documents none): the presigned URL's lifetime, S3's
    payload header and unsigned x-amz-* headers, the session token (AWS finds a session's
    secret by it), the time, the signature, then S3's body (its hash, or its chunks)."""
    expires = signature.expires if signature.in_query else None
    if expires is not None and not 1 <= expires <= MAX_EXPIRES:
        # sigv4-query-string-auth.html, X-Amz-Expires; the message is S3's wire wording.
        detail = ("X-Amz-Expires must be less than a week (in seconds) that is 604800"
                  if expires > MAX_EXPIRES else "X-Amz-Expires must be non-negative")  # fmt: skip
        return Failure(TOO_LONG, detail, (("ArgumentName", "X-Amz-Expires"),), True)
    payload = _payload_line(environ, signature, body)
    if isinstance(payload, Failure):
        return payload
    if signature.service == "s3":
        unsigned = _unsigned_headers(environ, signature)
        if unsigned:
            return Failure(UNSIGNED_HEADERS, "There were headers present in the request which "
                           "were not signed", (("HeadersNotSigned", ", ".join(unsigned)),),
                           signature.in_query)  # fmt: skip
    # A temporary key's requests carry its token, and only a temporary key's: AWS finds the
    # session by it (https://docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html#temporary-security-credentials).
    if signature.session_token != session_token:
        return Failure(TOKEN, in_query=signature.in_query)
    late = _timing(signature, now)
    if late is not None:
        return late
    signer, request = _canonical(environ, signature, secret, payload)
    canonical = signer.canonical_request(request)
    string_to_sign = signer.string_to_sign(request, canonical)
    expected = signer.signature(string_to_sign, request)
    if not hmac.compare_digest(expected.encode(), signature.signature.encode()):
        return Failure(MISMATCH, f"The canonical request was:\n{canonical}", (
            ("AWSAccessKeyId", signature.access_key),
            ("StringToSign", string_to_sign),
            ("SignatureProvided", signature.signature),
            ("CanonicalRequest", canonical),
        ), signature.in_query)  # fmt: skip
    if signature.service == "s3" and HEX_SHA256.fullmatch(payload):
        # S3 checks the body against the hash it was signed with (XAmzContentSHA256Mismatch,
        # ErrorResponses.html).
        computed = hashlib.sha256(body).hexdigest()
        if computed != payload.lower():
            return Failure(PAYLOAD, "The provided 'x-amz-content-sha256' header does not match "
                           "what was computed.", (("ClientComputedContentSHA256", payload),
                           ("S3ComputedContentSHA256", computed)), signature.in_query)  # fmt: skip
    if signature.service == "s3" and payload in (STREAMING_SIGNED, STREAMING_SIGNED_TRAILER):
        return _chunks(environ, body, signature, signer, request)
    if signature.service == "s3" and payload in STREAMING_ECDSA:
        # Chunks signed with SigV4a's key pair cannot follow an AWS4-HMAC-SHA256 seed.
        return Failure(MISMATCH, f"{payload} chunks cannot follow an {ALGORITHM} signature")
    return None


def _chunks(
    environ: Environ, body: bytes, signature: Signature, signer: _Canonical, request: AWSRequest
) -> Failure | None:
    """An aws-chunked body: each chunk `hex-size;chunk-signature=sig CRLF data CRLF`, signed
    over the previous signature, the seed being the request's; a last chunk of size 0; with a
    -TRAILER payload, trailing headers after it, signed by x-amz-trailer-signature
    (sigv4-streaming.html, "Defining the Chunk Body"; sigv4-streaming-trailers.html)."""
    scope = signer.credential_scope(request)
    previous, at, decoded = signature.signature, 0, 0
    while True:
        end = body.find(b"\r\n", at)
        if end < 0:
            return Failure(INCOMPLETE_BODY, "The request body terminated unexpectedly")
        size_text, _, extension = body[at:end].decode("latin-1").partition(";")
        name, _, sent = extension.partition("=")
        try:
            size = int(size_text, 16)
        except ValueError:
            return Failure(INCOMPLETE_BODY, f"Invalid chunk size '{size_text}'")
        data = body[end + 2 : end + 2 + size]
        if name.strip() != "chunk-signature" or len(data) != size:
            return Failure(INCOMPLETE_BODY, "The request body terminated unexpectedly")
        # "AWS4-HMAC-SHA256-PAYLOAD", date, scope, previous signature, the empty string's hash,
        # the chunk's hash (sigv4-streaming.html, "Calculating the Signature for Each Chunk").
        hashed = hashlib.sha256(data).hexdigest()
        string_to_sign = "\n".join(["AWS4-HMAC-SHA256-PAYLOAD", signature.timestamp, scope,
                                    previous, EMPTY_SHA256, hashed])  # fmt: skip
        expected = signer.signature(string_to_sign, request)
        if not hmac.compare_digest(expected.encode(), sent.strip().lower().encode()):
            return Failure(MISMATCH, f"The signature of the chunk at byte {at} does not match.",
                           (("StringToSign", string_to_sign),))  # fmt: skip
        previous, at, decoded = expected, end + 2 + size, decoded + size
        if size == 0:
            break
        if body[at : at + 2] != b"\r\n":
            return Failure(INCOMPLETE_BODY, "The request body terminated unexpectedly")
        at += 2
    declared = _header(environ, "x-amz-decoded-content-length")
    if declared is None or not declared.isdigit() or int(declared) != decoded:
        # "For all requests, you must include the x-amz-decoded-content-length header,
        # specifying the size of the object in bytes" (sigv4-streaming.html).
        return Failure(INCOMPLETE_BODY, f"x-amz-decoded-content-length is {declared}, the "
                                        f"chunks hold {decoded} bytes")  # fmt: skip
    rest = body[at:]
    if signature.content_sha256 != STREAMING_SIGNED_TRAILER:
        return None if rest in (b"", b"\r\n") else Failure(INCOMPLETE_BODY, "Data after the "
                                                             "last chunk")  # fmt: skip
    return _trailer(rest, signature, signer, request, scope, previous)


def _trailer(
    rest: bytes,
    signature: Signature,
    signer: _Canonical,
    request: AWSRequest,
    scope: str,
    previous: str,
) -> Failure | None:
    """The trailing headers, `name:value` a line, then x-amz-trailer-signature, signed over
    "AWS4-HMAC-SHA256-TRAILER", date, scope, the last chunk's signature and the hash of the
    headers as `name:value\\n` each (sigv4-streaming-trailers.html)."""
    trailers: list[tuple[str, str]] = []
    sent = None
    for line in re.split(rb"\r?\n", rest):
        if not line:
            continue
        name, colon, value = line.decode("latin-1").partition(":")
        if not colon:
            return Failure(INCOMPLETE_BODY, f"Malformed trailing header '{name}'")
        if name.strip().lower() == "x-amz-trailer-signature":
            sent = value.strip().lower()
        else:
            trailers.append((name.strip().lower(), value.strip()))
    if sent is None:
        return Failure(MISMATCH, "The trailing headers carry no x-amz-trailer-signature")
    canonical = "".join(f"{name}:{value}\n" for name, value in trailers)
    string_to_sign = "\n".join(["AWS4-HMAC-SHA256-TRAILER", signature.timestamp, scope, previous,
                                hashlib.sha256(canonical.encode()).hexdigest()])  # fmt: skip
    expected = signer.signature(string_to_sign, request)
    if not hmac.compare_digest(expected.encode(), sent.encode()):
        return Failure(MISMATCH, "The trailing headers' signature does not match.",
                       (("StringToSign", string_to_sign),))  # fmt: skip
    return None


# ------------------------------------------------------------------------------ answering


def protocol_of(environ: Environ, body: bytes, service: str) -> str:
    """How the service a request is for spells its errors: JSON for an X-Amz-Target call,
    REST-XML for S3, the query protocol for an `Action=` form (or a presigned URL's query),
    else REST-JSON (Lambda's /2015-03-31/functions, say)."""
    if _header(environ, "x-amz-target"):
        return JSON
    if service == "s3":
        return REST_XML
    _, query = request_target(environ)
    form = (_header(environ, "content-type") or "").startswith("application/x-www-form-urlencoded")
    if any(name == "Action" for name, _ in _query_pairs(query)) or (
        form and any(name == "Action" for name, _ in _query_pairs(body.decode("latin-1")))
    ):
        return QUERY
    return REST_JSON


# The services' pages give the codes and statuses; where they give no message, the message is
# the service's wire wording.
MISMATCH_MESSAGE = ("The request signature we calculated does not match the signature you "
                    "provided. Check your AWS Secret Access Key and signing method. Consult the "
                    "service documentation for details.")  # fmt: skip
INVALID_TOKEN = "The security token included in the request is invalid."
EXPIRED_TOKEN_MESSAGE = "The security token included in the request is expired"
MISSING_MESSAGE = "Request is missing Authentication Token"
# Query protocol (STS, IAM, CloudFormation, SQS's XML): CommonErrors.html of STS gives
# IncompleteSignature 400, InvalidClientTokenId 403, MissingAuthenticationToken 403,
# RequestExpired 400, ExpiredToken; SignatureDoesNotMatch 403 is
# reference_sigv-troubleshooting.html's.
QUERY_ERRORS: dict[str, tuple[int, str, str]] = {
    MISSING: (403, "MissingAuthenticationToken", MISSING_MESSAGE),
    MALFORMED: (400, "IncompleteSignature", "{detail}"),
    UNSUPPORTED: (400, "IncompleteSignature", "{detail}"),
    UNKNOWN_KEY: (403, "InvalidClientTokenId", INVALID_TOKEN),
    MISMATCH: (403, "SignatureDoesNotMatch", MISMATCH_MESSAGE),
    TOKEN: (403, "InvalidClientTokenId", INVALID_TOKEN),
    EXPIRED_TOKEN: (403, "ExpiredToken", EXPIRED_TOKEN_MESSAGE),
    SKEWED: (400, "RequestExpired", "{detail}"),
    EXPIRED: (400, "RequestExpired", "{detail}"),
    TOO_LONG: (400, "IncompleteSignature", "{detail}"),
}
# JSON protocol (DynamoDB, SSM, KMS, CloudWatch Logs, Cognito): the codes end in Exception on
# the wire, and every one of them is a 400 (DynamoDB's Programming.Errors.html lists
# MissingAuthenticationTokenException, IncompleteSignatureException,
# UnrecognizedClientException as 400; the CommonErrors pages of SSM, KMS and Logs give the same
# codes without the suffix). A signature that does not verify, and one out of its time, are
# InvalidSignatureException.
JSON_ERRORS: dict[str, tuple[int, str, str]] = {
    MISSING: (400, "MissingAuthenticationTokenException", MISSING_MESSAGE),
    MALFORMED: (400, "IncompleteSignatureException", "{detail}"),
    UNSUPPORTED: (400, "IncompleteSignatureException", "{detail}"),
    UNKNOWN_KEY: (400, "UnrecognizedClientException", INVALID_TOKEN),
    MISMATCH: (400, "InvalidSignatureException", MISMATCH_MESSAGE),
    TOKEN: (400, "UnrecognizedClientException", INVALID_TOKEN),
    EXPIRED_TOKEN: (400, "ExpiredTokenException", EXPIRED_TOKEN_MESSAGE),
    SKEWED: (400, "InvalidSignatureException", "{detail}"),
    EXPIRED: (400, "InvalidSignatureException", "{detail}"),
    TOO_LONG: (400, "IncompleteSignatureException", "{detail}"),
}
# REST-JSON (Lambda): the codes and statuses of Lambda's CommonErrors.html (IncompleteSignature
# 403, UnrecognizedClientException 403, ExpiredTokenException 403, RequestExpired 400). The page
# has no code for an unsigned request nor for a signature that does not verify: those two are
# Lambda's wire answers, and "Missing Authentication Token" the troubleshooting page's wording.
REST_JSON_ERRORS: dict[str, tuple[int, str, str]] = {
    MISSING: (403, "MissingAuthenticationTokenException", "Missing Authentication Token"),
    MALFORMED: (403, "IncompleteSignature", "{detail}"),
    UNSUPPORTED: (403, "IncompleteSignature", "{detail}"),
    UNKNOWN_KEY: (403, "UnrecognizedClientException", INVALID_TOKEN),
    MISMATCH: (403, "InvalidSignatureException", MISMATCH_MESSAGE),
    TOKEN: (403, "UnrecognizedClientException", INVALID_TOKEN),
    EXPIRED_TOKEN: (403, "ExpiredTokenException", EXPIRED_TOKEN_MESSAGE),
    SKEWED: (400, "RequestExpired", "{detail}"),
    EXPIRED: (400, "RequestExpired", "{detail}"),
    TOO_LONG: (403, "IncompleteSignature", "{detail}"),
}
# S3 (ErrorResponses.html, "List of error codes"). An unsigned S3 request is anonymous, and what
# refuses it is a policy: AccessDenied.
S3_ERRORS: dict[str, tuple[int, str, str]] = {
    MISSING: (403, "AccessDenied", "Access Denied"),
    MALFORMED: (400, "AuthorizationHeaderMalformed", "{detail}"),
    UNSUPPORTED: (400, "InvalidRequest", "The authorization mechanism you have provided is not "
                  "supported. Please use AWS4-HMAC-SHA256."),
    UNKNOWN_KEY: (403, "InvalidAccessKeyId",
                  "The AWS Access Key Id you provided does not exist in our records."),
    MISMATCH: (403, "SignatureDoesNotMatch", "The request signature we calculated does not "
               "match the signature you provided. Check your key and signing method."),
    TOKEN: (400, "InvalidToken", "The provided token is malformed or otherwise invalid."),
    EXPIRED_TOKEN: (400, "ExpiredToken", "The provided token has expired."),
    SKEWED: (403, "RequestTimeTooSkewed",
             "The difference between the request time and the current time is too large."),
    EXPIRED: (403, "AccessDenied", "Request has expired"),
    TOO_LONG: (400, "AuthorizationQueryParametersError", "{detail}"),
    PAYLOAD: (400, "XAmzContentSHA256Mismatch",
              "The provided 'x-amz-content-sha256' header does not match what was computed."),
    NO_CONTENT_SHA256: (400, "InvalidRequest", "{detail}"),
    BAD_CONTENT_SHA256: (400, "InvalidArgument", "{detail}"),
    UNSIGNED_HEADERS: (403, "AccessDenied",
                       "There were headers present in the request which were not signed"),
    INCOMPLETE_BODY: (400, "IncompleteBody", "{detail}"),
}  # fmt: skip
# A presigned URL's parameters that cannot be read (ErrorResponses.html).
S3_MALFORMED_QUERY = (400, "AuthorizationQueryParametersError", "{detail}")


def error_for(service: str, protocol: str, failure: Failure | None) -> tuple[int, str, str]:
    """(status, code, message) the service answers `failure` with (None: the request carried
    no signature). `service` is the credential scope's (or, unsigned, the request's);
    `protocol` is `protocol_of`'s. Kinds only S3 has (PAYLOAD, UNSIGNED_HEADERS, ...) never
    reach another service."""
    kind = MISSING if failure is None else failure.kind
    detail = "" if failure is None else failure.detail
    if service == "s3":
        malformed_query = kind == MALFORMED and failure is not None and failure.in_query
        status, code, message = S3_MALFORMED_QUERY if malformed_query else S3_ERRORS[kind]
    else:
        table = {JSON: JSON_ERRORS, REST_JSON: REST_JSON_ERRORS}.get(protocol, QUERY_ERRORS)
        status, code, message = table.get(kind, table[MISMATCH])
    return status, code, message.format(detail=detail)
