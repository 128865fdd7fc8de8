"""Take retained resources back after `make destroy`, with CloudFormation resource import.

`make destroy` leaves the tables, buckets, keys (and their aliases), user pool and, in prod,
the backup vault in the account, with their data (DeletionPolicy: Retain). They keep their
names, so a plain redeploy would fail with "already exists" and no stack could reach the data
again. Before such a deploy,
this creates the stack by importing exactly those resources (an IMPORT change set:
https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/resource-import-new-stack.html);
`sam deploy` then updates it to the full template, as for any other deploy.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import yaml
from botocore.exceptions import ClientError, WaiterError
from cfn_tools.yaml_loader import CfnYamlLoader

from aws_semantics.intrinsics import Context, references, resolve
from ops.config import ROOT, command_parameters, parameter_overrides

Say = Callable[[str], None]
# The look-ups of retained resources run at once, each on its own thread, up to this many.
LOOKUPS = 16


def _template_loader() -> type:
    """cfn_flip's loader (short-form intrinsics as Fn:: maps, ordered maps) on libyaml's parser
    when PyYAML has it, as its wheels do: the pure-Python parser takes several times as long
    on the rendered template."""
    base = getattr(yaml, "CSafeLoader", None)
    if base is None:
        return CfnYamlLoader
    constructors = {
        "yaml_constructors": dict(CfnYamlLoader.yaml_constructors),
        "yaml_multi_constructors": dict(CfnYamlLoader.yaml_multi_constructors),
    }
    return type("CfnCSafeLoader", (base,), constructors)


TEMPLATE_LOADER = _template_loader()


def load_template(text: str) -> dict[str, Any]:
    """A template as cfn_flip's load_yaml reads it."""
    return dict(yaml.load(text, Loader=TEMPLATE_LOADER))


@dataclass(frozen=True)
class Found:
    logical_id: str
    resource_type: str
    identifier: dict[str, str]  # the type's import identifier, e.g. {"TableName": ...}

    def describe(self) -> str:
        return f"{self.resource_type} {next(iter(self.identifier.values()))} ({self.logical_id})"


class AdoptError(Exception):
    pass


# What each service answers for a name that does not exist. Any other error (a refusal above
# all) is raised: taking it for "not there" would skip the import, and the deploy would then
# fail on "already exists" far from its cause.
NOT_FOUND = frozenset({"ResourceNotFoundException", "NotFoundException", "404", "NoSuchBucket"})


def _missing(error: ClientError, what: str) -> None:
    """Return for a name that does not exist; raise for anything else."""
    info = error.response.get("Error", {})
    if str(info.get("Code")) in NOT_FOUND:
        return
    raise AdoptError(
        f"cannot tell whether {what} exists: {error.operation_name} answered"
        f" {info.get('Code')}: {info.get('Message')}"
    ) from None


def _table(dynamodb: Any, name: str) -> dict[str, str] | None:
    try:
        dynamodb.describe_table(TableName=name)
    except ClientError as error:
        _missing(error, f"table {name}")
        return None
    return {"TableName": name}


def _bucket(s3: Any, name: str) -> dict[str, str] | None:
    try:
        s3.head_bucket(Bucket=name)
    except ClientError as error:
        _missing(error, f"bucket {name}")
        return None
    return {"BucketName": name}


def _alias(kms: Any, name: str) -> dict[str, str] | None:
    try:
        kms.describe_key(KeyId=name)
    except ClientError as error:
        _missing(error, f"key {name}")
        return None
    return {"AliasName": name}


def _user_pool(cognito: Any, name: str) -> dict[str, str] | None:
    pools = [
        pool
        for page in cognito.get_paginator("list_user_pools").paginate(MaxResults=60)
        for pool in page["UserPools"]
        if pool["Name"] == name
    ]
    if len(pools) > 1:
        raise AdoptError(
            f"{len(pools)} user pools are named {name}: delete the extra ones or import one by hand"
        )
    return {"UserPoolId": pools[0]["Id"]} if pools else None


def _backup_vault(backup: Any, name: str) -> dict[str, str] | None:
    try:
        backup.describe_backup_vault(BackupVaultName=name)
    except ClientError as error:
        _missing(error, f"backup vault {name}")
        return None
    return {"BackupVaultName": name}


# A finder takes its service's client and the name, and answers the import identifier.
Finder = Callable[[Any, str], "dict[str, str] | None"]


@dataclass(frozen=True)
class Way:
    """How a retained type is found: by the property that names it, through its service."""

    name_property: str
    service: str
    finder: Finder


# A key has no name: it is found through its alias, which is retained with it.
FINDERS: dict[str, Way] = {
    "AWS::DynamoDB::Table": Way("TableName", "dynamodb", _table),
    "AWS::S3::Bucket": Way("BucketName", "s3", _bucket),
    "AWS::KMS::Alias": Way("AliasName", "kms", _alias),
    "AWS::Cognito::UserPool": Way("UserPoolName", "cognito-idp", _user_pool),
    "AWS::Backup::BackupVault": Way("BackupVaultName", "backup", _backup_vault),
}


def _parameters(
    template: dict[str, Any], environment: str, region: str, account: str, partition: str
) -> dict:
    declared = template.get("Parameters", {})
    values: dict[str, Any] = {k: d.get("Default") for k, d in declared.items()}
    values.update(parameter_overrides(environment))
    for key, definition in declared.items():
        if definition.get("Type") == "CommaDelimitedList" and isinstance(values[key], str):
            values[key] = values[key].split(",")
    values.update(
        {
            "AWS::Region": region,
            "AWS::AccountId": account,
            "AWS::Partition": partition,
            "AWS::URLSuffix": "amazonaws.com.cn" if partition == "aws-cn" else "amazonaws.com",
            "AWS::StackName": command_parameters(environment)["stack_name"],
        }
    )
    return values


def _no_attribute(logical: str, name: str) -> Any:
    raise KeyError(f"{logical}.{name} is not known before the stack exists")


@dataclass(frozen=True)
class Sought:
    """A retained resource of the template, by the name it would have in the account."""

    logical_id: str
    resource_type: str
    name: str
    key: str | None  # for an alias: the retained key of the template it names


def find_retained(
    session: Any, template: dict[str, Any], parameters: dict[str, Any]
) -> list[Found]:
    """The template's retained resources that exist in the account under their names. Every
    look-up runs at once, on clients made first: a boto3 Session is not thread-safe, a
    client is."""
    context = Context(parameters, {}, template.get("Conditions", {}), _no_attribute)
    resources = template["Resources"]
    sought: list[Sought] = []
    for logical, resource in sorted(resources.items()):
        if resource["Type"] not in FINDERS or resource.get("DeletionPolicy") != "Retain":
            continue
        if "Condition" in resource and not context.condition(resource["Condition"]):
            continue  # not in this environment's stack
        named = resource.get("Properties", {}).get(FINDERS[resource["Type"]].name_property)
        if named is None:
            continue  # CloudFormation named it; nothing finds it again
        key = aliased_key(resources, logical) if resource["Type"] == "AWS::KMS::Alias" else None
        sought.append(Sought(logical, resource["Type"], str(resolve(named, context)), key))
    services = sorted({FINDERS[item.resource_type].service for item in sought})
    clients = {service: session.client(service) for service in services}

    def look_up(item: Sought) -> list[Found]:
        way = FINDERS[item.resource_type]
        identifier = way.finder(clients[way.service], item.name)
        if identifier is None:
            return []
        found = [Found(item.logical_id, item.resource_type, identifier)]
        if item.key is not None:
            described = clients["kms"].describe_key(KeyId=identifier["AliasName"])
            found.append(
                Found(item.key, "AWS::KMS::Key", {"KeyId": described["KeyMetadata"]["KeyId"]})
            )
        return found

    with ThreadPoolExecutor(max_workers=min(LOOKUPS, max(1, len(sought)))) as pool:
        answers = list(pool.map(look_up, sought))
    # In the order sought, as one at a time found them; a key that two aliases name, once.
    found: dict[str, Found] = {}
    for answer in answers:
        for item in answer:
            found.setdefault(item.logical_id, item)
    return list(found.values())


def aliased_key(resources: dict[str, Any], alias: str) -> str | None:
    """The retained AWS::KMS::Key of the template that an alias's TargetKeyId names (a Ref, or a
    Fn::GetAtt of its Arn or KeyId), found again through the alias; None where the alias names
    a key outside the template, or one deleted with the stack."""
    target = resources[alias].get("Properties", {}).get("TargetKeyId")
    keys = [
        logical
        for logical in sorted(references(target))
        if resources.get(logical, {}).get("Type") == "AWS::KMS::Key"
        and resources[logical].get("DeletionPolicy") == "Retain"
    ]
    return keys[0] if len(keys) == 1 else None


def import_template(template: dict[str, Any], found: list[Found]) -> dict[str, Any]:
    """Exactly the resources to import, as AWS requires. A property that refers to anything
    outside them is left out: an import does not apply properties, and the `sam deploy` that
    follows applies the whole template."""
    kept = {f.logical_id for f in found}
    known = kept | set(template.get("Parameters", {})) | {"AWS::NoValue"}
    resources = {}
    for logical in sorted(kept):
        resource = dict(template["Resources"][logical])
        properties = resource.get("Properties", {})
        resource["Properties"] = {
            k: v
            for k, v in properties.items()
            if all(r in known or r.startswith("AWS::") for r in references(v))
        }
        resource.pop("DependsOn", None)
        resources[logical] = resource
    return {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": "backend-kit: retained resources taken back after make destroy",
        "Parameters": template.get("Parameters", {}),
        "Conditions": template.get("Conditions", {}),
        "Resources": resources,
    }


def stack_status(cloudformation: Any, name: str) -> str | None:
    try:
        return str(cloudformation.describe_stacks(StackName=name)["Stacks"][0]["StackStatus"])
    except ClientError:
        return None


def clear_failed_creation(cloudformation: Any, name: str, say: Say) -> None:
    """A first deploy that rolled back holds no resources but blocks every later one
    (ROLLBACK_COMPLETE can only be deleted: using-cfn-describing-stacks.html)."""
    say(f"  {name} is ROLLBACK_COMPLETE from a failed first deploy: deleting it first")
    cloudformation.delete_stack(StackName=name)
    cloudformation.get_waiter("stack_delete_complete").wait(
        StackName=name, WaiterConfig={"Delay": 2, "MaxAttempts": 450}
    )


def import_failure(cloudformation: Any, name: str) -> str:
    """Why the import failed, as the stack's events say it: each failed resource's reason,
    else the stack's status."""
    events = cloudformation.describe_stack_events(StackName=name)["StackEvents"]
    failed = [
        f"{e['LogicalResourceId']}: {e.get('ResourceStatusReason', e['ResourceStatus'])}"
        for e in events
        if e["ResourceStatus"].endswith("_FAILED") and e["LogicalResourceId"] != name
    ]
    status = stack_status(cloudformation, name)
    return f"the import into {name} failed ({status}): " + ("; ".join(failed) or "no reason given")


def adopt(
    region: str,
    environment: str,
    say: Say = print,
    template_path: Path = ROOT / "build" / "template.yaml",
    session: boto3.session.Session | None = None,
    account: str | None = None,
) -> list[Found]:
    """Import the retained resources into a new stack when there is no stack yet and they
    exist; otherwise do nothing. Returns what was imported. `session` is one in `region`;
    `account`, the caller's, when the preflight has read it already."""
    session = session or boto3.session.Session(region_name=region)
    cloudformation = session.client("cloudformation")
    settings = command_parameters(environment)
    name = settings["stack_name"]
    status = stack_status(cloudformation, name)
    if status == "ROLLBACK_COMPLETE":
        clear_failed_creation(cloudformation, name, say)
    elif status not in (None, "DELETE_COMPLETE", "REVIEW_IN_PROGRESS"):
        return []
    template = load_template(template_path.read_text())
    account = account or session.client("sts").get_caller_identity()["Account"]
    partition = session.get_partition_for_region(region)
    parameters = _parameters(template, environment, region, account, partition)
    found = find_retained(session, template, parameters)
    if not found:
        return []
    say(f"  {name} has no stack in {region}, but resources it retained on delete exist:")
    for item in found:
        say(f"    {item.describe()}")
    say("  importing them into a new stack, so the deploy takes them back with their data")
    body = import_template(template, found)
    used = set(body["Parameters"])
    change_set = cloudformation.create_change_set(
        StackName=name,
        ChangeSetName=f"{name}-import",
        ChangeSetType="IMPORT",
        TemplateBody=json.dumps(body, sort_keys=True),
        Parameters=[
            {
                "ParameterKey": k,
                "ParameterValue": ",".join(v) if isinstance(v, list) else str(v),
            }
            for k, v in parameters.items()
            if k in used and v is not None
        ],
        ResourcesToImport=[
            {
                "ResourceType": item.resource_type,
                "LogicalResourceId": item.logical_id,
                "ResourceIdentifier": item.identifier,
            }
            for item in found
        ],
        Capabilities=settings["capabilities"].split(),
        # The import acts as the execution role `sam deploy` passes, not as the caller.
        **({"RoleARN": settings["role_arn"]} if settings.get("role_arn") else {}),
    )
    cloudformation.get_waiter("change_set_create_complete").wait(
        ChangeSetName=change_set["Id"], WaiterConfig={"Delay": 2, "MaxAttempts": 150}
    )
    cloudformation.execute_change_set(ChangeSetName=change_set["Id"])
    try:
        cloudformation.get_waiter("stack_import_complete").wait(
            StackName=name, WaiterConfig={"Delay": 2, "MaxAttempts": 900}
        )
    except WaiterError:
        raise AdoptError(import_failure(cloudformation, name)) from None
    say(f"  imported {len(found)} resource(s) into {name}; sam deploy adds the rest")
    return found
