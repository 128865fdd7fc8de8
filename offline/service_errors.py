"""Refusals in each service's own error shape and words: JSON for the JSON protocols, XML for
S3 and the query protocol (https://smithy.io/2.0/aws/protocols/), with the codes and statuses
the services document for a request they will not authenticate or authorize.

Pages: the common errors of the query and JSON services
(https://docs.aws.amazon.com/STS/latest/APIReference/CommonErrors.html,
https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/CommonErrors.html,
https://docs.aws.amazon.com/kms/latest/APIReference/CommonErrors.html), and S3's
(https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html#ErrorCodeList). Where a
page gives the code but not the message, the message is the service's wire wording.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable
from typing import Any

Environ = dict[str, Any]
Answer = tuple[int, list[tuple[str, str]], bytes]

JSON, QUERY, S3, REST_JSON = "json", "query", "s3", "rest-json"
# Authentication failures by protocol: (status, code, message). JSON services spell the
# codes with an Exception suffix on the wire (UnrecognizedClientException: DynamoDB's
# CommonErrors page; the query services' are without it).
INVALID_TOKEN = "The security token included in the request is invalid."
EXPIRED_TOKEN = "The security token included in the request is expired"
MISSING = "Request is missing Authentication Token"
AUTHENTICATION: dict[str, dict[str, tuple[int, str, str]]] = {
    "missing": {
        JSON: (400, "MissingAuthenticationTokenException", MISSING),
        QUERY: (403, "MissingAuthenticationToken", MISSING),
        REST_JSON: (403, "MissingAuthenticationTokenException", "Missing Authentication Token"),
    },
    "malformed": {
        JSON: (400, "IncompleteSignatureException", "{detail}"),
        QUERY: (400, "IncompleteSignature", "{detail}"),
        REST_JSON: (400, "IncompleteSignatureException", "{detail}"),
        S3: (400, "AuthorizationHeaderMalformed", "{detail}"),
    },
    "sigv2": {
        JSON: (400, "IncompleteSignatureException", "{detail}"),
        QUERY: (400, "IncompleteSignature", "{detail}"),
        REST_JSON: (400, "IncompleteSignatureException", "{detail}"),
        S3: (400, "InvalidRequest", "The authorization mechanism you have provided is not "
             "supported. Please use AWS4-HMAC-SHA256."),
    },
    "unknown-key": {
        JSON: (400, "UnrecognizedClientException", INVALID_TOKEN),
        QUERY: (403, "InvalidClientTokenId", INVALID_TOKEN),
        REST_JSON: (403, "UnrecognizedClientException", INVALID_TOKEN),
        S3: (403, "InvalidAccessKeyId",
             "The AWS Access Key Id you provided does not exist in our records."),
    },
    "mismatch": {
        JSON: (400, "InvalidSignatureException",
               "The request signature we calculated does not match the signature you provided. "
               "Check your AWS Secret Access Key and signing method."),
        QUERY: (403, "SignatureDoesNotMatch",
                "The request signature we calculated does not match the signature you provided. "
                "Check your AWS Secret Access Key and signing method."),
        REST_JSON: (403, "InvalidSignatureException",
                    "The request signature we calculated does not match the signature you "
                    "provided. Check your AWS Secret Access Key and signing method."),
        S3: (403, "SignatureDoesNotMatch",
             "The request signature we calculated does not match the signature you provided. "
             "Check your key and signing method."),
    },
    "token": {
        JSON: (400, "UnrecognizedClientException", INVALID_TOKEN),
        QUERY: (403, "InvalidClientTokenId", INVALID_TOKEN),
        REST_JSON: (403, "UnrecognizedClientException", INVALID_TOKEN),
        S3: (400, "InvalidToken", "The provided token is malformed or otherwise invalid."),
    },
    "expired-token": {
        JSON: (400, "ExpiredTokenException", EXPIRED_TOKEN),
        QUERY: (400, "ExpiredToken", EXPIRED_TOKEN),
        REST_JSON: (403, "ExpiredTokenException", EXPIRED_TOKEN),
        S3: (400, "ExpiredToken", "The provided token has expired."),
    },
    "skewed": {
        JSON: (400, "InvalidSignatureException", "{detail}"),
        QUERY: (400, "RequestExpired", "{detail}"),
        REST_JSON: (403, "InvalidSignatureException", "{detail}"),
        S3: (403, "RequestTimeTooSkewed",
             "The difference between the request time and the current time is too large."),
    },
    "expired": {S3: (403, "AccessDenied", "Request has expired")},
    "too-long": {S3: (400, "AuthorizationQueryParametersError", "{detail}")},
    "payload": {
        S3: (400, "XAmzContentSHA256Mismatch",
             "The provided 'x-amz-content-sha256' header does not match what was computed."),
    },
}  # fmt: skip


def protocol(environ: Environ, service: str) -> str:
    """The protocol of a request: JSON (X-Amz-Target), S3, query (a form with Action=), or
    REST-JSON (Lambda's /2015-03-31/functions, say)."""
    if environ.get("HTTP_X_AMZ_TARGET"):
        return JSON
    if service == "s3":
        return S3
    if str(environ.get("CONTENT_TYPE", "")).startswith("application/x-www-form-urlencoded"):
        return QUERY
    return REST_JSON


def authentication(environ: Environ, service: str, kind: str, detail: str = "") -> Answer:
    """The answer to a request that fails authentication as `kind` (a key of AUTHENTICATION)."""
    spelled = protocol(environ, service)
    by_protocol = AUTHENTICATION[kind]
    status, code, message = by_protocol.get(spelled) or next(iter(by_protocol.values()))
    return refusal(environ, service, code, message.format(detail=detail), status)


def _xml(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def refusal(
    environ: Environ,
    service: str,
    code: str,
    message: str,
    status: int,
    details: Iterable[tuple[str, str]] = (),
) -> Answer:
    """The service's own error shape. `details` are S3's further elements of its <Error>
    (ArgumentName, ProposedSize, ...), one `<Name>value</Name>` each
    (https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html#RESTErrorResponses)."""
    request_id = uuid.uuid4().hex
    spelled = protocol(environ, service)
    if spelled in (JSON, REST_JSON):
        body = json.dumps({"__type": code, "message": message})
        headers = [("Content-Type", "application/x-amz-json-1.1"), ("x-amzn-ErrorType", code)]
        if spelled == JSON:  # the JSON protocols answer every client error with 400
            status = status if status >= 500 else 400
        return status, headers, body.encode()
    if spelled == S3:
        extra = "".join(f"<{name}>{_xml(value)}</{name}>" for name, value in details)
        xml = (
            f"<Error><Code>{code}</Code><Message>{_xml(message)}</Message>{extra}"
            f"<RequestId>{request_id}</RequestId></Error>"
        )
        return status, [("Content-Type", "application/xml")], xml.encode()
    xml = (
        f"<ErrorResponse><Error><Type>Sender</Type><Code>{code}</Code>"
        f"<Message>{_xml(message)}</Message></Error><RequestId>{request_id}</RequestId>"
        "</ErrorResponse>"
    )
    return status, [("Content-Type", "text/xml")], xml.encode()
