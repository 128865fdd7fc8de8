"""Browser uploads to S3 (POST Object) checked against their signed POST policy, as S3 checks them.

moto stores whatever a multipart POST to a bucket carries and never reads the policy. The
emulator calls `check_upload` for each such request and answers with the `Refusal`, so an
upload the product's presigned POST does not permit fails here as it fails in AWS.

Pages (each rule below names the one that states it):
- form fields: https://docs.aws.amazon.com/AmazonS3/latest/developerguide/sigv4-HTTPPOSTForms.html
- policy: https://docs.aws.amazon.com/AmazonS3/latest/developerguide/sigv4-HTTPPOSTConstructPolicy.html
- signing: https://docs.aws.amazon.com/AmazonS3/latest/developerguide/sigv4-authentication-HTTPPOST.html
- example: https://docs.aws.amazon.com/AmazonS3/latest/developerguide/sigv4-post-example.html
- errors: https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html#ErrorCodeList

The pages give codes and statuses but few messages; where S3's exact wording is not on a page,
the message is the one S3 was recorded answering, and the comment says so.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

ALGORITHM = "AWS4-HMAC-SHA256"
# Fields no condition has to name (sigv4-HTTPPOSTConstructPolicy.html#sigv4-PolicyConditions:
# "except x-amz-signature, file, policy, and field names that have an x-ignore- prefix").
# x-amz-security-token is not among them: botocore adds a condition for it.
EXEMPT = frozenset({"x-amz-signature", "file", "policy"})
IGNORED_PREFIX = "x-ignore-"
# The fields of an authenticated request, with the spelling S3 names them in when one is missing
# (sigv4-HTTPPOSTForms.html: "Required for authenticated requests").
REQUIRED = (
    ("x-amz-algorithm", "X-Amz-Algorithm"),
    ("x-amz-credential", "X-Amz-Credential"),
    ("x-amz-date", "X-Amz-Date"),
    ("x-amz-signature", "X-Amz-Signature"),
    ("policy", "Policy"),
)
SIGV4_FIELDS = frozenset(name for name, _ in REQUIRED if name != "policy")
SIGV2_FIELDS = frozenset({"awsaccesskeyid", "signature"})
CREDENTIAL_FORM = '"<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request"'
EXPIRATION = re.compile(r"(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(?:\.(\d{1,9}))?Z")


@dataclass(frozen=True)
class Upload:
    bucket: str
    fields: Mapping[str, str]  # every form field before the file, names as sent
    file_size: int  # bytes of the `file` field's content
    now: datetime  # timezone-aware UTC, when the request arrived
    filename: str | None = None  # the file part's `filename`, which `${filename}` stands for


@dataclass(frozen=True)
class Refusal:
    status: int
    code: str
    message: str
    details: tuple[tuple[str, str], ...] = ()  # further elements of S3's <Error> document


@dataclass(frozen=True)
class Signer:
    access_key_id: str
    secret_access_key: str


@dataclass(frozen=True)
class Scope:
    access_key_id: str
    date: str
    region: str


@dataclass(frozen=True)
class _Match:
    operator: str  # "eq" or "starts-with"
    name: str  # the field, lower-cased, without its "$"
    value: str
    text: str  # the condition as S3 prints it


@dataclass(frozen=True)
class _Range:
    low: int
    high: int


@dataclass(frozen=True)
class _Unusable:
    text: str


_Condition = _Match | _Range | _Unusable


def check_upload(upload: Upload, secret_for: Callable[[str], str | None]) -> Refusal | None:
    """None when S3 would store the upload, else the refusal S3 would answer with."""
    form = _form(upload.fields)
    refusal = _authentication(form)
    if refusal is not None:
        return refusal
    scope = _scope(form["x-amz-credential"])
    if isinstance(scope, Refusal):
        return scope
    refusal = _signature(form, scope, secret_for)
    if refusal is not None:
        return refusal
    document = _document(form["policy"])
    if isinstance(document, Refusal):
        return document
    return _policy(document, upload)


def scope_of(fields: Mapping[str, str]) -> Scope | None:
    """The signer's key id, date and region that `x-amz-credential` names, in any case of the
    field's name; None when it is missing or S3 would refuse it."""
    scope = _scope(_form(fields).get("x-amz-credential", ""))
    return scope if isinstance(scope, Scope) else None


def signer_of(fields: Mapping[str, str]) -> str | None:
    """The access key id that `x-amz-credential` names, for the caller's identity."""
    scope = scope_of(fields)
    return scope.access_key_id if scope else None


def secrets(signers: Iterable[Signer]) -> Callable[[str], str | None]:
    """A `secret_for` that knows these signers."""
    known = {s.access_key_id: s.secret_access_key for s in signers}
    return known.get


def object_key(upload: Upload) -> str:
    """The key S3 stores the object under: the `key` field with `${filename}` expanded."""
    return _expand(_form(upload.fields).get("key", ""), upload.filename)


def signing_key(secret: str, date: str, region: str, service: str = "s3") -> bytes:
    # The SigV4 key for the credential's scope (sigv4-authentication-HTTPPOST.html,
    # "Calculating a Signature"), as botocore's SigV4Auth.signature derives it.
    key = f"AWS4{secret}".encode()
    for part in (date, region, service, "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return key


def policy_signature(policy: str, secret: str, date: str, region: str) -> str:
    # The string to sign is the base64 policy itself, not its JSON; the signature is hex
    # (sigv4-authentication-HTTPPOST.html, "To Calculate a signature").
    key = signing_key(secret, date, region)
    return hmac.new(key, policy.encode(), hashlib.sha256).hexdigest()


# ----------------------------------------------------------------------------- the form


def _form(fields: Mapping[str, str]) -> dict[str, str]:
    # "The post parameters are case insensitive" (sigv4-post-example.html); a name sent twice
    # holds both values joined by a comma (HTTPPOSTForms.html, "Conditions").
    form: dict[str, str] = {}
    for name, value in fields.items():
        lower = name.lower()
        form[lower] = f"{form[lower]},{value}" if lower in form else value
    return form


def _expand(value: str, filename: str | None) -> str:
    # "${filename} is automatically replaced with the name of the file ... only the text
    # following the last slash (/) or backslash (\\) is used ... If no file or file name is
    # provided, the variable is replaced with an empty string" (sigv4-HTTPPOSTForms.html).
    name = re.split(r"[/\\]", filename or "")[-1]
    return value.replace("${filename}", name)


def _argument(message: str, name: str, value: str = "") -> Refusal:
    details = (("ArgumentName", name), ("ArgumentValue", value))
    return Refusal(400, "InvalidArgument", message, details)


def _missing(name: str) -> Refusal:
    # The pages name no message; this is S3's recorded answer, two spaces and all.
    message = (
        f"Bucket POST must contain a field named '{name}'.  "
        "If it is specified, please check the order of the fields."
    )
    return _argument(message, name)


def _authentication(form: Mapping[str, str]) -> Refusal | None:
    if "key" not in form:  # "key ... Required: Yes" (sigv4-HTTPPOSTForms.html)
        return _missing("key")
    if not SIGV4_FIELDS & form.keys():
        if SIGV2_FIELDS & form.keys():
            # A Signature Version 2 form; S3 answers this where only SigV4 is accepted
            # (ErrorResponses.html: InvalidRequest, "Please use AWS4-HMAC-SHA256.", 400).
            return Refusal(400, "InvalidRequest", "Please use AWS4-HMAC-SHA256.")
        # No signature: "the request is assumed to be anonymous and will succeed only if you
        # have configured the bucket for public read and write" (sigv4-HTTPPOSTForms.html).
        # No bucket of this product allows anonymous writes (AccessDenied, 403: ErrorResponses).
        return Refusal(403, "AccessDenied", "Access Denied")
    # Every field of an authenticated request, the policy included, or S3 names the first
    # one missing (sigv4-HTTPPOSTForms.html, "Required for authenticated requests").
    for name, spelled in REQUIRED:
        if name not in form:
            return _missing(spelled)
    if form["x-amz-algorithm"] != ALGORITHM:
        # "For AWS Signature Version 4, the value is AWS4-HMAC-SHA256" (sigv4-HTTPPOSTForms.html).
        return Refusal(400, "InvalidRequest", "Please use AWS4-HMAC-SHA256.")
    return _date(form["x-amz-date"])


def _date(value: str) -> Refusal | None:
    # "the date value in ISO8601 format. For example, 20130728T000000Z" (sigv4-HTTPPOSTForms.html);
    # the message, misspelling included, is S3's recorded answer.
    try:
        datetime.strptime(value, "%Y%m%dT%H%M%SZ")
    except ValueError:
        return _argument("X-Amz-Date must be formated via ISO8601 Long format", "X-Amz-Date", value)
    return None


def _scope(credential: str) -> Scope | Refusal:
    # "<your-access-key-id>/<date>/<aws-region>/<aws-service>/aws4_request ... For Amazon S3,
    # the aws-service string is s3" (sigv4-HTTPPOSTForms.html). The messages are the ones S3
    # gives a presigned request's credential.
    parts = credential.split("/")
    if len(parts) != 5:
        problem = f"the Credential is mal-formed; expecting {CREDENTIAL_FORM}."
    elif not parts[0]:
        problem = "a non-empty Access Key (AKID) must be provided in the credential."
    elif not re.fullmatch(r"\d{8}", parts[1]):
        problem = (
            f'incorrect date format "{parts[1]}". '
            'This date in the credential must be in the format "yyyyMMdd".'
        )
    elif parts[3] != "s3":
        problem = f'incorrect service "{parts[3]}". This endpoint belongs to "s3".'
    elif parts[4] != "aws4_request":
        problem = f'incorrect terminal "{parts[4]}". This endpoint uses "aws4_request".'
    else:
        return Scope(parts[0], parts[1], parts[2])
    return _argument(problem, "X-Amz-Credential", credential)


def _signature(
    form: Mapping[str, str], scope: Scope, secret_for: Callable[[str], str | None]
) -> Refusal | None:
    key_id = (("AWSAccessKeyId", scope.access_key_id),)
    secret = secret_for(scope.access_key_id)
    if secret is None:
        # InvalidAccessKeyId, 403 (ErrorResponses.html); the message is S3's wire wording.
        message = "The AWS Access Key Id you provided does not exist in our records."
        return Refusal(403, "InvalidAccessKeyId", message, key_id)
    policy, provided = form["policy"], form["x-amz-signature"]
    expected = policy_signature(policy, secret, scope.date, scope.region)
    if hmac.compare_digest(expected.encode(), provided.encode()):
        return None
    # SignatureDoesNotMatch, 403 (ErrorResponses.html); the string to sign is the policy as sent.
    message = (
        "The request signature we calculated does not match the signature you provided. "
        "Check your key and signing method."
    )
    details = (*key_id, ("StringToSign", policy), ("SignatureProvided", provided))
    return Refusal(403, "SignatureDoesNotMatch", message, details)


# ----------------------------------------------------------------------------- the policy


def _invalid_policy(reason: str) -> Refusal:
    # InvalidPolicyDocument, 400 (ErrorResponses.html), with S3's recorded "Invalid Policy: ...".
    return Refusal(400, "InvalidPolicyDocument", f"Invalid Policy: {reason}")


def _document(policy: str) -> dict[str, Any] | Refusal:
    # "a UTF-8 and base64-encoded document written in JavaScript Object Notation (JSON) ...
    # The POST policy always contains the expiration and conditions elements"
    # (sigv4-HTTPPOSTConstructPolicy.html). Member names are case-sensitive.
    try:
        document = json.loads(base64.b64decode(policy, validate=True))
    except (binascii.Error, ValueError):
        return _invalid_policy("Invalid JSON.")
    if not isinstance(document, dict):
        return _invalid_policy("Invalid JSON.")
    for name in document:
        if name not in ("expiration", "conditions"):
            return _invalid_policy(f"Unexpected: '{name.lower()}'")
    if "expiration" not in document:
        return _invalid_policy("Policy missing expiration.")
    if "conditions" not in document:
        return _invalid_policy("Policy missing conditions.")
    if not isinstance(document["conditions"], list):
        return _invalid_policy("Invalid 'conditions' value: must be a List.")
    return document


def _expiration(value: object) -> datetime | None:
    # "ISO8601 GMT date format. For example, 2013-08-01T12:00:00.000Z"
    # (sigv4-HTTPPOSTConstructPolicy.html, "Expiration"); botocore writes no fraction.
    match = EXPIRATION.fullmatch(value) if isinstance(value, str) else None
    if match is None:
        return None
    *parts, fraction = match.groups()
    year, month, day, hour, minute, second = map(int, parts)
    micros = int((fraction or "0")[:6].ljust(6, "0"))
    try:
        return datetime(year, month, day, hour, minute, second, micros, tzinfo=UTC)
    except ValueError:
        return None


def _policy(document: dict[str, Any], upload: Upload) -> Refusal | None:
    expiration = _expiration(document["expiration"])
    if expiration is None:
        return _invalid_policy(f"Invalid 'expiration' value: '{document['expiration']}'")
    conditions: list[_Condition] = []
    for raw in document["conditions"]:
        parsed = _condition(raw)
        if isinstance(parsed, Refusal):
            return parsed
        conditions.append(parsed)
    # The policy "is not valid after" its expiration (sigv4-HTTPPOSTConstructPolicy.html);
    # AccessDenied, 403, with S3's recorded message.
    if upload.now > expiration:
        return _denied("Policy expired.")
    # Variables are expanded first: "all condition matching should be against the expanded
    # form fields" (sigv4-HTTPPOSTConstructPolicy.html, "Conditions").
    form = {name: _expand(value, upload.filename) for name, value in _form(upload.fields).items()}
    for condition in conditions:
        refusal = _holds(condition, form, upload)
        if refusal is not None:
            return refusal
    return _uncovered(form, {c.name for c in conditions if isinstance(c, _Match)})


def _denied(reason: str) -> Refusal:
    # A policy the form does not satisfy: AccessDenied, 403, "Invalid according to Policy: ...",
    # as S3 answers (ErrorResponses.html lists AccessDenied as 403).
    return Refusal(403, "AccessDenied", f"Invalid according to Policy: {reason}")


def _render(condition: list[Any]) -> str:
    # S3 prints a failed condition as JSON, an object one as its "eq" array.
    return json.dumps(condition, ensure_ascii=False)


def _condition(raw: object) -> _Condition | Refusal:
    if isinstance(raw, dict):
        return _simple(raw)
    if isinstance(raw, list):
        return _array(raw)
    return _invalid_policy("Invalid condition test: must be a List or Object.")


def _simple(raw: dict[str, Any]) -> _Condition | Refusal:
    # Exact match, {"acl": "public-read"} (sigv4-HTTPPOSTConstructPolicy.html, "Condition
    # Matching"); the messages are S3's recorded answers to the malformed ones.
    if len(raw) != 1:
        reason = "Simple-Conditions must have exactly one property specified."
        return _invalid_policy(f"Invalid Simple-Condition: {reason}")
    [(name, value)] = raw.items()
    if value is None:
        return _invalid_policy("Invalid JSON.")
    if not isinstance(value, str):
        return _invalid_policy("Invalid Simple-Condition: value must be a string.")
    return _Match("eq", name.lower(), value, _render(["eq", f"${name}", value]))


def _array(raw: list[Any]) -> _Condition | Refusal:
    if not raw:
        return _invalid_policy("Invalid Condition: missing operation identifier.")
    operator = raw[0].lower() if isinstance(raw[0], str) else raw[0]
    if operator == "content-length-range":
        return _range(raw)
    # ["eq", "$acl", "public-read"] and ["starts-with", "$key", "user/user1/"]
    # (sigv4-HTTPPOSTConstructPolicy.html, "Condition Matching").
    shaped = len(raw) == 3 and all(isinstance(part, str) for part in raw)
    if operator in ("eq", "starts-with") and shaped and raw[1].startswith("$"):
        return _Match(operator, raw[1][1:].lower(), raw[2], _render(raw))
    # S3 fails a condition it cannot apply (a name without "$", say) rather than reject the
    # policy, as recorded; this checker does the same for any other shape.
    return _Unusable(_render(raw))


def _range(raw: list[Any]) -> _Condition | Refusal:
    # ["content-length-range", 1048576, 10485760] (sigv4-HTTPPOSTConstructPolicy.html,
    # "Specifying Ranges"). S3 was recorded taking bounds written as strings of digits,
    # refusing a fraction as invalid JSON, and failing the condition for anything else.
    if any(isinstance(bound, float) for bound in raw[1:]):
        return _invalid_policy("Invalid JSON.")
    low, high = (_integer(bound) for bound in raw[1:3])
    if len(raw) != 3 or low is None or high is None:
        return _Unusable(_render(raw))
    return _Range(low, high)


def _integer(value: object) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and re.fullmatch(r"\d+", value):
        return int(value)
    return None


def _holds(condition: _Condition, form: Mapping[str, str], upload: Upload) -> Refusal | None:
    if isinstance(condition, _Range):
        return _size(condition, upload.file_size)
    if isinstance(condition, _Match) and _matches(condition, form, upload.bucket):
        return None
    return _denied(f"Policy Condition failed: {condition.text}")


def _size(bounds: _Range, size: int) -> Refusal | None:
    # Outside the range: EntityTooSmall / EntityTooLarge, both 400 (ErrorResponses.html);
    # bounds inclusive. The messages and elements are S3's recorded answers.
    proposed = ("ProposedSize", str(size))
    if size < bounds.low:
        message = "Your proposed upload is smaller than the minimum allowed size"
        details = (proposed, ("MinSizeAllowed", str(bounds.low)))
        return Refusal(400, "EntityTooSmall", message, details)
    if size > bounds.high:
        message = "Your proposed upload exceeds the maximum allowed size"
        details = (proposed, ("MaxSizeAllowed", str(bounds.high)))
        return Refusal(400, "EntityTooLarge", message, details)
    return None


def _matches(condition: _Match, form: Mapping[str, str], bucket: str) -> bool:
    # "bucket: Specifies the acceptable bucket name" (sigv4-HTTPPOSTConstructPolicy.html): the
    # bucket posted to. Any other name is a form field's, in any case.
    actual = bucket if condition.name == "bucket" else form.get(condition.name)
    if actual is None:  # a condition on a field the form lacks fails, even starts-with ""
        return False
    if condition.operator == "eq":  # values are compared case-sensitively
        return actual == condition.value
    # "Content-Types values for a starts-with condition that include commas are interpreted as
    # lists. Each value in the list must meet the condition" (sigv4-HTTPPOSTConstructPolicy.html);
    # an empty prefix matches anything ("Matching Any Content").
    values = actual.split(",") if condition.name == "content-type" else [actual]
    return all(v.startswith(condition.value) for v in values)


def _uncovered(form: Mapping[str, str], named: set[str]) -> Refusal | None:
    # "Each form field that you specify in a form (except x-amz-signature, file, policy, and
    # field names that have an x-ignore- prefix) must appear in the list of conditions"
    # (sigv4-HTTPPOSTConstructPolicy.html). S3 names the field in lower case.
    for name in form:
        if name in EXEMPT or name.startswith(IGNORED_PREFIX) or name in named:
            continue
        return _denied(f"Extra input fields: {name}")
    return None
