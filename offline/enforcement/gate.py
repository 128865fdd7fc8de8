"""Every request to the emulator, authenticated and authorized before moto serves it, as AWS
authenticates and authorizes it.

moto serves any request from anyone. In front of it, this WSGI layer:
1. authenticates: a request carries a SigV4 signature, in its Authorization header or its
   query string (a presigned URL), that verifies against the secret of the key it names
   (offline/enforcement/sigv4.py): the emulator's administrator, or a role session its STS issued
   (offline/iam/callers.py). A key nobody issued, a wrong signature, a missing or wrong session
   token, an expired session, a stale date or an expired URL is refused as the service
   refuses it (offline/enforcement/service_errors.py). An unsigned request is served only where AWS
   serves one: the user pool's public operations and keys, a CORS preflight, and S3 as an
   anonymous caller, whom only a bucket policy naming everyone can allow;
2. authorizes a role's call: the checks AWS makes for it (offline/iam/calls.py), each with its
   whole request context (offline/iam/request_context.py), decided with the role's deployed
   policies, the bucket policy and the key policy (aws_semantics/policy.py);
3. checks a browser's POST upload against its POST policy, then as its signer
   (offline/s3/post_policy.py, offline/s3/post_form.py);
4. answers a browser's CORS preflight, and gives each answer the CORS headers, as the user
   pool's endpoint and S3 give them (offline/enforcement/browsers.py).
The administrator is allowed every call, like an account administrator. Every decision about
a role is written to the audit log, which build/iam-report.md is made from.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from http import HTTPStatus
from typing import Any

from aws_semantics.policy import Decision, PolicyError, Request, authorize, within_boundary
from offline.cloudformation import stack_role
from offline.common.endpoint import ACCOUNT
from offline.enforcement import browsers, call_parser, sigv4
from offline.enforcement.service_errors import REQUEST_BODY, Answer, authentication, refusal
from offline.iam import calls, request_context
from offline.iam.audit import Audit
from offline.iam.callers import ADMINISTRATOR, Caller, caller_of, secret_of
from offline.iam.calls import Call, Check, NotModelled
from offline.iam.moto_state import MotoState, backend
from offline.iam.request_context import ANONYMOUS, Arrival, Requester, Signature
from offline.s3 import post_form, post_policy

log = logging.getLogger("offline.enforcement")
Environ = dict[str, Any]
StartResponse = Callable[..., Any]
# The body a checked upload is served with: its form as S3 reads it (offline/s3/post_form.py).
FORM_BODY = "offline.form_body"
# The user pool operations that take no SigV4 signature: they are authorized by the user's
# tokens or are public (https://docs.aws.amazon.com/cognito/latest/developerguide/user-pools-API-operations.html,
# "Unauthenticated user operations" and "Authorized user operations").
COGNITO_PUBLIC = frozenset({
    "SignUp", "ConfirmSignUp", "ResendConfirmationCode", "InitiateAuth",
    "RespondToAuthChallenge", "ForgotPassword", "ConfirmForgotPassword", "GetUser",
    "ChangePassword", "GlobalSignOut", "RevokeToken", "UpdateUserAttributes",
    "VerifyUserAttribute", "GetUserAttributeVerificationCode", "DeleteUser",
    "AssociateSoftwareToken", "VerifySoftwareToken", "SetUserMFAPreference",
    "DeleteUserAttributes", "ListDevices", "GetDevice", "ConfirmDevice", "ForgetDevice",
    "UpdateDeviceStatus", "GetUserAuthFactors",
})  # fmt: skip
# A user pool's keys and discovery document are public: API Gateway's JWT authorizer fetches
# them unsigned (https://docs.aws.amazon.com/cognito/latest/developerguide/amazon-cognito-user-pools-using-tokens-verifying-a-jwt.html).
PUBLIC_SUFFIXES = ("/.well-known/jwks.json", "/.well-known/openid-configuration")
# The services whose refusals are `AccessDenied` (S3 and the query-protocol services: "An error
# occurred (AccessDenied) when calling the DescribeStacks operation"); the JSON services say
# AccessDeniedException.
QUERY_AND_S3 = frozenset({"s3", "sts", "cloudformation", "iam"})
# Who signed the request being served, and how it came, for CloudFormation's resource
# operations to act as (offline/cloudformation/stack_role.py).
SERVING = "offline.serving"
# The emulator's own index page, which says it is up (offline/common/endpoint.py's reachable()).
READINESS = "/moto-api/"


class Enforcement:
    def __init__(self, app: Callable[..., Iterable[bytes]], audit: Audit) -> None:
        self.app = app
        self.audit = audit
        self.state = MotoState()

    def __call__(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        body = _body(environ)
        # A refusal is spelled by the request's protocol, which a query form's body tells.
        environ[REQUEST_BODY] = body
        rewrite = _cors_headers(environ)
        if rewrite is not None:
            start_response = browsers.rewriting(start_response, rewrite, environ)
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
        served = environ.pop(FORM_BODY, body)
        environ["wsgi.input"] = io.BytesIO(served)
        environ["CONTENT_LENGTH"] = str(len(served))
        serving = environ.pop(SERVING, None)
        if serving is None:
            return self.app(environ, start_response)
        with stack_role.serving(serving[0], self.audit, serving[1]):
            return self.app(environ, start_response)

    def decide(self, environ: Environ, body: bytes) -> Answer | None:
        """None to serve the request; else the refusal (or the preflight's answer) to answer
        with."""
        if environ["REQUEST_METHOD"] == "OPTIONS":
            preflight = _preflight(environ)
            if preflight is not None:
                return preflight
        if _is_browser_upload(environ):
            return self.upload(environ, body)
        try:
            signature = sigv4.signature_of(environ)
        except sigv4.Malformed as malformed:
            return authentication(environ, body, _service_of(environ), malformed.failure)
        if signature is None:
            return self.unsigned(environ, body)
        caller = caller_of(signature.access_key)
        if caller is None:
            unknown = sigv4.Failure(sigv4.UNKNOWN_KEY)
            return authentication(environ, body, signature.service, unknown)
        now = datetime.now(UTC)
        failure = sigv4.verify(environ, body, signature, caller.secret, caller.session_token, now)
        if failure is not None:
            log.warning("refused a signature of %s: %s", caller.arn, failure.kind)
            return authentication(environ, body, signature.service, failure)
        if caller.expires is not None and now >= caller.expires:
            expired = sigv4.Failure(sigv4.EXPIRED_TOKEN)
            return authentication(environ, body, signature.service, expired)
        call = call_parser.parse(environ, body, signature.service, signature.region, ACCOUNT)
        arrival = _arrival(environ, now, signature.region, _signed(signature))
        environ[SERVING] = (caller, arrival)
        if caller.administrator:  # the administrator identity: allowed, and recorded
            self.audit.record(
                role=None, caller=ADMINISTRATOR, action=f"{call.service}:{call.operation}",
                allowed=True, reason="the emulator's administrator identity",
            )  # fmt: skip
            return None
        return self.authorize(environ, caller, call, arrival)

    def unsigned(self, environ: Environ, body: bytes) -> Answer | None:
        """A request without a signature: served where AWS serves one unsigned, else refused
        as the service refuses it."""
        target = str(environ.get("HTTP_X_AMZ_TARGET", ""))
        path, method = str(environ.get("PATH_INFO", "")), environ["REQUEST_METHOD"]
        if target.startswith("AWSCognitoIdentityProviderService."):
            if target.rsplit(".", 1)[-1] in COGNITO_PUBLIC:
                return None
            return authentication(environ, body, "cognito-idp", None)
        if method == "GET" and (path == READINESS or path.endswith(PUBLIC_SUFFIXES)):
            return None
        service = _service_of(environ)
        if service != "s3":
            return authentication(environ, body, service, None)
        if method == "OPTIONS":
            return None  # of the emulator's own pages or a pool's keys: moto answers it
        # "the request is assumed to be anonymous": only a policy naming everyone allows it
        # (https://docs.aws.amazon.com/AmazonS3/latest/userguide/example-bucket-policies.html#example-bucket-policies-anonymous-user).
        call = call_parser.parse(environ, body, "s3", _bucket_region(environ), ACCOUNT)
        arrival = _arrival(environ, datetime.now(UTC), call.region, None)
        return self.authorize(environ, None, call, arrival)

    def authorize(
        self, environ: Environ, caller: Caller | None, call: Call, arrival: Arrival
    ) -> Answer | None:
        """A caller's call (None: anonymous), each of its checks decided in turn."""
        if caller is not None and caller.session_policy:
            return self.not_modelled(environ, caller, call, "a session policy")
        try:
            needed = calls.checks(call, self.state)
        except NotModelled as unknown:
            return self.not_modelled(environ, caller, call, str(unknown))
        requester = caller.requester if caller else ANONYMOUS
        for check in needed:
            try:
                context = request_context.complete(
                    check.action, check.resource, check.context, requester, arrival, check.via
                )
            except request_context.NotCarried as error:
                return self.not_modelled(environ, caller, call, str(error))
            decision = self.decide_one(caller, requester, check, context)
            if decision.allowed:
                continue
            if caller is None:
                # S3 tells an anonymous caller no more than this (ErrorResponses.html).
                return refusal(environ, "s3", "AccessDenied", "Access Denied", 403)
            message = decision.message()
            if check.on_behalf_of:
                message += f" (the {check.on_behalf_of} call needs it)"
            if check.why:
                message += f" ({check.why})"
            log.warning("refused %s", message)
            code = "AccessDenied" if call.service in QUERY_AND_S3 else "AccessDeniedException"
            return refusal(environ, call.service, code, message, 403)
        return None

    def not_modelled(
        self, environ: Environ, caller: Caller | None, call: Call, what: str
    ) -> Answer:
        arn = caller.arn if caller else ANONYMOUS.arn
        message = (
            f"User: {arn} is not authorized to perform: {call.service}:{call.operation}: "
            f"the emulator does not model how AWS authorizes {what}"
        )
        log.warning("refused %s", message)
        self.audit.record(
            role=caller.role if caller else None, caller=arn,
            action=f"{call.service}:{call.operation}", resource="*", allowed=False,
            reason=f"not modelled: {what}",
        )  # fmt: skip
        return refusal(environ, call.service, "AccessDenied", message, 403)

    def decide_one(
        self, caller: Caller | None, requester: Requester, check: Check, context: dict[str, Any]
    ) -> Decision:
        aliases = caller.aliases if caller else ()
        account = ACCOUNT if caller else ""
        request = Request(check.action, check.resource, requester.arn, account, context, aliases)
        policies = caller.policies if caller else ()
        try:
            decision = authorize(
                request, policies, check.resource_policy, resource_required=check.resource_required
            )
            if caller is not None:
                decision = within_boundary(decision, caller.boundary)
        except PolicyError as error:  # a policy the evaluator cannot read: refuse, loudly
            decision = Decision(
                False, request, f"because the emulator cannot evaluate: {error}", None
            )
        if caller is not None:
            self.audit.decision(caller, check, decision)
        return decision

    def upload(self, environ: Environ, body: bytes) -> Answer | None:
        """A browser's POST Object: the form as S3 reads it (offline/s3/post_form.py), the POST
        policy, then the signer's own permissions. What moto then reads is that form alone."""
        bucket = str(environ.get("PATH_INFO", "")).strip("/").split("/", 1)[0]
        form = post_form.read(environ.get("CONTENT_TYPE", ""), body)
        if form is None:
            # MalformedPOSTRequest, 400 (https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html).
            message = "The body of your POST request is not well-formed multipart/form-data."
            return refusal(environ, "s3", "MalformedPOSTRequest", message, 400)
        if form.file is None:
            # IncorrectNumberOfFilesInPostRequest, 400 (ErrorResponses.html).
            message = "POST requires exactly one file upload per request."
            return refusal(environ, "s3", "IncorrectNumberOfFilesInPostRequest", message, 400)
        fields = form.values()
        now = datetime.now(UTC)
        upload = post_policy.Upload(bucket, fields, len(form.file.content), now, form.file.filename)
        refused = post_policy.check_upload(upload, secret_of)
        if refused is not None:
            log.warning("refused an upload to %s: %s %s", bucket, refused.code, refused.message)
            return refusal(
                environ, "s3", refused.code, refused.message, refused.status, refused.details
            )
        environ[FORM_BODY] = post_form.body(form)
        # The policy's checks passed, so the credential is a well-formed scope of a known key.
        scope = post_policy.scope_of(fields)
        caller = caller_of(scope.access_key_id) if scope else None
        if scope is None or caller is None:
            return refusal(environ, "s3", "InvalidAccessKeyId", "Unknown key", 403)
        token = {k.lower(): v for k, v in fields.items()}.get("x-amz-security-token")
        if token != caller.session_token:
            return authentication(environ, body, "s3", sigv4.Failure(sigv4.TOKEN))
        if caller.expires is not None and now >= caller.expires:
            return authentication(environ, body, "s3", sigv4.Failure(sigv4.EXPIRED_TOKEN))
        if caller.administrator:
            return None
        key = post_policy.object_key(upload)
        call = Call("s3", "PutObject", scope.region, ACCOUNT,
                    {"Bucket": bucket, "Key": key, "Headers": {}, "Query": {}})  # fmt: skip
        signed_at = datetime.strptime(
            {k.lower(): v for k, v in fields.items()}["x-amz-date"], "%Y%m%dT%H%M%SZ"
        ).replace(tzinfo=UTC)
        arrival = _arrival(environ, now, scope.region, Signature("POST", signed_at))
        return self.authorize(environ, caller, call, arrival)


def _body(environ: Environ) -> bytes:
    """The request's body: CONTENT_LENGTH bytes, or, for a chunked request the server has
    decoded (`wsgi.input_terminated`), all of it."""
    length = int(environ.get("CONTENT_LENGTH") or 0)
    if length > 0:
        return bytes(environ["wsgi.input"].read(length))
    if environ.get("wsgi.input_terminated"):
        return bytes(environ["wsgi.input"].read())
    return b""


def _is_browser_upload(environ: Environ) -> bool:
    return (
        environ["REQUEST_METHOD"] == "POST"
        and str(environ.get("CONTENT_TYPE", "")).startswith("multipart/form-data")
        and not environ.get("HTTP_AUTHORIZATION")
    )


def _service_of(environ: Environ) -> str:
    """The service an unsigned request is for, from its shape: a JSON target's prefix, a
    query-protocol form, Lambda's REST paths; anything else is S3's (path-style buckets)."""
    target = str(environ.get("HTTP_X_AMZ_TARGET", ""))
    if target:
        return target.split("_", 1)[0].split(".", 1)[0].lower()
    form = str(environ.get("CONTENT_TYPE", "")).startswith("application/x-www-form-urlencoded")
    if form and environ["REQUEST_METHOD"] == "POST" and environ.get("PATH_INFO") in ("", "/"):
        return "query"  # the query protocol posts its form to the service's root
    if str(environ.get("PATH_INFO", "")).startswith(("/2015-03-31/", "/2018-10-31/")):
        return "lambda"
    return "s3"


def _is_bucket_path(environ: Environ) -> bool:
    """S3's by its shape, and not the emulator's own pages or a user pool's keys."""
    path = str(environ.get("PATH_INFO", ""))
    return (
        _service_of(environ) == "s3"
        and path not in ("", "/")
        and not path.startswith(READINESS)
        and not path.endswith(PUBLIC_SUFFIXES)
    )


def _preflight(environ: Environ) -> Answer | None:
    """A browser's CORS preflight, answered as the endpoint it is for answers it: the service
    root, where the user pool's API (like every JSON protocol's) takes its POSTs, or a bucket
    (offline/enforcement/browsers.py). None for an OPTIONS of anything else."""
    if str(environ.get("PATH_INFO", "")) in ("", "/"):
        return browsers.cognito_preflight(environ)
    if _is_bucket_path(environ):
        return browsers.s3_preflight(environ)
    return None


def _cors_headers(environ: Environ) -> Callable[[Environ, list[tuple[str, str]]], Any] | None:
    """How the CORS headers of the answer to this request are given (a preflight's are its
    answer's own): the user pool's API's, or S3's from the bucket; None leaves moto's."""
    if environ["REQUEST_METHOD"] == "OPTIONS":
        return None
    if browsers.is_cognito(environ):
        return browsers.cognito_headers
    if _is_bucket_path(environ):
        return browsers.s3_headers
    return None


def _bucket_region(environ: Environ) -> str:
    from moto.s3.models import s3_backends

    bucket = str(environ.get("PATH_INFO", "")).strip("/").split("/", 1)[0]
    try:
        return str(backend(s3_backends, "aws").get_bucket(bucket).region_name)
    except Exception:
        return "us-east-1"


def _signed(signature: sigv4.Signature) -> Signature:
    kind = "REST-QUERY-STRING" if signature.in_query else "REST-HEADER"
    return Signature(kind, signature.signed_at, signature.content_sha256)


def _arrival(environ: Environ, now: datetime, region: str, signature: Signature | None) -> Arrival:
    return Arrival(
        now,
        region,
        str(environ.get("REMOTE_ADDR", "127.0.0.1")),
        environ.get("HTTP_USER_AGENT"),
        environ.get("HTTP_REFERER"),
        signature,
    )


def wrap(app: Callable[..., Iterable[bytes]]) -> Enforcement:
    return Enforcement(app, Audit.from_environment())
