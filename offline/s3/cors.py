"""A bucket's CORS configuration evaluated as S3 evaluates it, for a browser's preflight and for
the request that follows. moto answers every origin, with or without a rule, and adds CORS
headers to requests that carry no Origin at all.

- "When Amazon S3 receives a preflight request from a browser, it evaluates the CORS
  configuration for the bucket and uses the first CORSRule rule that matches": its Origin
  matches an AllowedOrigin, its Access-Control-Request-Method (the request's own method on a
  request that is not a preflight) is an AllowedMethod, and "every header listed in the
  request's Access-Control-Request-Headers header on the preflight request must match an
  AllowedHeader element" (https://docs.aws.amazon.com/AmazonS3/latest/userguide/cors.html).
- An AllowedOrigin or AllowedHeader holds at most one `*`, which stands for any characters;
  `*` alone allows every origin (https://docs.aws.amazon.com/AmazonS3/latest/userguide/ManageCorsUsing.html).
  Header names compare without regard to case, as HTTP's do.
- A preflight needs an Origin and an Access-Control-Request-Method
  (https://docs.aws.amazon.com/AmazonS3/latest/API/RESTOPTIONSobject.html); without an
  Origin it is 400 BadRequest "Insufficient information. Origin request header needed.". To a
  bucket without a configuration it is 403 "CORSResponse: CORS is not enabled for this
  bucket.", when no rule matches 403 "CORSResponse: This CORS request is not allowed. ..."
  (https://docs.aws.amazon.com/AmazonS3/latest/userguide/cors-troubleshooting.html), both
  AccessForbidden with the requested Method and the ResourceType (OBJECT when the URL names
  a key and rules were evaluated, else BUCKET); to a missing bucket 403 "CORSResponse: Bucket
  not found".
- A matching rule's answer (https://docs.aws.amazon.com/AmazonS3/latest/userguide/testing-cors.html):
  Access-Control-Allow-Origin echoes the origin (`*` for a rule that allows every origin, and
  then no Access-Control-Allow-Credentials), Access-Control-Allow-Methods lists the rule's
  methods, Access-Control-Allow-Headers the requested headers (preflight only, lower case),
  Access-Control-Expose-Headers and Access-Control-Max-Age the rule's, with
  `Access-Control-Allow-Credentials: true` and `Vary: Origin, Access-Control-Request-Headers,
  Access-Control-Request-Method`.
- A request that is not a preflight is served whatever its CORS: without an Origin, or with
  no matching rule, its answer carries no CORS header at all ("If the header is missing,
  Amazon S3 doesn't treat the request as a cross-origin request, and doesn't send CORS
  response headers in the response", https://repost.aws/knowledge-center/s3-configure-cors).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from moto.s3.exceptions import MissingBucket
from moto.s3.models import s3_backends

from offline.iam.moto_state import backend

VARY = "Origin, Access-Control-Request-Headers, Access-Control-Request-Method"
NO_ORIGIN = "Insufficient information. Origin request header needed."
NO_BUCKET = "CORSResponse: Bucket not found"
NOT_ENABLED = "CORSResponse: CORS is not enabled for this bucket."
NOT_ALLOWED = (
    "CORSResponse: This CORS request is not allowed. This is usually because the evalution of"
    " Origin, request method / Access-Control-Request-Method or Access-Control-Request-Headers"
    " are not whitelisted by the resource's CORS spec."
)
Headers = list[tuple[str, str]]


@dataclass(frozen=True)
class Rule:
    origins: tuple[str, ...]
    methods: tuple[str, ...]
    headers: tuple[str, ...] = ()
    expose: tuple[str, ...] = ()
    max_age: int | None = None


@dataclass(frozen=True)
class Refused:
    """A preflight S3 refuses, in S3's words (AccessForbidden carries Method and
    ResourceType)."""

    status: int
    code: str
    message: str
    details: tuple[tuple[str, str], ...] = ()


def _listed(value: Any) -> tuple[str, ...]:
    if not value:
        return ()
    return (value,) if isinstance(value, str) else tuple(value)


def rules_of(bucket: Any) -> list[Rule] | None:
    """The rules of moto's bucket, in order; None for a bucket without a CORS configuration."""
    if not bucket.cors:
        return None
    return [
        Rule(
            _listed(rule.allowed_origins),
            _listed(rule.allowed_methods),
            _listed(rule.allowed_headers),
            _listed(rule.exposed_headers),
            int(rule.max_age_seconds) if rule.max_age_seconds not in (None, "") else None,
        )
        for rule in bucket.cors
    ]


def bucket_named(name: str) -> Any | None:
    if not name:
        return None
    try:
        return backend(s3_backends, "aws").get_bucket(name)
    except MissingBucket:
        return None


def requested_headers(value: str | None) -> list[str]:
    """Access-Control-Request-Headers as names, lower case."""
    return [name.strip().lower() for name in (value or "").split(",") if name.strip()]


def matches(pattern: str, value: str) -> bool:
    """`pattern` with at most one `*`, which matches any run of characters, the empty one
    too; anchored at both ends."""
    head, star, tail = pattern.partition("*")
    if not star:
        return pattern == value
    return len(value) >= len(head) + len(tail) and value.startswith(head) and value.endswith(tail)


def first_match(rules: list[Rule], origin: str, method: str, headers: list[str]) -> Rule | None:
    for rule in rules:
        if method not in rule.methods:
            continue
        if not any(matches(allowed, origin) for allowed in rule.origins):
            continue
        allowed = [name.lower() for name in rule.headers]
        if all(any(matches(name, header) for name in allowed) for header in headers):
            return rule
    return None


def _answer(rule: Rule, origin: str, headers: list[str], preflight: bool) -> Headers:
    everyone = "*" in rule.origins and not any(
        allowed != "*" and matches(allowed, origin) for allowed in rule.origins
    )
    answer = [("Access-Control-Allow-Origin", "*" if everyone else origin),
              ("Access-Control-Allow-Methods", ", ".join(rule.methods))]  # fmt: skip
    if preflight and headers:
        answer.append(("Access-Control-Allow-Headers", ", ".join(headers)))
    if rule.expose:
        answer.append(("Access-Control-Expose-Headers", ", ".join(rule.expose)))
    if rule.max_age is not None:
        answer.append(("Access-Control-Max-Age", str(rule.max_age)))
    if not everyone:
        answer.append(("Access-Control-Allow-Credentials", "true"))
    answer.append(("Vary", VARY))
    return answer


def preflight(
    bucket: Any | None, key: str, origin: str | None, method: str | None, headers: list[str]
) -> Headers | Refused:
    """The answer to an OPTIONS request on `bucket` (None: it does not exist) and `key`: the
    headers of a 200, or the refusal."""
    if not origin:
        return Refused(400, "BadRequest", NO_ORIGIN)
    asked = (("Method", method or "OPTIONS"),)
    if bucket is None:
        return Refused(403, "AccessForbidden", NO_BUCKET, (*asked, ("ResourceType", "BUCKET")))
    rules = rules_of(bucket)
    if rules is None:
        return Refused(403, "AccessForbidden", NOT_ENABLED, (*asked, ("ResourceType", "BUCKET")))
    rule = first_match(rules, origin, method, headers) if method else None
    if rule is None:
        resource = "OBJECT" if key else "BUCKET"
        return Refused(403, "AccessForbidden", NOT_ALLOWED, (*asked, ("ResourceType", resource)))
    return _answer(rule, origin, headers, preflight=True)


def actual(bucket: Any | None, origin: str | None, method: str, headers: list[str]) -> Headers:
    """The CORS headers of the answer to a request that is not a preflight: none without an
    Origin, a configuration or a matching rule."""
    if not origin or bucket is None:
        return []
    rules = rules_of(bucket)
    rule = first_match(rules, origin, method, headers) if rules else None
    return _answer(rule, origin, headers, preflight=False) if rule else []
