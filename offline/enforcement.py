"""Every call a role makes, authorized before the emulator serves it, as AWS authorizes it.

moto serves any request from anyone. In front of it, this WSGI layer finds the caller from
the request's access key: a session of a role (the function sandboxes get one each, from the
emulator's STS, as Lambda does) or the emulator's administrator identity, which is how the
deploy tooling and the tests call it, like an account administrator. For a role it turns the
request into the checks AWS makes (offline/calls.py), decides each with the role's deployed
policies, the bucket policy and the key policy (offline/policy.py), and refuses as the
service does. Browser uploads with a presigned POST are checked as S3 checks them, whoever
signed them (offline/post_policy.py). Every decision about a role is written to the audit
log, which build/iam-report.md is made from.
"""

from __future__ import annotations

import io
import json
import logging
import os
import re
import threading
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from http import HTTPStatus
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote

from werkzeug.formparser import parse_form_data

from offline import calls, post_policy
from offline.calls import Call, Check, NotModelled
from offline.endpoint import ACCOUNT
from offline.policy import Decision, Policy, PolicyError, Request, authorize

log = logging.getLogger("offline.enforcement")
AUDIT_DIRECTORY = "OFFLINE_AUDIT_DIR"
EXPECTED_DENIALS = "OFFLINE_AUDIT_EXPECTED_DENIALS"
ADMINISTRATOR = "the emulator's administrator"
CREDENTIAL = re.compile(r"Credential=([^/,\s]+)/\d{8}/([^/]+)/([^/]+)/aws4_request")
Environ = dict[str, Any]
StartResponse = Callable[..., Any]


@dataclass(frozen=True)
class Caller:
    arn: str
    aliases: tuple[str, ...]
    role: str | None  # None for the emulator's administrator identity
    policies: tuple[Policy, ...]


def caller_of(access_key: str) -> Caller | None:
    """The role session an access key belongs to; None for any other key, which is the
    emulator's administrator."""
    from moto.iam.models import iam_backends

    session = _session(access_key)
    if session is None:
        return None
    role_name = session.role_arn.split("/")[-1]
    role = iam_backends[ACCOUNT]["aws"].get_role(role_name)
    policies = tuple(
        Policy(f"role {role_name} / {name}", _document(document))
        for name, document in sorted(role.policies.items())
    ) + tuple(
        # A managed policy applies through its default version
        # (https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies_managed-versioning.html).
        Policy(f"role {role_name} / {arn}", _document(version.document))
        for arn, managed in sorted(role.managed_policies.items())
        for version in managed.versions
        if version.is_default
    )
    return Caller(
        f"arn:aws:sts::{ACCOUNT}:assumed-role/{role_name}/{session.session_name}",
        (session.role_arn,),
        role_name,
        policies,
    )


def _session(access_key: str) -> Any:
    """The role session (moto's STS assumed role) an access key was issued to, if any."""
    from moto.sts.models import sts_backends

    for session in sts_backends[ACCOUNT]["aws"].assumed_roles:
        if session.access_key_id == access_key:
            return session
    return None


def _document(document: str) -> dict[str, Any]:
    # Inline policies are kept as text (stack_resources._role_policies_as_text), as managed
    # policy versions are.
    return dict(json.loads(unquote(document) if document.startswith("%7B") else document))


class MotoState(calls.State):
    """The resources' keys and policies, read from the emulator's own backends."""

    def table_key(self, region: str, table: str) -> str | None:
        from moto.dynamodb.models import dynamodb_backends

        try:
            sse = dynamodb_backends[ACCOUNT][region].get_table(table).sse_specification
        except Exception:
            return None  # a missing table: DynamoDB answers ResourceNotFound itself
        # The API's spelling, which a stack's tables get too (stack_resources).
        if sse and sse.get("Enabled") and sse.get("SSEType") == "KMS":
            return str(sse.get("KMSMasterKeyId") or "alias/aws/dynamodb")
        return None

    def parameter_key(self, region: str, name: str) -> str | None:
        from moto.ssm.models import ssm_backends

        parameter = ssm_backends[ACCOUNT][region].get_parameter(name)
        if parameter is None or parameter.parameter_type != "SecureString":
            return None
        return parameter.keyid or "alias/aws/ssm"

    def log_group_key(self, region: str, group: str) -> str | None:
        from moto.logs.models import logs_backends

        found = logs_backends[ACCOUNT][region].groups.get(group)
        return found.kms_key_id if found else None

    def _bucket(self, bucket: str) -> Any:
        from moto.s3.models import s3_backends

        try:
            return s3_backends[ACCOUNT]["aws"].get_bucket(bucket)
        except Exception:
            return None

    def bucket_policy(self, bucket: str) -> Policy | None:
        found = self._bucket(bucket)
        if found is None or not found.policy:
            return None
        text = found.policy.decode() if isinstance(found.policy, bytes) else found.policy
        return Policy(f"bucket policy of {bucket}", json.loads(text))

    def bucket_key(self, bucket: str) -> tuple[str | None, bool]:
        found = self._bucket(bucket)
        rules = ((found.encryption or {}).get("Rule") if found else None) or []
        for rule in rules if isinstance(rules, list) else [rules]:
            default = rule.get("ApplyServerSideEncryptionByDefault", {})
            if default.get("SSEAlgorithm") == "aws:kms":
                enabled = str(rule.get("BucketKeyEnabled", "false")).lower() == "true"
                return default.get("KMSMasterKeyID") or "alias/aws/s3", enabled
        return None, False

    def object_key(self, bucket: str, key: str) -> str | None:
        found = self._bucket(bucket)
        stored = found.keys.get(key) if found else None
        if stored is None or stored.encryption != "aws:kms":
            return None
        return stored.kms_key_id or "alias/aws/s3"

    def key(self, region: str, key_id: str) -> tuple[str, Policy, list[str]]:
        from moto.kms.models import kms_backends

        backend = kms_backends[ACCOUNT][region]
        try:
            key = backend.describe_key(key_id)
        except Exception:
            if key_id.startswith("alias/aws/"):
                return managed_key(region, key_id)
            raise NotModelled(f"no KMS key {key_id} in {region}") from None
        aliases = sorted(key.aliases) if hasattr(key, "aliases") else []
        managed = [a for a in [key_id, *aliases] if a.startswith("alias/aws/")]
        if managed:  # moto gives AWS managed keys a policy of its own; AWS's is this one
            _, policy, _ = managed_key(region, managed[0])
            return key.arn, policy, aliases
        document = json.loads(key.policy) if isinstance(key.policy, str) else key.policy
        return key.arn, Policy(f"key policy of {key.arn}", document), aliases


def managed_key(region: str, alias: str) -> tuple[str, Policy, list[str]]:
    """An AWS managed key (`alias/aws/ssm`, `alias/aws/s3`): its policy lets every principal of
    the account use it through its service, with no IAM grant needed
    (https://docs.aws.amazon.com/kms/latest/developerguide/concepts.html#aws-managed-key;
    for Parameter Store, "grants Decrypt permission to all IAM principals in the AWS account",
    https://docs.aws.amazon.com/systems-manager/latest/userguide/secure-string-parameter-kms-encryption.html)."""
    service = alias.removeprefix("alias/aws/")
    document = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": "*"},
                "Action": ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*",
                           "kms:DescribeKey"],
                "Resource": "*",
                "Condition": {
                    "StringEquals": {
                        "kms:CallerAccount": ACCOUNT,
                        "kms:ViaService": f"{service}.{region}.amazonaws.com",
                    }
                },
            }
        ],
    }  # fmt: skip
    arn = f"arn:aws:kms:{region}:{ACCOUNT}:key/aws-managed-{service}"
    return arn, Policy(f"AWS managed key {alias}", document), [alias]


class Audit:
    """One JSON line per decision about a role, for build/iam-report.md."""

    def __init__(self, directory: Path | None, expect_denials: bool = False) -> None:
        # Set by tests that provoke refusals on purpose; the report does not count those.
        self.expect_denials = expect_denials
        self._lock = threading.Lock()
        self._file = None
        if directory is not None:
            directory.mkdir(parents=True, exist_ok=True)
            self._file = (directory / f"audit-{os.getpid()}-{uuid.uuid4().hex[:8]}.jsonl").open(
                "a", encoding="utf-8"
            )

    def record(self, **entry: Any) -> None:
        if self._file is None:
            return
        with self._lock:
            line = {**entry, "expected_denials": self.expect_denials}
            self._file.write(json.dumps(line, sort_keys=True) + "\n")
            self._file.flush()

    def decision(self, caller: Caller, check: Check, decision: Decision) -> None:
        self.record(
            role=caller.role,
            caller=caller.arn,
            action=check.action,
            resource=check.resource,
            on_behalf_of=check.on_behalf_of,
            allowed=decision.allowed,
            reason=decision.reason,
            policy=decision.by.policy if decision.by else None,
            sid=decision.by.sid if decision.by else None,
        )


# --- Parsing a request into a Call ----------------------------------------------------------


def _query_call(body: bytes) -> tuple[str, dict[str, Any]]:
    form = {k: v[0] for k, v in parse_qs(body.decode("utf-8", "replace")).items()}
    return form.get("Action", ""), form


def _s3_call(environ: Environ) -> tuple[str, dict[str, Any]]:
    """Object operations from the method and a path-style path (the emulator is on an IP,
    where SDKs address buckets by path)."""
    path = unquote(environ.get("PATH_INFO", "")).lstrip("/")
    bucket, _, key = path.partition("/")
    query = parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True)
    method = environ["REQUEST_METHOD"]
    params: dict[str, Any] = {"Bucket": bucket, "Key": key}
    if environ.get("HTTP_X_AMZ_SERVER_SIDE_ENCRYPTION_AWS_KMS_KEY_ID"):
        params["SSEKMSKeyId"] = environ["HTTP_X_AMZ_SERVER_SIDE_ENCRYPTION_AWS_KMS_KEY_ID"]
    if key and not query.keys() - {"x-id"}:
        operation = {"PUT": "PutObject", "GET": "GetObject", "HEAD": "HeadObject",
                     "DELETE": "DeleteObject"}.get(method, f"{method} object")  # fmt: skip
        if method == "PUT" and environ.get("HTTP_X_AMZ_COPY_SOURCE"):
            operation = "CopyObject"
    elif not key and method == "GET" and ("list-type" in query or not query):
        operation = "ListBucket"
    else:
        operation = f"{method} {'object' if key else 'bucket'} ?{'&'.join(sorted(query))}"
    return operation, params


def parse(environ: Environ, body: bytes) -> tuple[str, Call] | None:
    """(access key, call) of a signed request; None for an unsigned one."""
    authorization = environ.get("HTTP_AUTHORIZATION", "")
    found = CREDENTIAL.search(authorization) or CREDENTIAL.search(
        "Credential=" + unquote(parse_qs(environ.get("QUERY_STRING", "")).get(
            "X-Amz-Credential", [""])[0])
    )  # fmt: skip
    if not found:
        return None
    access_key, region, service = found.groups()
    target = environ.get("HTTP_X_AMZ_TARGET")
    if target:
        operation = target.rsplit(".", 1)[-1]
        params = json.loads(body or b"{}")
    elif service == "s3":
        operation, params = _s3_call(environ)
    elif environ.get("CONTENT_TYPE", "").startswith("application/x-www-form-urlencoded"):
        operation, params = _query_call(body)
    else:
        operation = f"{environ['REQUEST_METHOD']} {environ.get('PATH_INFO', '')}"
        params = {}
    return access_key, Call(service, operation, region, ACCOUNT, params)


# --- Answers --------------------------------------------------------------------------------


def _xml(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def refusal(
    environ: Environ,
    service: str,
    code: str,
    message: str,
    status: int,
    details: Iterable[tuple[str, str]] = (),
) -> tuple:
    """The service's own error shape: JSON for the JSON protocols, XML for S3 and the
    query protocol (https://smithy.io/2.0/aws/protocols/). `details` are S3's further
    elements of its <Error> (ArgumentName, ProposedSize, ...), one `<Name>value</Name>` each
    (https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html#RESTErrorResponses)."""
    request_id = uuid.uuid4().hex
    if environ.get("HTTP_X_AMZ_TARGET"):
        body = json.dumps({"__type": code, "message": message})
        headers = [("Content-Type", "application/x-amz-json-1.1"), ("x-amzn-ErrorType", code)]
        return (status if status >= 500 else 400), headers, body.encode()
    if service == "s3":
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


# --- The middleware -------------------------------------------------------------------------


class Enforcement:
    def __init__(self, app: Callable[..., Iterable[bytes]], audit: Audit) -> None:
        self.app = app
        self.audit = audit
        self.state = MotoState()

    def __call__(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length > 0 else b""
        try:
            answer = self.decide(environ, body)
        except Exception as error:  # never a silent allow: refuse, and say why in the log
            log.exception(
                "could not authorize %s %s", environ["REQUEST_METHOD"], environ["PATH_INFO"]
            )
            message = f"the emulator could not authorize this call: {type(error).__name__}: {error}"
            answer = refusal(environ, "", "InternalFailure", message, 500)
        if answer is not None:
            status, headers, content = answer
            start_response(f"{status} {HTTPStatus(status).phrase}", headers)
            return [content]
        environ["wsgi.input"] = io.BytesIO(body)
        return self.app(environ, start_response)

    def decide(self, environ: Environ, body: bytes) -> tuple | None:
        """None to serve the request; else the refusal to answer with."""
        if _is_browser_upload(environ):
            return self.upload(environ, body)
        parsed = parse(environ, body)
        if parsed is None:
            return None  # unsigned: the service's own rules (Cognito's public calls, JWKS)
        access_key, call = parsed
        caller = caller_of(access_key)
        if caller is None:  # the administrator identity: allowed, and recorded
            self.audit.record(
                role=None, caller=ADMINISTRATOR, action=f"{call.service}:{call.operation}",
                allowed=True, reason="the emulator's administrator identity",
            )  # fmt: skip
            return None
        return self.authorize(environ, caller, call)

    def authorize(self, environ: Environ, caller: Caller, call: Call) -> tuple | None:
        try:
            needed = calls.checks(call, self.state)
        except NotModelled as unknown:
            message = (
                f"User: {caller.arn} is not authorized to perform: {call.service}:"
                f"{call.operation}: the emulator does not model how AWS authorizes {unknown}"
            )
            log.warning("refused %s", message)
            self.audit.record(
                role=caller.role, caller=caller.arn, action=f"{call.service}:{call.operation}",
                resource="*", allowed=False, reason=f"not modelled: {unknown}",
            )  # fmt: skip
            return refusal(environ, call.service, "AccessDenied", message, 403)
        for check in needed:
            decision = self.decide_one(caller, check)
            if decision.allowed:
                continue
            message = decision.message()
            if check.on_behalf_of:
                message += f" (the {check.on_behalf_of} call needs it)"
            log.warning("refused %s", message)
            code = "AccessDenied" if call.service in ("s3", "sts") else "AccessDeniedException"
            return refusal(environ, call.service, code, message, 403)
        return None

    def decide_one(self, caller: Caller, check: Check) -> Decision:
        request = Request(
            check.action, check.resource, caller.arn, ACCOUNT, check.context, caller.aliases
        )
        try:
            decision = authorize(
                request,
                caller.policies,
                check.resource_policy,
                resource_required=check.resource_required,
            )
        except PolicyError as error:  # a policy the evaluator cannot read: refuse, loudly
            decision = Decision(
                False, request, f"because the emulator cannot evaluate: {error}", None
            )
        self.audit.decision(caller, check, decision)
        return decision

    def upload(self, environ: Environ, body: bytes) -> tuple | None:
        """A browser's POST Object: the POST policy, then the signer's own permissions."""
        bucket = unquote(environ.get("PATH_INFO", "")).strip("/").split("/", 1)[0]
        form_environ = {**environ, "wsgi.input": io.BytesIO(body)}
        _, form, files = parse_form_data(form_environ)
        file = files.get("file")
        content = file.read() if file else b""
        fields = {name: value for name, value in form.items(multi=False)}
        upload = post_policy.Upload(
            bucket, fields, len(content), datetime.now(UTC), file.filename if file else None
        )
        refused = post_policy.check_upload(upload, secret_of)
        if refused is not None:
            log.warning("refused an upload to %s: %s %s", bucket, refused.code, refused.message)
            return refusal(
                environ, "s3", refused.code, refused.message, refused.status, refused.details
            )
        # The policy's checks passed, so the credential is a well-formed scope.
        scope = post_policy.scope_of(fields)
        caller = caller_of(scope.access_key_id) if scope else None
        if scope is None or caller is None:
            return None
        call = Call("s3", "PutObject", scope.region, ACCOUNT,
                    {"Bucket": bucket, "Key": post_policy.object_key(upload)})  # fmt: skip
        return self.authorize(environ, caller, call)


def _is_browser_upload(environ: Environ) -> bool:
    return (
        environ["REQUEST_METHOD"] == "POST"
        and environ.get("CONTENT_TYPE", "").startswith("multipart/form-data")
        and not environ.get("HTTP_AUTHORIZATION")
    )


def secret_of(access_key: str) -> str | None:
    """The secret of a role session's key; None for any other key, the administrator's
    included (the emulator does not know what secret it was configured with), so a POST it
    signed is refused as InvalidAccessKeyId."""
    session = _session(access_key)
    return str(session.secret_access_key) if session is not None else None


def wrap(app: Callable[..., Iterable[bytes]]) -> Enforcement:
    directory = os.environ.get(AUDIT_DIRECTORY)
    expected = os.environ.get(EXPECTED_DENIALS) == "1"
    return Enforcement(app, Audit(Path(directory) if directory else None, expected))
