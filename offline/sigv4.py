"""Signature Version 4, checked as AWS checks it: the signature a request carries (in its
Authorization header or its query string) must be the one the caller's secret gives for the
request exactly as it arrived.

Pages (each rule below names the one that states it):
- https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv-create-signed-request.html
  (the canonical request, the string to sign, the signing key)
- https://docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html
- https://docs.aws.amazon.com/AmazonS3/latest/API/sig-v4-header-based-auth.html (S3's payload
  hash header and its unencoded-once path)
- https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-query-string-auth.html (presigned URLs)

The canonical request's pieces come from botocore's own signer (its path normalisation and
encoding, its header value trimming, its signing key), given the request as it arrived: the
raw request URI, the signed headers only, and the body's bytes.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote, unquote, urlsplit

from botocore.auth import SigV4Auth
from botocore.credentials import Credentials

Environ = dict[str, Any]
ALGORITHM = "AWS4-HMAC-SHA256"
UNSIGNED_PAYLOAD = "UNSIGNED-PAYLOAD"
# A header-signed request is valid for 15 minutes around its X-Amz-Date ("the signed portions
# (using AWS Signatures) of requests are valid within 15 minutes of the timestamp in the
# request": https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv-create-signed-request.html).
SKEW = timedelta(minutes=15)
# "The minimum value you can set is 1, and the maximum is 604800 (seven days)"
# (sigv4-query-string-auth.html, X-Amz-Expires).
MAX_EXPIRES = 604800
HEADER = re.compile(
    r"AWS4-HMAC-SHA256\s+Credential=(?P<credential>[^,\s]+)\s*,\s*"
    r"SignedHeaders=(?P<signed>[^,\s]+)\s*,\s*Signature=(?P<signature>[0-9a-fA-F]+)\s*$"
)
QUERY_FIELDS = ("X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Date", "X-Amz-SignedHeaders",
                "X-Amz-Signature")  # fmt: skip


class Malformed(ValueError):
    """A signature that cannot be read: AWS answers it before looking at the caller. `kind`
    is "sigv2" for a Signature Version 2 one, which S3 no longer accepts: "Amazon S3 supports
    only Signature Version 4" for buckets since 2020
    (https://docs.aws.amazon.com/AmazonS3/latest/userguide/UsingAWSSDK.html#UsingAWSSDK-sig2-deprecation)."""

    def __init__(self, message: str, kind: str = "malformed") -> None:
        super().__init__(message)
        self.kind = kind


@dataclass(frozen=True)
class Signature:
    access_key: str
    date: str  # YYYYMMDD, the credential scope's
    region: str
    service: str
    signed_headers: tuple[str, ...]
    signature: str
    in_query: bool  # a presigned URL: s3:authType REST-QUERY-STRING, else REST-HEADER
    timestamp: str  # X-Amz-Date: YYYYMMDDTHHMMSSZ
    session_token: str | None
    expires: int | None  # X-Amz-Expires of a presigned URL
    content_sha256: str | None  # the x-amz-content-sha256 header, if sent

    @property
    def signed_at(self) -> datetime:
        return datetime.strptime(self.timestamp, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)


@dataclass(frozen=True)
class Failure:
    """Why a signature is refused: one of the KINDS below, and the words to say it with."""

    kind: str
    detail: str = ""


MISMATCH = "mismatch"  # not what the secret gives for this request
TOKEN = "token"  # the session token is missing, or is not the one issued with the key
SKEWED = "skewed"  # a header signature dated too far from now
EXPIRED = "expired"  # a presigned URL past its expiry
TOO_LONG = "too-long"  # a presigned URL valid for more than seven days
PAYLOAD = "payload"  # the x-amz-content-sha256 header is not the body's hash


def _query_pairs(query: str) -> list[tuple[str, str]]:
    pairs = []
    for part in query.split("&") if query else []:
        name, _, value = part.partition("=")
        pairs.append((unquote(name), unquote(value)))
    return pairs


def _scope(credential: str) -> tuple[str, str, str, str]:
    parts = credential.split("/")
    if len(parts) != 5 or parts[4] != "aws4_request" or not re.fullmatch(r"\d{8}", parts[1]):
        raise Malformed(f"the credential is malformed: {credential}")
    return parts[0], parts[1], parts[2], parts[3]


def _header(environ: Environ, name: str) -> str | None:
    key = "CONTENT_TYPE" if name == "content-type" else "CONTENT_LENGTH" if name == (
        "content-length") else "HTTP_" + name.upper().replace("-", "_")  # fmt: skip
    value = environ.get(key)
    return str(value) if value is not None else None


def signature_of(environ: Environ) -> Signature | None:
    """The signature a request carries; None when it carries none (an anonymous request)."""
    authorization = _header(environ, "authorization")
    query = dict(_query_pairs(str(environ.get("QUERY_STRING", ""))))
    if authorization:
        if not authorization.startswith(ALGORITHM):
            # A SigV2 `AWS key:signature` header, or any other scheme.
            raise Malformed("only AWS4-HMAC-SHA256 signatures are accepted", "sigv2")
        found = HEADER.match(authorization)
        if found is None:
            raise Malformed("the Authorization header is malformed")
        key, date, region, service = _scope(found["credential"])
        timestamp = _header(environ, "x-amz-date") or ""
        token = _header(environ, "x-amz-security-token")
        signed = tuple(found["signed"].lower().split(";"))
        signature, in_query, expires = found["signature"], False, None
    elif "X-Amz-Signature" in query or "X-Amz-Credential" in query:
        missing = [name for name in QUERY_FIELDS if name not in query]
        if missing:
            raise Malformed(f"the query string lacks {', '.join(missing)}")
        if query["X-Amz-Algorithm"] != ALGORITHM:
            raise Malformed("only AWS4-HMAC-SHA256 signatures are accepted")
        key, date, region, service = _scope(query["X-Amz-Credential"])
        timestamp, token = query["X-Amz-Date"], query.get("X-Amz-Security-Token")
        signed = tuple(query["X-Amz-SignedHeaders"].lower().split(";"))
        signature, in_query = query["X-Amz-Signature"], True
        try:
            expires = int(query.get("X-Amz-Expires", "900"))
        except ValueError:
            raise Malformed("X-Amz-Expires must be a number of seconds") from None
    elif "AWSAccessKeyId" in query and "Signature" in query:
        raise Malformed("only AWS4-HMAC-SHA256 signatures are accepted", "sigv2")
    else:
        return None
    if not re.fullmatch(r"\d{8}T\d{6}Z", timestamp) or timestamp[:8] != date:
        raise Malformed("X-Amz-Date must be the credential's date, as YYYYMMDDTHHMMSSZ")
    if "host" not in signed:
        # "The host header must be included as a signed header" (create-signed-request.html).
        raise Malformed("the host header must be signed")
    content_sha256 = _header(environ, "x-amz-content-sha256")
    return Signature(key, date, region, service, signed, signature.lower(), in_query,
                     timestamp, token, expires, content_sha256)  # fmt: skip


def raw_uri(environ: Environ) -> tuple[str, str]:
    """(path, query) as the client sent them, still percent-encoded."""
    raw = environ.get("RAW_URI") or environ.get("REQUEST_URI")
    if raw:
        split = urlsplit(str(raw))
        return split.path or "/", split.query
    path = quote(str(environ.get("PATH_INFO", "/")).encode("latin-1"), safe="/~")
    return path or "/", str(environ.get("QUERY_STRING", ""))


def _canonical_query(query: str, drop_signature: bool) -> str:
    # Each name and value URI-encoded (unreserved characters kept), sorted by name then value
    # (reference_sigv-create-signed-request.html, "CanonicalQueryString").
    pairs = [
        (quote(name, safe="-_.~"), quote(value, safe="-_.~"))
        for name, value in _query_pairs(query)
        if not (drop_signature and name == "X-Amz-Signature")
    ]
    return "&".join(f"{name}={value}" for name, value in sorted(pairs))


def payload_hash(signature: Signature, body: bytes) -> str:
    """The payload line of the canonical request: a presigned S3 URL signs no payload
    ("UNSIGNED-PAYLOAD", sigv4-query-string-auth.html); S3 takes the x-amz-content-sha256
    header's value (sig-v4-header-based-auth.html); other services the body's hash."""
    if signature.service == "s3":
        if signature.in_query:
            return UNSIGNED_PAYLOAD
        return signature.content_sha256 or hashlib.sha256(body).hexdigest()
    return signature.content_sha256 or hashlib.sha256(body).hexdigest()


def canonical_request(environ: Environ, body: bytes, signature: Signature) -> str:
    path, query = raw_uri(environ)
    signer: Any = SigV4Auth(Credentials("", ""), signature.service, signature.region)
    # Every service but S3 normalises the path and encodes it a second time; S3 takes the
    # path as sent (reference_sigv-create-signed-request.html, "CanonicalURI").
    canonical_path = path if signature.service == "s3" else signer._normalize_url_path(path)
    headers = []
    for name in signature.signed_headers:
        value = _header(environ, name)
        headers.append(f"{name}:{signer._header_value(value or '')}")
    return "\n".join([
        str(environ["REQUEST_METHOD"]).upper(),
        canonical_path,
        _canonical_query(query, drop_signature=signature.in_query),
        "\n".join(headers) + "\n",
        ";".join(signature.signed_headers),
        payload_hash(signature, body),
    ])  # fmt: skip


def expected_signature(canonical: str, signature: Signature, secret: str) -> str:
    scope = f"{signature.date}/{signature.region}/{signature.service}/aws4_request"
    digest = hashlib.sha256(canonical.encode("utf-8")).hexdigest()
    string_to_sign = "\n".join([ALGORITHM, signature.timestamp, scope, digest])
    key = f"AWS4{secret}".encode()
    for part in (signature.date, signature.region, signature.service, "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return hmac.new(key, string_to_sign.encode(), hashlib.sha256).hexdigest()


def verify(
    environ: Environ,
    body: bytes,
    signature: Signature,
    secret: str,
    session_token: str | None,
    now: datetime,
) -> Failure | None:
    """None when the signature is the one `secret` gives for this request, within its time;
    else why not. `session_token` is the token issued with a temporary key (None for a
    long-term key), which the request must carry."""
    if signature.in_query:
        assert signature.expires is not None
        if signature.expires > MAX_EXPIRES or signature.expires < 1:
            return Failure(TOO_LONG, "X-Amz-Expires must be less than a week (in seconds) "
                                     "that is 604800")  # fmt: skip
    canonical = canonical_request(environ, body, signature)
    expected = expected_signature(canonical, signature, secret)
    if not hmac.compare_digest(expected, signature.signature):
        return Failure(MISMATCH, canonical)
    # A temporary key's requests carry its token (X-Amz-Security-Token, header or query):
    # https://docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html#temporary-security-credentials
    if signature.session_token != session_token:
        return Failure(TOKEN)
    if signature.in_query:
        assert signature.expires is not None
        if now > signature.signed_at + timedelta(seconds=signature.expires):
            return Failure(EXPIRED)
    elif abs(now - signature.signed_at) > SKEW:
        detail = (
            f"Signature expired: {signature.timestamp} is now earlier than "
            f"{(now - SKEW):%Y%m%dT%H%M%SZ} ({now:%Y%m%dT%H%M%SZ} - 15 min.)"
        )
        return Failure(SKEWED, detail)
    sent = signature.content_sha256
    # S3 checks the body against the hash it was signed with (XAmzContentSHA256Mismatch:
    # https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html).
    hashed = signature.service == "s3" and sent and re.fullmatch(r"[0-9a-f]{64}", sent)
    if hashed and hashlib.sha256(body).hexdigest() != sent:
        return Failure(PAYLOAD)
    return None
