"""What an API call needs to be allowed: the actions, resources and condition keys AWS
authorizes it with, and the calls to KMS its service makes on the caller's behalf.

Each rule is modelled from the AWS page cited beside it. A call no rule here covers raises
NotModelled, and the emulator refuses it for a role: better a loud refusal than a silent
allow that AWS might not give.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from offline.policy import Policy

Context = dict[str, str | list[str]]
# Requests reach the emulator over loopback only; it takes them as sent over TLS, as every
# AWS SDK sends them. (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html#condition-keys-securetransport)
TRANSPORT: Context = {"aws:SecureTransport": "true"}


class NotModelled(Exception):
    """The emulator does not know how AWS authorizes this call."""


@dataclass(frozen=True)
class Call:
    """One request, as the emulator parsed it."""

    service: str  # the signing name: dynamodb, ssm, logs, kms, s3, sts, ...
    operation: str  # GetItem, PutObject, ...
    region: str
    account: str
    params: Mapping[str, Any]  # the JSON body, the form, or (S3) {"Bucket", "Key", headers}


@dataclass(frozen=True)
class Check:
    """One authorization decision a call needs."""

    action: str
    resource: str
    context: Context = field(default_factory=dict)
    resource_policy: Policy | None = None
    resource_required: bool = False  # a KMS key policy: it must allow, whatever IAM says
    on_behalf_of: str = ""  # the call a service makes this KMS request for, e.g. s3:PutObject


class State:
    """The emulator's own view of the resources a rule needs (their keys and policies); the
    enforcement module gives it the moto backends, tests give it plain data."""

    def table_key(self, region: str, table: str) -> str | None:
        raise NotImplementedError

    def parameter_key(self, region: str, name: str) -> str | None:
        raise NotImplementedError

    def log_group_key(self, region: str, group: str) -> str | None:
        raise NotImplementedError

    def bucket_policy(self, bucket: str) -> Policy | None:
        raise NotImplementedError

    def bucket_key(self, bucket: str) -> tuple[str | None, bool]:
        """(the bucket's default SSE-KMS key, whether S3 Bucket Keys are on)."""
        raise NotImplementedError

    def object_key(self, bucket: str, key: str) -> str | None:
        raise NotImplementedError

    def key(self, region: str, key_id: str) -> tuple[str, Policy, list[str]]:
        """(the key's ARN, its key policy, its aliases) for any form of key id."""
        raise NotImplementedError


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
    arn, policy, aliases = state.key(call.region, key_id)
    context = key_context(call, aliases, encryption_context, service)
    return Check(action, arn, context, policy, resource_required=True, on_behalf_of=on_behalf_of)


def key_context(
    call: Call, aliases: list[str], encryption_context: Mapping[str, str], service: str = ""
) -> Context:
    """The condition keys of a use of a KMS key; kms:ViaService only when `service` makes
    the call for the caller."""
    context: Context = dict(TRANSPORT)
    if service:
        context["kms:ViaService"] = f"{service}.{call.region}.amazonaws.com"
    context["kms:CallerAccount"] = call.account
    context["kms:ResourceAliases"] = aliases
    for name, value in encryption_context.items():
        context[f"kms:EncryptionContext:{name}"] = value
    return context


# --- DynamoDB ------------------------------------------------------------------------------


def table_arn(call: Call, table: str) -> str:
    if table.startswith("arn:"):
        return table
    return f"arn:aws:dynamodb:{call.region}:{call.account}:table/{table}"


def table_name(table: str) -> str:
    return table.split(":table/", 1)[1].split("/", 1)[0] if table.startswith("arn:") else table


# A transaction is authorized as the action of each item
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


def dynamodb(call: Call, state: State) -> list[Check]:
    p, op = call.params, call.operation
    touched: list[tuple[str, str]] = []  # (action, table) in request order
    if op in ("TransactWriteItems", "TransactGetItems"):
        for item in p.get("TransactItems", []):
            ((kind, body),) = item.items()
            touched.append((TRANSACTION_ITEMS[kind], body["TableName"]))
    elif op in ("BatchGetItem", "BatchWriteItem"):
        touched += [(f"dynamodb:{op}", table) for table in p.get("RequestItems", {})]
    elif "TableName" in p:
        touched.append((f"dynamodb:{op}", p["TableName"]))
    else:
        return [Check(f"dynamodb:{op}", "*", dict(TRANSPORT))]
    checks = []
    for action, table in touched:
        resource = table_arn(call, table)
        if op in ("Query", "Scan") and p.get("IndexName"):
            resource = f"{resource}/index/{p['IndexName']}"
        checks.append(Check(action, resource, dict(TRANSPORT)))
    if op in DATA_PLANE:
        # DynamoDB decrypts a table's key as the principal that reads or writes the table,
        # with the table name and the account as encryption context
        # (https://docs.aws.amazon.com/kms/latest/developerguide/services-dynamodb.html).
        for table in dict.fromkeys(table_name(t) for _, t in touched):
            key = state.table_key(call.region, table)
            if key:
                context = {
                    "aws:dynamodb:tableName": table,
                    "aws:dynamodb:subscriberId": call.account,
                }
                checks.append(
                    key_use(state, call, "kms:Decrypt", key, "dynamodb", context, f"dynamodb:{op}")
                )
    return checks


# --- SSM -----------------------------------------------------------------------------------


def parameter_arn(call: Call, name: str) -> str:
    if name.startswith("arn:"):
        return name.rsplit(":", 1)[0] if name.count(":") > 5 else name
    name = name.split(":", 1)[0]  # a version or label selector is not part of the ARN
    return f"arn:aws:ssm:{call.region}:{call.account}:parameter/{name.lstrip('/')}"


def ssm(call: Call, state: State) -> list[Check]:
    p, op = call.params, call.operation
    if op in ("GetParameter", "GetParameterHistory", "PutParameter", "DeleteParameter"):
        names = [p["Name"]]
    elif op in ("GetParameters", "DeleteParameters"):
        names = list(p.get("Names", []))
    elif op == "GetParametersByPath":
        return [Check("ssm:GetParametersByPath", parameter_arn(call, p["Path"]), dict(TRANSPORT))]
    else:
        return [Check(f"ssm:{op}", "*", dict(TRANSPORT))]
    checks = [Check(f"ssm:{op}", parameter_arn(call, name), dict(TRANSPORT)) for name in names]
    if op in ("GetParameter", "GetParameters", "GetParameterHistory") and p.get("WithDecryption"):
        # SSM decrypts a SecureString as the caller, through SSM, with the parameter's ARN
        # as encryption context
        # (https://docs.aws.amazon.com/kms/latest/developerguide/services-parameter-store.html).
        for name in names:
            key = state.parameter_key(call.region, name.split(":", 1)[0])
            if key:
                arn = parameter_arn(call, name)
                checks.append(
                    key_use(
                        state, call, "kms:Decrypt", key, "ssm", {"PARAMETER_ARN": arn}, f"ssm:{op}"
                    )
                )
    return checks


# --- CloudWatch Logs -----------------------------------------------------------------------


def log_group_arn(call: Call, group: str) -> str:
    return f"arn:aws:logs:{call.region}:{call.account}:log-group:{group}"


def logs(call: Call, state: State) -> list[Check]:
    p, op = call.params, call.operation
    group = p.get("logGroupName")
    if not group:
        return [Check(f"logs:{op}", "*", dict(TRANSPORT))]
    resource = log_group_arn(call, group)
    if "logStreamName" in p:
        resource += f":log-stream:{p['logStreamName']}"
    checks = [Check(f"logs:{op}", resource, dict(TRANSPORT))]
    key = state.log_group_key(call.region, group) if op == "PutLogEvents" else None
    if key:
        # "CloudWatch Logs now supports kms:ViaService which allows logs to make AWS KMS calls
        # on your behalf" (https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/encrypt-log-data-kms.html);
        # the group's ARN is the encryption context.
        context = {"aws:logs:arn": log_group_arn(call, group)}
        checks.append(
            key_use(state, call, "kms:GenerateDataKey", key, "logs", context, "logs:PutLogEvents")
        )
    return checks


# --- KMS, called directly ------------------------------------------------------------------


def kms(call: Call, state: State) -> list[Check]:
    """A direct call needs the key policy too, and carries no kms:ViaService
    (https://docs.aws.amazon.com/kms/latest/developerguide/key-policies.html)."""
    key_id = call.params.get("KeyId")
    if not key_id:
        raise NotModelled(f"kms:{call.operation} without a KeyId")
    arn, policy, aliases = state.key(call.region, key_id)
    context = key_context(call, aliases, call.params.get("EncryptionContext") or {})
    return [Check(f"kms:{call.operation}", arn, context, policy, resource_required=True)]


# --- S3 ------------------------------------------------------------------------------------


def object_arn(bucket: str, key: str) -> str:
    return f"arn:aws:s3:::{bucket}/{key}"


def s3(call: Call, state: State) -> list[Check]:
    """Object calls, with the bucket policy and the key use SSE-KMS makes as the requester
    (https://docs.aws.amazon.com/AmazonS3/latest/userguide/UsingKMSEncryption.html: uploads
    need kms:GenerateDataKey, downloads kms:Decrypt)."""
    op, bucket, key = call.operation, call.params["Bucket"], call.params.get("Key", "")
    policy = state.bucket_policy(bucket)
    if op in ("PutObject", "GetObject", "DeleteObject", "HeadObject"):
        resource = object_arn(bucket, key)
    elif op == "ListBucket":
        resource = f"arn:aws:s3:::{bucket}"
    else:
        raise NotModelled(f"s3 {op}")
    # HeadObject is authorized as s3:GetObject, and reads no data, so no key use
    # (https://docs.aws.amazon.com/AmazonS3/latest/API/API_HeadObject.html).
    action_name = "GetObject" if op == "HeadObject" else op
    checks = [Check(f"s3:{action_name}", resource, dict(TRANSPORT), policy)]
    default_key, bucket_keys = state.bucket_key(bucket)
    if op == "PutObject":
        kms_key, action = call.params.get("SSEKMSKeyId") or default_key, "kms:GenerateDataKey"
    elif op == "GetObject":
        kms_key, action = state.object_key(bucket, key), "kms:Decrypt"
    else:
        kms_key, action = None, ""
    if kms_key:
        # With S3 Bucket Keys the context is the bucket's ARN, else the object's
        # (https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucket-key.html).
        arn = f"arn:aws:s3:::{bucket}" if bucket_keys else object_arn(bucket, key)
        checks.append(key_use(state, call, action, kms_key, "s3", {"aws:s3:arn": arn}, f"s3:{op}"))
    return checks


# --- STS -----------------------------------------------------------------------------------


def sts(call: Call, state: State) -> list[Check]:
    if call.operation == "GetCallerIdentity":
        # "No permissions are required to perform this operation"
        # (https://docs.aws.amazon.com/STS/latest/APIReference/API_GetCallerIdentity.html).
        return []
    raise NotModelled(f"sts:{call.operation}")


SERVICES = {"dynamodb": dynamodb, "ssm": ssm, "logs": logs, "kms": kms, "s3": s3, "sts": sts}


def checks(call: Call, state: State) -> list[Check]:
    rule = SERVICES.get(call.service)
    if rule is None:
        raise NotModelled(f"{call.service}:{call.operation}")
    return rule(call, state)
