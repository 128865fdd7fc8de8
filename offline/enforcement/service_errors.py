"""Refusals in each service's own error shape: JSON for the JSON protocols, XML for S3 and the
query protocol (https://smithy.io/2.0/aws/protocols/). The codes, statuses and words of a
request that fails authentication are offline/enforcement/sigv4.py's table (error_for), with
the pages that give them; an authorization refusal's are the caller's (offline/enforcement/gate.py).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable
from typing import Any

from offline.enforcement import sigv4

Environ = dict[str, Any]
Answer = tuple[int, list[tuple[str, str]], bytes]


# Where the enforcement keeps the request's body, for the refusals that need its form.
REQUEST_BODY = "offline.request_body"


def protocol(environ: Environ, service: str, body: bytes = b"") -> str:
    """The protocol of a request (offline/enforcement/sigv4.py's protocol_of): JSON (an X-Amz-Target
    header), REST-XML (S3), query (a form with Action=), or REST-JSON (Lambda's
    /2015-03-31/functions, say)."""
    return sigv4.protocol_of(environ, body, service)


def authentication(
    environ: Environ, body: bytes, service: str, failure: sigv4.Failure | None
) -> Answer:
    """The answer to a request that fails authentication (`failure`; None: it carries no
    signature), in the words and status offline/enforcement/sigv4.py's table gives for its
    service."""
    spelled = protocol(environ, service, body)
    status, code, message = sigv4.error_for(service, spelled, failure)
    details = failure.details if failure else ()
    return refusal(environ, service, code, message, status, details, body)


def _xml(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def refusal(
    environ: Environ,
    service: str,
    code: str,
    message: str,
    status: int,
    details: Iterable[tuple[str, str]] = (),
    request_body: bytes = b"",
) -> Answer:
    """The service's own error shape, by the protocol of the request (whose body tells a
    query-protocol form). `details` are S3's further elements of its <Error>
    (ArgumentName, ProposedSize, ...), one `<Name>value</Name>` each
    (https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html#RESTErrorResponses)."""
    request_id = uuid.uuid4().hex
    spelled = protocol(environ, service, request_body or environ.get(REQUEST_BODY, b""))
    if spelled in (sigv4.JSON, sigv4.REST_JSON):
        document = json.dumps({"__type": code, "message": message})
        headers = [("Content-Type", "application/x-amz-json-1.1"), ("x-amzn-ErrorType", code)]
        if spelled == sigv4.JSON:  # the JSON protocols answer every client error with 400
            status = status if status >= 500 else 400
        return status, headers, document.encode()
    if spelled == sigv4.REST_XML:
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
