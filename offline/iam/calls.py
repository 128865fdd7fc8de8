"""What an API call needs to be allowed: the actions, resources and condition keys AWS authorizes
it with, and the calls to KMS its service makes on the caller's behalf.

Each rule is modelled from the AWS page cited beside it. A call no rule here covers raises
NotModelled, and the emulator refuses it for a role: better a loud refusal than a silent
allow that AWS might not give. The condition keys set here are the call's own (the service's
keys, and the resource's tags and account); the global keys of the caller and the request are
added by offline/iam/request_context.py, which also checks every action, resource and key here
against the Service Authorization Reference.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from aws_semantics.policy import Policy

Context = dict[str, str | list[str]]
# What moto's own S3 path (offline/s3/bucket_policy.py) gives a bucket policy: requests reach the
# emulator over loopback only and are taken as sent over TLS, as every AWS SDK sends them
# (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html#condition-keys-securetransport).
TRANSPORT: Context = {"aws:SecureTransport": "true"}


class NotModelled(Exception):
    """The emulator does not know how AWS authorizes this call."""


class MissingKey(NotModelled):
    """No KMS key has that id, ARN or alias."""


@dataclass(frozen=True)
class Call:
    """One request, as the emulator parsed it."""

    service: str  # the signing name: dynamodb, ssm, logs, kms, s3, sts, ...
    operation: str  # GetItem, PutObject, ...
    region: str
    account: str
    # The JSON body, the form, or (S3) {"Bucket", "Key", "Headers", "Query"}, where Headers are
    # the request's headers in lower case and Query its query parameters.
    params: Mapping[str, Any]


@dataclass(frozen=True)
class Check:
    """One authorization decision a call needs."""

    action: str
    resource: str
    context: Context = field(default_factory=dict)  # the call's own condition keys
    resource_policy: Policy | None = None
    resource_required: bool = False  # a KMS key policy: it must allow, whatever IAM says
    on_behalf_of: str = ""  # the call a service makes this request for, e.g. s3:PutObject
    via: str = ""  # the service that makes it with the caller's credentials: s3, ssm, ...
    why: str = ""  # a refusal's further explanation, when the check is not the call's action


@dataclass(frozen=True)
class Key:
    """A KMS key as its condition keys describe it
    (https://docs.aws.amazon.com/kms/latest/developerguide/conditions-kms.html)."""

    arn: str
    policy: Policy
    aliases: list[str]
    spec: str = "SYMMETRIC_DEFAULT"  # kms:KeySpec
    usage: str = "ENCRYPT_DECRYPT"  # kms:KeyUsage
    origin: str = "AWS_KMS"  # kms:KeyOrigin
    multi_region: bool = False  # kms:MultiRegion
    tags: Mapping[str, str] = field(default_factory=dict)


class State:
    """The emulator's own view of the resources a rule needs (their keys, policies, tags and
    contents); the enforcement module gives it the moto backends, tests give it plain data."""

    def table_key(self, region: str, table: str) -> str | None:
        raise NotImplementedError

    def table_partition_key(self, region: str, table: str) -> str | None:
        """The name of the table's partition key attribute; None for a missing table."""
        raise NotImplementedError

    def parameter_key(self, region: str, name: str) -> str | None:
        """The key of a SecureString parameter; None for any other parameter, or none."""
        raise NotImplementedError

    def parameters_under(self, region: str, path: str, recursive: bool) -> list[str]:
        """The names of the parameters GetParametersByPath finds under `path`."""
        raise NotImplementedError

    def log_group_key(self, region: str, group: str) -> str | None:
        raise NotImplementedError

    def tags(self, region: str, arn: str) -> Mapping[str, str]:
        """The tags of a table, parameter or log group by its ARN."""
        raise NotImplementedError

    def bucket_policy(self, bucket: str) -> Policy | None:
        raise NotImplementedError

    def bucket_key(self, bucket: str) -> tuple[str | None, bool]:
        """(the bucket's default SSE-KMS key, whether S3 Bucket Keys are on)."""
        raise NotImplementedError

    def object_exists(self, bucket: str, key: str) -> bool:
        raise NotImplementedError

    def object_key(self, bucket: str, key: str) -> str | None:
        raise NotImplementedError

    def object_tags(self, bucket: str, key: str) -> Mapping[str, str]:
        raise NotImplementedError

    def key(self, region: str, key_id: str) -> Key:
        """The key any form of key id names (id, ARN, alias name or alias ARN)."""
        raise NotImplementedError

    def stack_arn(self, region: str, name: str) -> str | None:
        """The stack id (its ARN) of a stack named by name or ARN; None when there is none."""
        raise NotImplementedError


def resource_keys(call: Call, tags: Mapping[str, str]) -> Context:
    """The keys a check carries about its resource: the account that owns it, "always
    included in the request context for most service actions", and one aws:ResourceTag key
    per tag "when the requested resource already has attached tags"
    (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html#condition-keys-resourceaccount,
    #condition-keys-resourcetag)."""
    context: Context = {"aws:ResourceAccount": call.account}
    context.update({f"aws:ResourceTag/{k}": v for k, v in tags.items()})
    return context


# --- KMS on behalf of the caller ---------------------------------------------------------


def key_use(
    state: State,
    call: Call,
    action: str,
    key_id: str,
    service: str,
    encryption_context: Mapping[str, str],
    on_behalf_of: str,
) -> Check:
    """A KMS request a service makes as the caller: the caller's IAM and the key's policy
    both decide, with kms:ViaService and the encryption context set
    (https://docs.aws.amazon.com/kms/latest/developerguide/conditions-kms.html#conditions-kms-via-service,
    https://docs.aws.amazon.com/kms/latest/developerguide/conditions-kms.html#conditions-kms-encryption-context)."""
    key = state.key(call.region, key_id)
    context = key_context(call, action, key, encryption_context, service)
    return Check(
        action, key.arn, context, key.policy,
        resource_required=True, on_behalf_of=on_behalf_of, via=service,
    )  # fmt: skip


# The operations that encrypt or decrypt, which carry kms:EncryptionAlgorithm
# (https://docs.aws.amazon.com/kms/latest/developerguide/conditions-kms.html#conditions-kms-encryption-algorithm).
CRYPTOGRAPHIC = frozenset({
    "kms:Encrypt", "kms:Decrypt", "kms:ReEncryptFrom", "kms:ReEncryptTo", "kms:GenerateDataKey",
    "kms:GenerateDataKeyWithoutPlaintext", "kms:GenerateDataKeyPair",
    "kms:GenerateDataKeyPairWithoutPlaintext",
})  # fmt: skip


def key_context(
    call: Call,
    action: str,
    key: Key,
    encryption_context: Mapping[str, str],
    service: str = "",
    requested_as: str = "",
) -> Context:
    """The condition keys of a use of a KMS key
    (https://docs.aws.amazon.com/kms/latest/developerguide/conditions-kms.html): kms:ViaService
    only when `service` makes the call for the caller, kms:RequestAlias only when the request
    named the key by an alias (`requested_as`)."""
    context: Context = resource_keys(call, key.tags)
    if service:
        context["kms:ViaService"] = f"{service}.{call.region}.amazonaws.com"
    context["kms:CallerAccount"] = call.account
    if key.aliases:
        context["kms:ResourceAliases"] = list(key.aliases)
    if requested_as.startswith("alias/"):
        context["kms:RequestAlias"] = requested_as
    context.update({
        "kms:KeySpec": key.spec,
        "kms:KeyUsage": key.usage,
        "kms:KeyOrigin": key.origin,
        "kms:MultiRegion": "true" if key.multi_region else "false",
    })  # fmt: skip
    if action in CRYPTOGRAPHIC:
        # A symmetric key encrypts with SYMMETRIC_DEFAULT, the one algorithm it supports
        # (conditions-kms.html#conditions-kms-encryption-algorithm).
        context["kms:EncryptionAlgorithm"] = (
            str(call.params.get("EncryptionAlgorithm") or "SYMMETRIC_DEFAULT")
            if call.service == "kms"
            else "SYMMETRIC_DEFAULT"
        )
    for name, value in encryption_context.items():
        context[f"kms:EncryptionContext:{name}"] = value
    if encryption_context:
        # "the keys in the encryption context", one value per key
        # (conditions-kms.html#conditions-kms-encryption-context-keys).
        context["kms:EncryptionContextKeys"] = sorted(encryption_context)
    return context


# --- DynamoDB ------------------------------------------------------------------------------


def table_arn(call: Call, table: str) -> str:
    if table.startswith("arn:"):
        return table
    return f"arn:aws:dynamodb:{call.region}:{call.account}:table/{table}"


def table_name(table: str) -> str:
    return table.split(":table/", 1)[1].split("/", 1)[0] if table.startswith("arn:") else table


# A transaction is authorized as the action of each item, with dynamodb:EnclosingOperation
# naming the transaction
# (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/transaction-apis-iam.html).
TRANSACTION_ITEMS = {
    "Put": "dynamodb:PutItem",
    "Update": "dynamodb:UpdateItem",
    "Delete": "dynamodb:DeleteItem",
    "ConditionCheck": "dynamodb:ConditionCheckItem",
    "Get": "dynamodb:GetItem",
}
DATA_PLANE = frozenset({
    "GetItem", "PutItem", "UpdateItem", "DeleteItem", "Query", "Scan", "BatchGetItem",
    "BatchWriteItem", "TransactWriteItems", "TransactGetItems",
})  # fmt: skip
# Request parameters that are condition keys of their own, as the request sets them
# (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/specifying-conditions.html).
PARAMETER_KEYS = {
    "ReturnValues": "dynamodb:ReturnValues",
    "ReturnConsumedCapacity": "dynamodb:ReturnConsumedCapacity",
    "Select": "dynamodb:Select",
}


@dataclass
class _Touch:
    """One table (or index) a DynamoDB request touches, with the action it needs there."""

    action: str
    table: str
    body: Mapping[str, Any]  # the part of the request about it
    enclosing: str = ""
    leading_keys: list[str] = field(default_factory=list)


def _scalar(value: Any) -> str | None:
    """An attribute value's text, for dynamodb:LeadingKeys: S, N or B."""
    if isinstance(value, Mapping) and len(value) == 1:
        ((kind, text),) = value.items()
        if kind in ("S", "N", "B") and isinstance(text, str):
            return text
    return None


def _partition_values_of_query(body: Mapping[str, Any], partition: str) -> list[str]:
    """The partition key value a Query's KeyConditionExpression fixes (DynamoDB requires an
    equality on it: https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Query.KeyConditionExpressions.html)."""
    expression = str(body.get("KeyConditionExpression", ""))
    names = body.get("ExpressionAttributeNames", {}) or {}
    values = body.get("ExpressionAttributeValues", {}) or {}
    for clause in re.split(r"\s+AND\s+", expression, flags=re.IGNORECASE):
        found = re.fullmatch(r"\s*\(?\s*([#\w.]+)\s*=\s*(:\w+)\s*\)?\s*", clause)
        if found and names.get(found.group(1), found.group(1)) == partition:
            value = _scalar(values.get(found.group(2)))
            return [value] if value is not None else []
    return []


def _leading_keys(touch: _Touch, operation: str, partition: str | None) -> list[str]:
    """dynamodb:LeadingKeys: the partition key values the request touches
    (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/specifying-conditions.html)."""
    if partition is None:
        return []
    if operation == "Query":
        return _partition_values_of_query(touch.body, partition)
    items = touch.body.get("Keys") or [
        touch.body.get("Key") or touch.body.get("Item") or {}
    ]  # fmt: skip
    found = [_scalar(item.get(partition)) for item in items if isinstance(item, Mapping)]
    return sorted({value for value in found if value is not None})


def _touched(call: Call) -> list[_Touch]:
    p, op = call.params, call.operation
    if op in ("TransactWriteItems", "TransactGetItems"):
        touched = []
        for item in p.get("TransactItems", []):
            ((kind, body),) = item.items()
            touched.append(_Touch(TRANSACTION_ITEMS[kind], body["TableName"], body, op))
        return touched
    if op == "BatchGetItem":
        return [_Touch(f"dynamodb:{op}", t, body) for t, body in p.get("RequestItems", {}).items()]
    if op == "BatchWriteItem":
        touched = []
        for table, requests in p.get("RequestItems", {}).items():
            keys = [
                (r.get("PutRequest") or {}).get("Item") or (r.get("DeleteRequest") or {}).get("Key")
                for r in requests
            ]
            touched.append(_Touch(f"dynamodb:{op}", table, {"Keys": [k for k in keys if k]}))
        return touched
    if "TableName" in p:
        return [_Touch(f"dynamodb:{op}", p["TableName"], p)]
    return []


def dynamodb(call: Call, state: State) -> list[Check]:
    p, op = call.params, call.operation
    touched = _touched(call)
    if not touched:
        return [Check(f"dynamodb:{op}", "*")]
    checks = []
    for touch in touched:
        resource = table_arn(call, touch.table)
        name = table_name(touch.table)
        context = resource_keys(call, state.tags(call.region, table_arn(call, name)))
        if op in ("Query", "Scan") and p.get("IndexName"):
            resource = f"{resource}/index/{p['IndexName']}"
        if touch.enclosing and touch.action != "dynamodb:ConditionCheckItem":
            # The reference lists the key for the items that read or write, not for a
            # condition check (list_amazondynamodb.html).
            context["dynamodb:EnclosingOperation"] = touch.enclosing
        for parameter, key in PARAMETER_KEYS.items():
            if parameter in touch.body:
                context[key] = str(touch.body[parameter])
        if op in DATA_PLANE and op != "Scan":
            leading = _leading_keys(touch, op, state.table_partition_key(call.region, name))
            if leading:
                context["dynamodb:LeadingKeys"] = leading
        checks.append(Check(touch.action, resource, context))
    if op in DATA_PLANE:
        # DynamoDB decrypts a table's key as the principal that reads or writes the table,
        # with the table name and the account as encryption context
        # (https://docs.aws.amazon.com/kms/latest/developerguide/services-dynamodb.html).
        for table in dict.fromkeys(table_name(t.table) for t in touched):
            table_key = state.table_key(call.region, table)
            if table_key:
                encryption = {
                    "aws:dynamodb:tableName": table,
                    "aws:dynamodb:subscriberId": call.account,
                }
                on_behalf_of = f"dynamodb:{op}"
                checks.append(
                    key_use(
                        state, call, "kms:Decrypt", table_key, "dynamodb", encryption, on_behalf_of
                    )
                )
    return checks


# --- SSM -----------------------------------------------------------------------------------


def parameter_name(name: str) -> str:
    """A parameter's name from the name or ARN a request gives, without a `:version` or
    `:label` selector (https://docs.aws.amazon.com/systems-manager/latest/userguide/sysman-paramstore-versions.html).
    A hierarchical name's ARN drops its leading slash
    (https://docs.aws.amazon.com/systems-manager/latest/userguide/sysman-paramstore-su-create.html)."""
    if name.startswith("arn:"):
        resource = name.split(":", 5)[5].removeprefix("parameter/")
        resource = resource.split(":", 1)[0]
        return f"/{resource}" if "/" in resource else resource
    return name.split(":", 1)[0]


def parameter_arn(call: Call, name: str) -> str:
    name = parameter_name(name)
    return f"arn:aws:ssm:{call.region}:{call.account}:parameter/{name.lstrip('/')}"


def _decrypts(
    call: Call, state: State, names: list[str], operation: str
) -> list[Check]:  # fmt: skip
    """SSM decrypts each SecureString it returns as the caller, through SSM, with the
    parameter's ARN as encryption context
    (https://docs.aws.amazon.com/kms/latest/developerguide/services-parameter-store.html);
    "any principal that retrieves the decrypted value must have kms:Decrypt permission on that
    key, whichever Parameter Store operation they call"
    (https://docs.aws.amazon.com/systems-manager/latest/userguide/ps-restrict-decryption.html)."""
    checks = []
    for name in dict.fromkeys(parameter_name(n) for n in names):
        key = state.parameter_key(call.region, name)
        if key:
            arn = parameter_arn(call, name)
            context = {"PARAMETER_ARN": arn}
            checks.append(key_use(state, call, "kms:Decrypt", key, "ssm", context, operation))
    return checks


def ssm(call: Call, state: State) -> list[Check]:
    p, op = call.params, call.operation
    if op in ("GetParameter", "GetParameterHistory", "PutParameter", "DeleteParameter"):
        names = [p["Name"]]
    elif op in ("GetParameters", "DeleteParameters"):
        names = list(p.get("Names", []))
    elif op == "GetParametersByPath":
        recursive = bool(p.get("Recursive"))
        arn = parameter_arn(call, p["Path"])
        context = resource_keys(call, state.tags(call.region, arn))
        # ssm:Recursive (https://docs.aws.amazon.com/service-authorization/latest/reference/list_awssystemsmanager.html).
        context["ssm:Recursive"] = "true" if recursive else "false"
        checks = [Check(f"ssm:{op}", arn, context)]
        if p.get("WithDecryption"):
            found = state.parameters_under(call.region, p["Path"], recursive)
            checks += _decrypts(call, state, found, f"ssm:{op}")
        return checks
    else:
        return [Check(f"ssm:{op}", "*")]
    checks = []
    for name in names:
        arn = parameter_arn(call, name)
        context = resource_keys(call, state.tags(call.region, arn))
        if op == "PutParameter":
            context["ssm:Overwrite"] = "true" if p.get("Overwrite") else "false"
            tags = {t["Key"]: t["Value"] for t in p.get("Tags", [])}
            if tags:
                context.update({f"aws:RequestTag/{k}": v for k, v in tags.items()})
                context["aws:TagKeys"] = sorted(tags)
        checks.append(Check(f"ssm:{op}", arn, context))
    if op in ("GetParameter", "GetParameters", "GetParameterHistory") and p.get("WithDecryption"):
        checks += _decrypts(call, state, names, f"ssm:{op}")
    return checks


# --- CloudWatch Logs -----------------------------------------------------------------------


def log_group_arn(call: Call, group: str) -> str:
    return f"arn:aws:logs:{call.region}:{call.account}:log-group:{group}"


def logs(call: Call, state: State) -> list[Check]:
    p, op = call.params, call.operation
    group = p.get("logGroupName")
    if not group:
        return [Check(f"logs:{op}", "*")]
    resource = log_group_arn(call, group)
    context = resource_keys(call, state.tags(call.region, resource))
    if "logStreamName" in p:
        resource += f":log-stream:{p['logStreamName']}"
    checks = [Check(f"logs:{op}", resource, context)]
    key = state.log_group_key(call.region, group) if op == "PutLogEvents" else None
    if key:
        # "CloudWatch Logs now supports kms:ViaService which allows logs to make AWS KMS calls
        # on your behalf" (https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/encrypt-log-data-kms.html);
        # the group's ARN is the encryption context.
        encryption = {"aws:logs:arn": log_group_arn(call, group)}
        checks.append(
            key_use(
                state, call, "kms:GenerateDataKey", key, "logs", encryption, "logs:PutLogEvents"
            )
        )
    return checks


# --- KMS, called directly ------------------------------------------------------------------


def kms(call: Call, state: State) -> list[Check]:
    """A direct call needs the key policy too, and carries no kms:ViaService
    (https://docs.aws.amazon.com/kms/latest/developerguide/key-policies.html)."""
    key_id = call.params.get("KeyId")
    if not key_id:
        raise NotModelled(f"kms:{call.operation} without a KeyId")
    try:
        key = state.key(call.region, key_id)
    except MissingKey:
        # KMS answers NotFoundException for a key or alias that does not exist, before any
        # policy is read (https://docs.aws.amazon.com/kms/latest/APIReference/API_DescribeKey.html#API_DescribeKey_Errors):
        # there is no key whose policy could decide. moto answers the same.
        return []
    encryption = call.params.get("EncryptionContext") or {}
    action = f"kms:{call.operation}"
    context = key_context(call, action, key, encryption, requested_as=str(key_id))
    return [Check(action, key.arn, context, key.policy, resource_required=True)]


# --- S3 ------------------------------------------------------------------------------------


def object_arn(bucket: str, key: str) -> str:
    return f"arn:aws:s3:::{bucket}/{key}"


# Request headers that are condition keys of their own, under the header's name
# (https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazons3.html);
# the reference says which action carries which.
HEADER_KEYS = (
    "x-amz-acl", "x-amz-grant-full-control", "x-amz-grant-read", "x-amz-grant-read-acp",
    "x-amz-grant-write", "x-amz-grant-write-acp", "x-amz-server-side-encryption",
    "x-amz-server-side-encryption-aws-kms-key-id",
    "x-amz-server-side-encryption-customer-algorithm", "x-amz-storage-class",
    "x-amz-website-redirect-location", "x-amz-copy-source", "x-amz-metadata-directive",
    "if-match", "if-none-match",
)  # fmt: skip
ACL_HEADERS = ("x-amz-acl", *(h for h in HEADER_KEYS if h.startswith("x-amz-grant-")))
LIST_KEYS = {"prefix": "s3:prefix", "delimiter": "s3:delimiter", "max-keys": "s3:max-keys"}


def _tagging(header: str) -> dict[str, str]:
    # x-amz-tagging is URL-encoded query parameters: Key1=Value1&Key2=Value2
    # (https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutObject.html#AmazonS3-PutObject-request-header-Tagging).
    from urllib.parse import parse_qsl

    return dict(parse_qsl(header, keep_blank_values=True))


def _object_keys(call: Call, state: State, bucket: str, key: str, op: str) -> Context:
    headers: Mapping[str, str] = call.params.get("Headers", {})
    context: Context = {"aws:ResourceAccount": call.account, "s3:ResourceAccount": call.account}
    for header in HEADER_KEYS:
        if header in headers:
            context[f"s3:{header}"] = headers[header]
    if op == "PutObject" and "x-amz-tagging" in headers:
        requested = _tagging(headers["x-amz-tagging"])
        context.update({f"s3:RequestObjectTag/{k}": v for k, v in requested.items()})
        context["s3:RequestObjectTagKeys"] = sorted(requested)
    if op == "GetObject" and state.object_exists(bucket, key):
        # The tags of the object read (s3:ExistingObjectTag, which the reference lists for
        # reads of an object and its ACL or tags, not for PutObject or DeleteObject).
        existing = state.object_tags(bucket, key)
        context.update({f"s3:ExistingObjectTag/{k}": v for k, v in existing.items()})
    return context


def s3(call: Call, state: State) -> list[Check]:
    """Object calls, with the bucket policy and the key use SSE-KMS makes as the requester
    (https://docs.aws.amazon.com/AmazonS3/latest/userguide/UsingKMSEncryption.html: uploads
    need kms:GenerateDataKey, downloads kms:Decrypt)."""
    op, bucket, key = call.operation, call.params["Bucket"], call.params.get("Key", "")
    headers: Mapping[str, str] = call.params.get("Headers", {})
    policy = state.bucket_policy(bucket)
    bucket_arn = f"arn:aws:s3:::{bucket}"
    if op == "ListBucket":
        query: Mapping[str, str] = call.params.get("Query", {})
        context: Context = {"aws:ResourceAccount": call.account, "s3:ResourceAccount": call.account}
        context.update({k: query[q] for q, k in LIST_KEYS.items() if q in query})
        return [Check("s3:ListBucket", bucket_arn, context, policy)]
    if op == "HeadBucket":
        # HeadBucket is authorized as s3:ListBucket
        # (https://docs.aws.amazon.com/AmazonS3/latest/API/API_HeadBucket.html).
        owner: Context = {"aws:ResourceAccount": call.account, "s3:ResourceAccount": call.account}
        return [Check("s3:ListBucket", bucket_arn, owner, policy)]
    if op not in ("PutObject", "GetObject", "DeleteObject", "HeadObject"):
        raise NotModelled(f"s3 {op}")
    # HeadObject is authorized as s3:GetObject, and reads no data, so no key use
    # (https://docs.aws.amazon.com/AmazonS3/latest/API/API_HeadObject.html).
    action = "GetObject" if op == "HeadObject" else op
    resource = object_arn(bucket, key)
    context = _object_keys(call, state, bucket, key, action)
    checks = [Check(f"s3:{action}", resource, context, policy)]
    if op == "PutObject":
        # "To use this operation ... you must have the s3:PutObject permission", and also
        # s3:PutObjectAcl to set an ACL with it and s3:PutObjectTagging to tag it
        # (https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutObject.html, "Permissions").
        acl = {k: v for k, v in context.items() if k.removeprefix("s3:") in ACL_HEADERS}
        if acl:
            checks.append(Check("s3:PutObjectAcl", resource, {**acl}, policy,
                                why="PutObject with an ACL needs it"))  # fmt: skip
        if "x-amz-tagging" in headers:
            tagging = {k: v for k, v in context.items() if "RequestObjectTag" in k}
            checks.append(Check("s3:PutObjectTagging", resource, tagging, policy,
                                why="PutObject with tags needs it"))  # fmt: skip
    if op in ("GetObject", "HeadObject") and not state.object_exists(bucket, key):
        # "If the object that you request doesn't exist, the error that Amazon S3 returns
        # depends on whether you also have the s3:ListBucket permission": 404 with it, 403
        # without (https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObject.html).
        why = "S3 answers 403, not 404, for a missing key without it"
        account: Context = {"aws:ResourceAccount": call.account}
        checks.append(Check("s3:ListBucket", bucket_arn, account, policy, why=why))
        return checks
    default_key, bucket_keys = state.bucket_key(bucket)
    if op == "PutObject":
        kms_key = headers.get("x-amz-server-side-encryption-aws-kms-key-id") or default_key
        kms_action = "kms:GenerateDataKey"
    elif op == "GetObject":
        kms_key, kms_action = state.object_key(bucket, key), "kms:Decrypt"
    else:
        kms_key, kms_action = None, ""
    if kms_key:
        # With S3 Bucket Keys the context is the bucket's ARN, else the object's
        # (https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucket-key.html).
        arn = bucket_arn if bucket_keys else resource
        checks.append(
            key_use(state, call, kms_action, kms_key, "s3", {"aws:s3:arn": arn}, f"s3:{op}")
        )
    return checks


# --- CloudFormation ------------------------------------------------------------------------

# The operations on one stack, authorized on the stack's ARN
# (https://docs.aws.amazon.com/service-authorization/latest/reference/list_awscloudformation.html);
# the rest (ListStacks, DescribeStackDriftDetectionStatus, ValidateTemplate) take no resource.
STACK_OPERATIONS = frozenset({
    "CreateChangeSet", "DescribeChangeSet", "ExecuteChangeSet", "DeleteChangeSet",
    "ListChangeSets", "CreateStack", "UpdateStack", "DeleteStack", "DescribeStacks",
    "DescribeStackEvents", "DescribeStackResource", "DescribeStackResources",
    "ListStackResources", "GetTemplate", "GetTemplateSummary", "DetectStackDrift",
    "DetectStackResourceDrift", "DescribeStackResourceDrifts", "ContinueUpdateRollback",
    "CancelUpdateStack", "RollbackStack", "UpdateTerminationProtection", "GetStackPolicy",
    "SetStackPolicy", "SignalResource",
})  # fmt: skip
# The operations that act with the stack's service role, when one is given: passing it needs
# iam:PassRole to CloudFormation
# (https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/using-iam-servicerole.html).
ROLE_OPERATIONS = frozenset({"CreateChangeSet", "CreateStack", "UpdateStack", "DeleteStack"})


def _members(params: Mapping[str, Any], name: str) -> list[str]:
    """A query-protocol list parameter: Name.member.1, Name.member.2, ..."""
    found = [(k, v) for k, v in params.items() if k.startswith(f"{name}.member.")]
    return [str(v) for _, v in sorted(found, key=lambda kv: int(kv[0].split(".")[2]))]


def _stack_name(params: Mapping[str, Any]) -> str:
    name = str(params.get("StackName", ""))
    change_set = str(params.get("ChangeSetName", ""))
    if not name and change_set.startswith("arn:"):
        # A change set's ARN (arn:...:changeSet/<name>/<id>) stands for its stack, which the
        # state looks up: the call is authorized on that stack
        # (https://docs.aws.amazon.com/service-authorization/latest/reference/list_awscloudformation.html).
        return change_set
    return name


def cloudformation(call: Call, state: State) -> list[Check]:
    p, op = call.params, call.operation
    name = _stack_name(p)
    if op not in STACK_OPERATIONS or (not name and op in ("DescribeStacks", "GetTemplateSummary")):
        # No stack named: the call is authorized on "*" (DescribeStacks lists every stack).
        return [Check(f"cloudformation:{op}", "*")]
    if not name:
        raise NotModelled(f"cloudformation:{op} without a StackName")
    stack = (
        name if name.startswith("arn:") and ":changeSet/" not in name
        else state.stack_arn(call.region, name)
    )  # fmt: skip
    if stack is None and ":changeSet/" in name:
        return []  # no such change set: CloudFormation answers ChangeSetNotFound itself
    # A stack not made yet has no id: its request names the stack and a placeholder id, which
    # a policy's `stack/<name>/*` covers as it covers the id to come.
    new = f"arn:aws:cloudformation:{call.region}:{call.account}:stack/{name}/new"
    resource = stack or new
    context: Context = {}
    change_set = str(p.get("ChangeSetName", ""))
    if change_set:
        context["cloudformation:ChangeSetName"] = change_set.rsplit("/", 2)[-2] if (
            change_set.startswith("arn:")) else change_set  # fmt: skip
    role = str(p.get("RoleARN", ""))
    if role and op in ROLE_OPERATIONS:
        context["cloudformation:RoleArn"] = role
    if "TemplateURL" in p:
        context["cloudformation:TemplateUrl"] = str(p["TemplateURL"])
    types = _members(p, "ResourceTypes")
    if types:
        context["cloudformation:ResourceTypes"] = types
    imports = [str(v) for k, v in p.items() if k.startswith("ResourcesToImport.member.")
               and k.endswith(".ResourceType")]  # fmt: skip
    if imports:
        context["cloudformation:ImportResourceTypes"] = sorted(set(imports))
    tags = {
        str(p[k]): str(p.get(k.replace(".Key", ".Value"), ""))
        for k in p
        if k.startswith("Tags.member.") and k.endswith(".Key")
    }
    if tags and op in ("CreateChangeSet", "CreateStack", "UpdateStack"):
        context.update({f"aws:RequestTag/{k}": v for k, v in tags.items()})
        context["aws:TagKeys"] = sorted(tags)
    checks = [Check(f"cloudformation:{op}", resource, context)]
    if role and op in ROLE_OPERATIONS:
        passed: Context = {"iam:PassedToService": "cloudformation.amazonaws.com"}
        checks.append(Check("iam:PassRole", role, passed, why="the stack's service role is passed"))
    return checks


# --- Cognito user pools --------------------------------------------------------------------


def cognito_idp(call: Call, state: State) -> list[Check]:
    """The administrative user pool calls; a pool's ARN for the calls that name one
    (https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazoncognitouserpools.html)."""
    pool = call.params.get("UserPoolId")
    if not pool:
        return [Check(f"cognito-idp:{call.operation}", "*")]
    arn = f"arn:aws:cognito-idp:{call.region}:{call.account}:userpool/{pool}"
    return [Check(f"cognito-idp:{call.operation}", arn)]


# --- IAM -----------------------------------------------------------------------------------

# The reads of a role and its policies, authorized on the role's or the policy's ARN
# (https://docs.aws.amazon.com/service-authorization/latest/reference/list_awsidentityandaccessmanagementiam.html).
IAM_READS = frozenset({
    "GetRole", "ListAttachedRolePolicies", "ListRolePolicies", "GetRolePolicy", "GetPolicy",
    "GetPolicyVersion", "ListPolicyVersions",
})  # fmt: skip


def iam(call: Call, state: State) -> list[Check]:
    if call.operation not in IAM_READS:
        raise NotModelled(f"iam:{call.operation}")
    policy = call.params.get("PolicyArn")
    if policy:
        return [Check(f"iam:{call.operation}", str(policy))]
    # A role named without its path: the project's roles have none.
    role = f"arn:aws:iam::{call.account}:role/{call.params.get('RoleName', '')}"
    return [Check(f"iam:{call.operation}", role)]


# --- STS -----------------------------------------------------------------------------------


def sts(call: Call, state: State) -> list[Check]:
    if call.operation == "GetCallerIdentity":
        # "No permissions are required to perform this operation"
        # (https://docs.aws.amazon.com/STS/latest/APIReference/API_GetCallerIdentity.html).
        return []
    raise NotModelled(f"sts:{call.operation}")


def lambda_(call: Call, state: State) -> list[Check]:
    """GetFunctionConfiguration (sam logs reads a function's log group from it) on the
    function's ARN, qualified when the call names a version or alias
    (https://docs.aws.amazon.com/lambda/latest/dg/lambda-api-permissions-ref.html)."""
    if call.operation != "GetFunctionConfiguration":
        raise NotModelled(f"lambda:{call.operation}")
    name = str(call.params["FunctionName"])
    arn = name if name.startswith("arn:") else (
        f"arn:aws:lambda:{call.region}:{call.account}:function:{name}"
    )  # fmt: skip
    qualifier = call.params.get("Qualifier")
    return [Check("lambda:GetFunctionConfiguration", f"{arn}:{qualifier}" if qualifier else arn)]


def backup(call: Call, state: State) -> list[Check]:
    """DescribeBackupVault (the import after a destroy looks for the retained vault) on the
    vault's ARN (https://docs.aws.amazon.com/service-authorization/latest/reference/list_awsbackup.html)."""
    if call.operation != "DescribeBackupVault":
        raise NotModelled(f"backup:{call.operation}")
    name = call.params["BackupVaultName"]
    return [Check("backup:DescribeBackupVault",
                  f"arn:aws:backup:{call.region}:{call.account}:backup-vault:{name}")]  # fmt: skip


SERVICES = {
    "backup": backup,
    "dynamodb": dynamodb, "ssm": ssm, "logs": logs, "kms": kms, "s3": s3, "sts": sts,
    "cloudformation": cloudformation, "cognito-idp": cognito_idp, "iam": iam, "lambda": lambda_,
}  # fmt: skip


def checks(call: Call, state: State) -> list[Check]:
    rule = SERVICES.get(call.service)
    if rule is None:
        raise NotModelled(f"{call.service}:{call.operation}")
    return rule(call, state)
