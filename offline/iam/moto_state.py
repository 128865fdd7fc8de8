"""The resources' keys, policies, tags and contents as the enforcement's rules need them
(offline/iam/calls.py's State), read from the emulator's own moto backends."""

from __future__ import annotations

import json
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from aws_semantics.policy import Policy
from offline.common.endpoint import ACCOUNT
from offline.iam.calls import Key, MissingKey, State, parameter_name


def _pairs(tags: Any) -> dict[str, str]:
    """Tags as a dict, from any of moto's shapes: a list of {Key, Value} (KMS: {TagKey,
    TagValue}), or a dict."""
    if isinstance(tags, Mapping):
        tags = tags.get("Tags", tags)
    if isinstance(tags, list):
        return {str(t.get("Key", t.get("TagKey"))): str(t.get("Value", t.get("TagValue")))
                for t in tags}  # fmt: skip
    return {str(k): str(v) for k, v in (tags or {}).items()}


def backend(backends: Any, region: str) -> Any:
    """moto's backend of the emulator's account in `region`. Indexing moto's BackendDict takes
    a process-wide lock and scans a list of every service's backends on each access; a backend
    that exists is read from the dicts directly, and only a missing one is made moto's way."""
    account = dict.get(backends, ACCOUNT)
    found = dict.get(account, region) if account is not None else None
    return found if found is not None else backends[ACCOUNT][region]


@lru_cache(maxsize=256)
def _policy(label: str, text: str) -> Policy:
    # The same text gives the same Policy, whose statements are parsed once.
    return Policy(label, json.loads(text))


class MotoState(State):
    def stack_arn(self, region: str, name: str) -> str | None:
        return _stack_arn(region, name)

    def _table(self, region: str, table: str) -> Any:
        from moto.dynamodb.models import dynamodb_backends

        try:
            return backend(dynamodb_backends, region).get_table(table)
        except Exception:
            return None  # a missing table: DynamoDB answers ResourceNotFound itself

    def table_key(self, region: str, table: str) -> str | None:
        found = self._table(region, table)
        sse = found.sse_specification if found else None
        # The API's spelling, which a stack's tables get too (stack_resources).
        if sse and sse.get("Enabled") and sse.get("SSEType") == "KMS":
            return str(sse.get("KMSMasterKeyId") or "alias/aws/dynamodb")
        return None

    def table_partition_key(self, region: str, table: str) -> str | None:
        found = self._table(region, table)
        return str(found.hash_key_attr) if found else None

    def parameter_key(self, region: str, name: str) -> str | None:
        from moto.ssm.models import ssm_backends

        parameter = backend(ssm_backends, region).get_parameter(name)
        if parameter is None or parameter.parameter_type != "SecureString":
            return None
        return parameter.keyid or "alias/aws/ssm"

    def parameters_under(self, region: str, path: str, recursive: bool) -> list[str]:
        from moto.ssm.models import ssm_backends

        ssm, names, token = backend(ssm_backends, region), [], None
        while True:
            found, token = ssm.get_parameters_by_path(
                path, recursive, next_token=token, max_results=10
            )
            names += [parameter.name for parameter in found]
            if not token:
                return names

    def log_group_key(self, region: str, group: str) -> str | None:
        from moto.logs.models import logs_backends

        found = backend(logs_backends, region).groups.get(group)
        return found.kms_key_id if found else None

    def tags(self, region: str, arn: str) -> Mapping[str, str]:
        service, resource = arn.split(":")[2], arn.split(":", 5)[5]
        try:
            if service == "dynamodb":
                from moto.dynamodb.models import dynamodb_backends

                return _pairs(backend(dynamodb_backends, region).list_tags_of_resource(arn))
            if service == "ssm":
                from moto.ssm.models import ssm_backends

                ssm = backend(ssm_backends, region)
                return _pairs(ssm.list_tags_for_resource("Parameter", parameter_name(arn)))
            if service == "logs":
                from moto.logs.models import logs_backends

                group = resource.split(":")[1]
                return _pairs(backend(logs_backends, region).list_tags_log_group(group))
        except Exception:
            return {}  # a resource that does not exist has no tags; its service answers
        return {}

    def _bucket(self, bucket: str) -> Any:
        from moto.s3.models import s3_backends

        try:
            return backend(s3_backends, "aws").get_bucket(bucket)
        except Exception:
            return None

    def _object(self, bucket: str, key: str) -> Any:
        found = self._bucket(bucket)
        return found.keys.get(key) if found else None

    def bucket_policy(self, bucket: str) -> Policy | None:
        found = self._bucket(bucket)
        if found is None or not found.policy:
            return None
        text = found.policy.decode() if isinstance(found.policy, bytes) else found.policy
        return _policy(f"bucket policy of {bucket}", text)

    def bucket_key(self, bucket: str) -> tuple[str | None, bool]:
        found = self._bucket(bucket)
        rules = ((found.encryption or {}).get("Rule") if found else None) or []
        for rule in rules if isinstance(rules, list) else [rules]:
            default = rule.get("ApplyServerSideEncryptionByDefault", {})
            if default.get("SSEAlgorithm") == "aws:kms":
                enabled = str(rule.get("BucketKeyEnabled", "false")).lower() == "true"
                return default.get("KMSMasterKeyID") or "alias/aws/s3", enabled
        return None, False

    def object_exists(self, bucket: str, key: str) -> bool:
        return self._object(bucket, key) is not None

    def object_key(self, bucket: str, key: str) -> str | None:
        stored = self._object(bucket, key)
        if stored is None or stored.encryption != "aws:kms":
            return None
        return stored.kms_key_id or "alias/aws/s3"

    def object_tags(self, bucket: str, key: str) -> Mapping[str, str]:
        from moto.s3.models import s3_backends

        stored = self._object(bucket, key)
        if stored is None:
            return {}
        return _pairs(backend(s3_backends, "aws").get_object_tagging(stored))

    def key(self, region: str, key_id: str) -> Key:
        from moto.kms.models import kms_backends

        kms = backend(kms_backends, region)
        try:
            found = kms.describe_key(key_id)
        except Exception:
            if key_id.startswith("alias/aws/"):
                return managed_key(region, key_id)
            raise MissingKey(f"no KMS key {key_id} in {region}") from None
        aliases = sorted(found.aliases) if hasattr(found, "aliases") else []
        managed = [a for a in [key_id, *aliases] if a.startswith("alias/aws/")]
        if managed:  # moto gives AWS managed keys a policy of its own; AWS's is this one
            policy = managed_key(region, managed[0]).policy
        else:
            text = found.policy if isinstance(found.policy, str) else json.dumps(found.policy)
            policy = _policy(f"key policy of {found.arn}", text)
        return Key(
            found.arn, policy, aliases, found.key_spec or "SYMMETRIC_DEFAULT",
            found.key_usage or "ENCRYPT_DECRYPT", found.origin or "AWS_KMS",
            bool(found.multi_region), _pairs(kms.list_resource_tags(found.id)),
        )  # fmt: skip


def _stack_arn(region: str, name: str) -> str | None:
    from moto.cloudformation.models import cloudformation_backends

    cloudformation = backend(cloudformation_backends, region)
    if ":changeSet/" in name:  # a change set's ARN names no stack: its stack is looked up
        change_set = cloudformation.change_sets.get(name)
        return str(change_set.stack_id) if change_set is not None else None
    stacks = cloudformation.stacks.values()
    live = [s for s in stacks if s.name == name and s.status != "DELETE_COMPLETE"]
    return str(live[-1].stack_id) if live else None


def managed_key(region: str, alias: str) -> Key:
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
    return Key(arn, Policy(f"AWS managed key {alias}", document), [alias])
