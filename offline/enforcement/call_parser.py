"""An HTTP request to the emulator read as the API call it is (offline/iam/calls.py's Call): the
operation and its parameters, by the protocol of its service
(https://smithy.io/2.0/aws/protocols/): JSON with an X-Amz-Target header, the query protocol
with a form body, and S3's REST paths.

S3 keys are read from the request URI exactly as sent, percent-decoded once: a key holding
an encoded slash (`items%2Fx`) is that key, not `items/x`
(https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-keys.html; the URI is
URI-encoded once by the client: https://docs.aws.amazon.com/AmazonS3/latest/API/sig-v4-header-based-auth.html).
"""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import parse_qs, unquote

from offline.enforcement import sigv4
from offline.iam.calls import Call

Environ = dict[str, Any]
# Query parameters that select nothing: the SDK's operation hint and a presigned URL's own
# signature (https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-query-string-auth.html).
NEUTRAL = frozenset({
    "x-id", "x-amz-algorithm", "x-amz-credential", "x-amz-date", "x-amz-expires",
    "x-amz-signedheaders", "x-amz-signature", "x-amz-security-token",
})  # fmt: skip
# GetObject's response-header overrides
# (https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObject.html#API_GetObject_RequestSyntax).
OVERRIDES = frozenset({
    "response-cache-control", "response-content-disposition", "response-content-encoding",
    "response-content-language", "response-content-type", "response-expires",
})  # fmt: skip
# ListObjects and ListObjectsV2 parameters; both are authorized as s3:ListBucket
# (https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListObjectsV2.html).
LISTING = frozenset({
    "list-type", "prefix", "delimiter", "max-keys", "encoding-type", "continuation-token",
    "start-after", "fetch-owner", "marker", "optional-object-attributes",
})  # fmt: skip
OBJECT_METHODS = {"PUT": "PutObject", "GET": "GetObject", "HEAD": "HeadObject",
                  "DELETE": "DeleteObject"}  # fmt: skip


def _s3(environ: Environ) -> tuple[str, dict[str, Any]]:
    """Object and listing operations from the method and a path-style path (the emulator is
    on an IP address, where SDKs address buckets by path)."""
    path = unquote(sigv4.request_target(environ)[0]).lstrip("/")
    bucket, _, key = path.partition("/")
    query = {
        name: values[0]
        for name, values in parse_qs(
            environ.get("QUERY_STRING", ""), keep_blank_values=True
        ).items()
    }
    selectors = {name for name in query if name.lower() not in NEUTRAL}
    headers = {
        name[5:].replace("_", "-").lower(): str(value)
        for name, value in environ.items()
        if name.startswith("HTTP_")
    }
    params: dict[str, Any] = {"Bucket": bucket, "Key": key, "Headers": headers, "Query": query}
    method = environ["REQUEST_METHOD"]
    if key and method in OBJECT_METHODS and not headers.get("x-amz-copy-source"):
        overrides = selectors <= OVERRIDES and method == "GET"
        if not selectors or overrides:
            return OBJECT_METHODS[method], params
    if not key and method == "GET" and selectors <= LISTING:
        return "ListBucket", params
    if not key and method == "HEAD" and not selectors:
        return "HeadBucket", params
    described = "&".join(sorted(selectors))
    return f"{method} {'object' if key else 'bucket'} ?{described}", params


def _query(body: bytes) -> tuple[str, dict[str, Any]]:
    form = {k: v[0] for k, v in parse_qs(body.decode("utf-8", "replace")).items()}
    return form.get("Action", ""), form


# Lambda's REST operations the deploy commands make, by method and path
# (https://docs.aws.amazon.com/lambda/latest/api/API_GetFunctionConfiguration.html).
LAMBDA_OPERATIONS = (
    ("GET", re.compile(r"/2015-03-31/functions/(?P<FunctionName>[^/]+)/configuration/?"),
     "GetFunctionConfiguration"),
)  # fmt: skip


# AWS Backup's REST operations the deploy commands make
# (https://docs.aws.amazon.com/aws-backup/latest/devguide/API_DescribeBackupVault.html).
BACKUP_OPERATIONS = (
    ("GET", re.compile(r"/backup-vaults/(?P<BackupVaultName>[^/]+)/?"), "DescribeBackupVault"),
)  # fmt: skip


def _rest(environ: Environ, operations: tuple) -> tuple[str, dict[str, Any]]:
    """A modelled REST call as its operation and parameters (the path's, and the query's
    Qualifier); any other as its method and path."""
    method, path = environ["REQUEST_METHOD"], unquote(str(environ.get("PATH_INFO", "")))
    for verb, pattern, operation in operations:
        matched = pattern.fullmatch(path)
        if verb == method and matched:
            params: dict[str, Any] = dict(matched.groupdict())
            query = parse_qs(environ.get("QUERY_STRING", ""))
            if query.get("Qualifier"):
                params["Qualifier"] = query["Qualifier"][0]
            return operation, params
    return f"{method} {path}", {}


def parse(environ: Environ, body: bytes, service: str, region: str, account: str) -> Call:
    """The call a request makes to `service` in `region`, as its signature scopes it."""
    target = environ.get("HTTP_X_AMZ_TARGET")
    if target:
        operation = target.rsplit(".", 1)[-1]
        params = json.loads(body or b"{}")
    elif service == "s3":
        operation, params = _s3(environ)
    elif environ.get("CONTENT_TYPE", "").startswith("application/x-www-form-urlencoded"):
        operation, params = _query(body)
    elif service == "lambda":
        operation, params = _rest(environ, LAMBDA_OPERATIONS)
    elif service == "backup":
        operation, params = _rest(environ, BACKUP_OPERATIONS)
    else:
        operation = f"{environ['REQUEST_METHOD']} {environ.get('PATH_INFO', '')}"
        params = {}
    return Call(service, operation, region, account, params)
