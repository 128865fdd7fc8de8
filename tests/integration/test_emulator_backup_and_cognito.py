"""The production profile's AWS Backup and Cognito resources in the emulator's CloudFormation,
each rule checked through the service API as any client reads it: the vault (with and without
a lock), a plan of two rules and a selection of a table, their update and delete, the import of
a retained vault after a delete (ops/adopt.py), the feature plan that threat protection needs,
and sign-in where MFA is required (offline/cognito/rules.py, offline/stack/sign_in.py)."""

from __future__ import annotations

import copy
import json
import stat
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from offline.cognito.totp import code as totp_code
from offline.common.endpoint import Endpoint
from offline.stack.sign_in import secret_file
from ops import adopt
from tests.conftest import aws_environment
from tests.templates import dynamodb_table, trust_policy, unique

pytestmark = pytest.mark.integration

REGION = "eu-west-1"
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def client(emulator_url: str) -> Callable[[str], Any]:
    def make(service: str) -> Any:
        return Endpoint(emulator_url).client(service, REGION)

    return make


def deploy(cloudformation: Any, stack: str, body: dict[str, Any], kind: str = "CREATE",
           **parameters: str) -> str:  # fmt: skip
    """Run one change set of `kind`; the stack's status after it."""
    change_set = cloudformation.create_change_set(
        StackName=stack,
        ChangeSetName=unique("cs"),
        ChangeSetType=kind,
        TemplateBody=json.dumps(body),
        Capabilities=["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM"],
        Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in parameters.items()],
    )
    cloudformation.execute_change_set(ChangeSetName=change_set["Id"])
    return str(cloudformation.describe_stacks(StackName=stack)["Stacks"][0]["StackStatus"])


def physical_ids(cloudformation: Any, stack: str) -> dict[str, str]:
    summaries = cloudformation.list_stack_resources(StackName=stack)["StackResourceSummaries"]
    return {s["LogicalResourceId"]: s["PhysicalResourceId"] for s in summaries}


def outputs(cloudformation: Any, stack: str) -> dict[str, str]:
    described = cloudformation.describe_stacks(StackName=stack)["Stacks"][0]
    return {o["OutputKey"]: o["OutputValue"] for o in described.get("Outputs", [])}


def failure(cloudformation: Any, stack: str) -> str:
    events = cloudformation.describe_stack_events(StackName=stack)["StackEvents"]
    return " | ".join(e.get("ResourceStatusReason", "") for e in events)


# --- AWS Backup ------------------------------------------------------------------------------


def rule(name: str, schedule: str, keep_days: int) -> dict[str, Any]:
    return {
        "RuleName": name,
        "TargetBackupVault": {"Ref": "Vault"},
        "ScheduleExpression": schedule,
        "StartWindowMinutes": 60,
        "CompletionWindowMinutes": 180,
        "Lifecycle": {"DeleteAfterDays": keep_days},
    }


def backup_stack(names: dict[str, str]) -> dict[str, Any]:
    """The shape of the prod template's backup resources: a key and its alias, a vault
    encrypted with it whose lock is a parameter's choice, the role AWS Backup assumes, a plan
    of two rules into the vault, and a selection of one table."""
    return {
        "Parameters": {"Lock": {"Type": "String", "AllowedValues": ["on", "off"]}},
        "Conditions": {"Locked": {"Fn::Equals": [{"Ref": "Lock"}, "on"]}},
        "Resources": {
            "Key": {
                "Type": "AWS::KMS::Key",
                "DeletionPolicy": "Retain",
                "UpdateReplacePolicy": "Retain",
                "Properties": {
                    "KeyPolicy": {
                        "Version": "2012-10-17",
                        "Statement": [
                            {
                                "Effect": "Allow",
                                "Principal": {
                                    "AWS": {
                                        "Fn::Sub": "arn:${AWS::Partition}:iam::"
                                        "${AWS::AccountId}:root"
                                    }
                                },
                                "Action": "kms:*",
                                "Resource": "*",
                            }
                        ],
                    },
                },
            },
            "KeyAlias": {
                "Type": "AWS::KMS::Alias",
                "DeletionPolicy": "Retain",
                "Properties": {"AliasName": names["alias"], "TargetKeyId": {"Ref": "Key"}},
            },
            "Vault": {
                "Type": "AWS::Backup::BackupVault",
                "DeletionPolicy": "Retain",
                "Properties": {
                    "BackupVaultName": {"Fn::Sub": names["vault"] + "-${AWS::Region}"},
                    "EncryptionKeyArn": {"Fn::GetAtt": ["Key", "Arn"]},
                    "LockConfiguration": {
                        "Fn::If": [
                            "Locked",
                            {"MinRetentionDays": 7, "MaxRetentionDays": 400},
                            {"Ref": "AWS::NoValue"},
                        ]
                    },
                },
            },
            "Role": {
                "Type": "AWS::IAM::Role",
                "Properties": {
                    "RoleName": names["role"],
                    "AssumeRolePolicyDocument": trust_policy("backup"),
                },
            },
            "Things": {**dynamodb_table(names["table"]), "DeletionPolicy": "Delete"},
            "Plan": {
                "Type": "AWS::Backup::BackupPlan",
                "DeletionPolicy": "Delete",
                "Properties": {
                    "BackupPlan": {
                        "BackupPlanName": names["plan"],
                        "BackupPlanRule": [
                            rule("daily", "cron(0 5 * * ? *)", 35),
                            rule("monthly", "cron(0 5 1 * ? *)", 365),
                        ],
                    }
                },
            },
            "Selection": {
                "Type": "AWS::Backup::BackupSelection",
                "DeletionPolicy": "Delete",
                "Properties": {
                    "BackupPlanId": {"Ref": "Plan"},
                    "BackupSelection": {
                        "SelectionName": "tables",
                        "IamRoleArn": {"Fn::GetAtt": ["Role", "Arn"]},
                        "Resources": [{"Fn::GetAtt": ["Things", "Arn"]}],
                    },
                },
            },
        },
        "Outputs": {
            "VaultName": {"Value": {"Ref": "Vault"}},
            "VaultArn": {"Value": {"Fn::GetAtt": ["Vault", "BackupVaultArn"]}},
            "VaultNameAttribute": {"Value": {"Fn::GetAtt": ["Vault", "BackupVaultName"]}},
            "PlanId": {"Value": {"Ref": "Plan"}},
            "PlanArn": {"Value": {"Fn::GetAtt": ["Plan", "BackupPlanArn"]}},
            "PlanVersion": {"Value": {"Fn::GetAtt": ["Plan", "VersionId"]}},
            "SelectionId": {"Value": {"Ref": "Selection"}},
            "SelectionIdAttribute": {"Value": {"Fn::GetAtt": ["Selection", "SelectionId"]}},
            "SelectionPlan": {"Value": {"Fn::GetAtt": ["Selection", "BackupPlanId"]}},
        },
    }


def names() -> dict[str, str]:
    return {
        kind: unique(kind)
        for kind in ("vault", "plan", "role", "table")
    } | {"alias": f"alias/{unique('backup')}"}  # fmt: skip


@pytest.mark.parametrize("lock", ["on", "off"])
def test_a_vault_plan_and_selection_are_made_as_the_template_says(
    client: Callable, lock: str
) -> None:
    cloudformation, backup, stack, named = client("cloudformation"), client("backup"), unique(
        "backup"), names()  # fmt: skip
    status = deploy(cloudformation, stack, backup_stack(named), Lock=lock)
    assert status == "CREATE_COMPLETE", failure(cloudformation, stack)
    ids, out = physical_ids(cloudformation, stack), outputs(cloudformation, stack)
    vault_name = f"{named['vault']}-{REGION}"

    # The vault: named as the template says, encrypted with the stack's key, locked or not.
    assert ids["Vault"] == out["VaultName"] == out["VaultNameAttribute"] == vault_name
    vault = backup.describe_backup_vault(BackupVaultName=vault_name)
    assert out["VaultArn"] == vault["BackupVaultArn"]
    assert vault["BackupVaultArn"].endswith(f":backup-vault:{vault_name}")
    key = client("kms").describe_key(KeyId=named["alias"])["KeyMetadata"]
    assert vault["EncryptionKeyArn"] == key["Arn"]
    if lock == "on":
        assert (vault["Locked"], vault["MinRetentionDays"], vault["MaxRetentionDays"]) == (
            True, 7, 400)  # fmt: skip
    else:
        assert not vault.get("Locked")
        assert "MinRetentionDays" not in vault

    # The plan: its id is the physical id, and its two rules back up into the vault.
    plan_id = ids["Plan"]
    assert out["PlanId"] == out["SelectionPlan"] == plan_id
    plan = backup.get_backup_plan(BackupPlanId=plan_id)
    assert out["PlanArn"] == plan["BackupPlanArn"]
    assert out["PlanVersion"] == plan["VersionId"]
    assert plan["BackupPlan"]["BackupPlanName"] == named["plan"]
    rules = {r["RuleName"]: r for r in plan["BackupPlan"]["Rules"]}
    assert set(rules) == {"daily", "monthly"}
    assert rules["monthly"]["ScheduleExpression"] == "cron(0 5 1 * ? *)"
    assert rules["monthly"]["Lifecycle"] == {"DeleteAfterDays": 365}
    for each in rules.values():
        assert each["TargetBackupVaultName"] == vault_name
        assert (each["StartWindowMinutes"], each["CompletionWindowMinutes"]) == (60, 180)

    # The selection: the table, backed up as the role.
    selection_id = ids["Selection"]
    assert out["SelectionId"] == out["SelectionIdAttribute"] == selection_id
    chosen = backup.get_backup_selection(BackupPlanId=plan_id, SelectionId=selection_id)
    table_arn = client("dynamodb").describe_table(TableName=named["table"])["Table"]["TableArn"]
    role_arn = client("iam").get_role(RoleName=named["role"])["Role"]["Arn"]
    assert chosen["BackupSelection"]["SelectionName"] == "tables"
    assert chosen["BackupSelection"]["IamRoleArn"] == role_arn
    assert chosen["BackupSelection"]["Resources"] == [table_arn]


def test_a_plan_update_gives_a_new_version_and_a_delete_keeps_only_the_vault(
    client: Callable,
) -> None:
    cloudformation, backup, stack, named = client("cloudformation"), client("backup"), unique(
        "backup"), names()  # fmt: skip
    body = backup_stack(named)
    assert deploy(cloudformation, stack, body, Lock="on") == "CREATE_COMPLETE"
    before = outputs(cloudformation, stack)
    vault_name = before["VaultName"]

    changed = copy.deepcopy(body)
    changed["Resources"]["Plan"]["Properties"]["BackupPlan"]["BackupPlanRule"][0] = rule(
        "daily", "cron(0 3 * * ? *)", 14
    )
    changed["Resources"]["Vault"]["Properties"]["LockConfiguration"]["Fn::If"][1] = {
        "MinRetentionDays": 14,
        "MaxRetentionDays": 400,
    }
    status = deploy(cloudformation, stack, changed, "UPDATE", Lock="on")
    assert status == "UPDATE_COMPLETE", failure(cloudformation, stack)
    after = outputs(cloudformation, stack)
    assert after["PlanId"] == before["PlanId"]  # updated in place, not replaced
    assert after["PlanVersion"] != before["PlanVersion"]
    plan = backup.get_backup_plan(BackupPlanId=after["PlanId"])
    assert plan["VersionId"] == after["PlanVersion"]
    daily = next(r for r in plan["BackupPlan"]["Rules"] if r["RuleName"] == "daily")
    assert (daily["ScheduleExpression"], daily["Lifecycle"]) == (
        "cron(0 3 * * ? *)", {"DeleteAfterDays": 14})  # fmt: skip
    assert backup.describe_backup_vault(BackupVaultName=vault_name)["MinRetentionDays"] == 14
    # The selection did not change: it is the one made with the stack.
    assert after["SelectionId"] == before["SelectionId"]

    cloudformation.delete_stack(StackName=stack)
    cloudformation.get_waiter("stack_delete_complete").wait(
        StackName=stack, WaiterConfig={"Delay": 1, "MaxAttempts": 60}
    )
    # DeletionPolicy Retain keeps the vault (and the key with its alias); the plan and its
    # selection are deleted.
    kept = backup.describe_backup_vault(BackupVaultName=vault_name)
    assert kept["BackupVaultArn"] == after["VaultArn"]
    assert client("kms").describe_key(KeyId=named["alias"])["KeyMetadata"]["Enabled"]
    listed = {p["BackupPlanId"] for p in backup.list_backup_plans()["BackupPlansList"]}
    assert after["PlanId"] not in listed
    with pytest.raises(ClientError) as gone:
        backup.get_backup_selection(BackupPlanId=after["PlanId"],
                                    SelectionId=after["SelectionId"])  # fmt: skip
    assert gone.value.response["Error"]["Code"] == "ResourceNotFoundException"


class Session:
    """What ops/adopt.py asks of a boto3 session, against the emulator."""

    def __init__(self, emulator_url: str) -> None:
        self.endpoint = Endpoint(emulator_url)

    def client(self, service: str) -> Any:
        return self.endpoint.client(service, REGION)


def test_make_deploys_adopt_takes_the_retained_vault_and_key_back(
    client: Callable, emulator_url: str
) -> None:
    """After the stack is deleted, ops/adopt.py finds the retained vault, the key (through its
    alias) and the alias, and the emulator imports them into a new stack."""
    cloudformation, stack, named = client("cloudformation"), unique("backup"), names()
    template = backup_stack(named)
    assert deploy(cloudformation, stack, template, Lock="off") == "CREATE_COMPLETE"
    before = outputs(cloudformation, stack)
    key_id = client("kms").describe_key(KeyId=named["alias"])["KeyMetadata"]["KeyId"]
    cloudformation.delete_stack(StackName=stack)

    account = client("sts").get_caller_identity()["Account"]
    parameters = {"Lock": "off", "AWS::Region": REGION, "AWS::AccountId": account,
                  "AWS::Partition": "aws", "AWS::StackName": stack}  # fmt: skip
    found = adopt.find_retained(Session(emulator_url), template, parameters)
    assert {(f.logical_id, f.resource_type, tuple(f.identifier.values())) for f in found} == {
        ("Vault", "AWS::Backup::BackupVault", (before["VaultName"],)),
        ("KeyAlias", "AWS::KMS::Alias", (named["alias"],)),
        ("Key", "AWS::KMS::Key", (key_id,)),
    }
    body = adopt.import_template(template, found)
    # The vault's key reference stays: the key is imported with it.
    assert body["Resources"]["Vault"]["Properties"]["EncryptionKeyArn"] == {
        "Fn::GetAtt": ["Key", "Arn"]}  # fmt: skip
    change_set = cloudformation.create_change_set(
        StackName=stack,
        ChangeSetName=unique("import"),
        ChangeSetType="IMPORT",
        TemplateBody=json.dumps(body),
        Parameters=[{"ParameterKey": "Lock", "ParameterValue": "off"}],
        ResourcesToImport=[
            {"ResourceType": f.resource_type, "LogicalResourceId": f.logical_id,
             "ResourceIdentifier": f.identifier}
            for f in found
        ],
    )  # fmt: skip
    cloudformation.execute_change_set(ChangeSetName=change_set["Id"])
    status = cloudformation.describe_stacks(StackName=stack)["Stacks"][0]["StackStatus"]
    assert status == "IMPORT_COMPLETE", failure(cloudformation, stack)
    ids = physical_ids(cloudformation, stack)
    assert ids["Vault"] == before["VaultName"]
    assert ids["Key"] == key_id


def test_adopt_finds_a_key_through_any_alias_that_names_it() -> None:
    """The key of an alias is the template's key its TargetKeyId refers to, by Ref or by
    Fn::GetAtt; a key deleted with the stack, or outside the template, is not imported."""
    resources: dict[str, Any] = {
        "Kept": {"Type": "AWS::KMS::Key", "DeletionPolicy": "Retain"},
        "Dropped": {"Type": "AWS::KMS::Key", "DeletionPolicy": "Delete"},
        "ByRef": {"Type": "AWS::KMS::Alias", "Properties": {"TargetKeyId": {"Ref": "Kept"}}},
        "ByArn": {"Type": "AWS::KMS::Alias",
                  "Properties": {"TargetKeyId": {"Fn::GetAtt": ["Kept", "Arn"]}}},
        "ToDropped": {"Type": "AWS::KMS::Alias",
                      "Properties": {"TargetKeyId": {"Ref": "Dropped"}}},
        "Outside": {"Type": "AWS::KMS::Alias", "Properties": {"TargetKeyId": "1234abcd"}},
    }  # fmt: skip
    assert adopt.aliased_key(resources, "ByRef") == "Kept"
    assert adopt.aliased_key(resources, "ByArn") == "Kept"
    assert adopt.aliased_key(resources, "ToDropped") is None
    assert adopt.aliased_key(resources, "Outside") is None


# --- Cognito ---------------------------------------------------------------------------------


def pool_stack(name: str, **pool: Any) -> dict[str, Any]:
    return {
        "Resources": {
            "Pool": {
                "Type": "AWS::Cognito::UserPool",
                "DeletionPolicy": "Delete",
                "Properties": {"UserPoolName": name, **pool},
            },
            "Client": {
                "Type": "AWS::Cognito::UserPoolClient",
                "Properties": {
                    "UserPoolId": {"Ref": "Pool"},
                    "ExplicitAuthFlows": [
                        "ALLOW_ADMIN_USER_PASSWORD_AUTH",
                        "ALLOW_REFRESH_TOKEN_AUTH",
                    ],
                },
            },
        }
    }


def test_threat_protection_on_the_essentials_plan_fails_the_stack(client: Callable) -> None:
    cloudformation, cognito = client("cloudformation"), client("cognito-idp")
    enforced = {"UserPoolAddOns": {"AdvancedSecurityMode": "ENFORCED"}}
    refused = unique("essentials")
    status = deploy(cloudformation, refused,
                    pool_stack(unique("pool"), UserPoolTier="ESSENTIALS", **enforced))  # fmt: skip
    assert status == "ROLLBACK_COMPLETE"
    reasons = failure(cloudformation, refused)
    assert "FeatureUnavailableInTierException" in reasons
    assert "need to be disabled for the ESSENTIALS pricing tier configured: Threat Protection" in (
        reasons)  # fmt: skip

    stack, name = unique("plus"), unique("pool")
    assert deploy(cloudformation, stack, pool_stack(name, UserPoolTier="PLUS", **enforced)) == (
        "CREATE_COMPLETE")  # fmt: skip
    pool_id = physical_ids(cloudformation, stack)["Pool"]
    described = cognito.describe_user_pool(UserPoolId=pool_id)["UserPool"]
    assert (described["UserPoolTier"], described["UserPoolAddOns"]) == (
        "PLUS", {"AdvancedSecurityMode": "ENFORCED"})  # fmt: skip
    # An update in place changes the mode, and keeps the pool.
    audit = pool_stack(name, UserPoolTier="PLUS", UserPoolAddOns={"AdvancedSecurityMode": "AUDIT"})
    assert deploy(cloudformation, stack, audit, "UPDATE") == "UPDATE_COMPLETE"
    assert physical_ids(cloudformation, stack)["Pool"] == pool_id
    described = cognito.describe_user_pool(UserPoolId=pool_id)["UserPool"]
    assert described["UserPoolAddOns"] == {"AdvancedSecurityMode": "AUDIT"}


def mfa_pool(client: Callable, mfa: str) -> tuple[str, str]:
    """A stack's pool with MFA `mfa` and TOTP enabled, and its client: their ids."""
    cloudformation, stack = client("cloudformation"), unique("mfa")
    body = pool_stack(unique("pool"), MfaConfiguration=mfa, EnabledMfas=["SOFTWARE_TOKEN_MFA"])
    assert deploy(cloudformation, stack, body) == "CREATE_COMPLETE", failure(cloudformation, stack)
    ids = physical_ids(cloudformation, stack)
    return ids["Pool"], ids["Client"]


def test_with_mfa_required_sign_in_needs_a_verified_totp(client: Callable) -> None:
    cognito = client("cognito-idp")
    pool, client_id = mfa_pool(client, "ON")
    assert cognito.describe_user_pool(UserPoolId=pool)["UserPool"]["MfaConfiguration"] == "ON"
    password = "Correct-Horse-9!"
    cognito.admin_create_user(UserPoolId=pool, Username="eve", MessageAction="SUPPRESS")
    cognito.admin_set_user_password(UserPoolId=pool, Username="eve", Password=password,
                                    Permanent=True)  # fmt: skip

    def sign_in() -> dict[str, Any]:
        return dict(cognito.admin_initiate_auth(
            UserPoolId=pool, ClientId=client_id, AuthFlow="ADMIN_USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": "eve", "PASSWORD": password},
        ))  # fmt: skip

    setup = sign_in()
    assert setup["ChallengeName"] == "MFA_SETUP"
    assert "AuthenticationResult" not in setup
    association = cognito.associate_software_token(Session=setup["Session"])
    secret = association["SecretCode"]
    wrong = f"{(int(totp_code(secret)) + 1) % 1_000_000:06d}"
    with pytest.raises(ClientError) as refused:
        cognito.verify_software_token(Session=association["Session"], UserCode=wrong)
    assert refused.value.response["Error"]["Code"] == "EnableSoftwareTokenMFAException"
    verified = cognito.verify_software_token(Session=association["Session"],
                                             UserCode=totp_code(secret))  # fmt: skip
    assert verified["Status"] == "SUCCESS"
    signed = cognito.admin_respond_to_auth_challenge(
        UserPoolId=pool, ClientId=client_id, ChallengeName="MFA_SETUP",
        Session=verified["Session"], ChallengeResponses={"USERNAME": "eve"},
    )  # fmt: skip
    assert signed["AuthenticationResult"]["AccessToken"]

    challenge = sign_in()
    assert challenge["ChallengeName"] == "SOFTWARE_TOKEN_MFA"
    with pytest.raises(ClientError) as mismatch:
        cognito.admin_respond_to_auth_challenge(
            UserPoolId=pool, ClientId=client_id, ChallengeName="SOFTWARE_TOKEN_MFA",
            Session=challenge["Session"],
            ChallengeResponses={"USERNAME": "eve", "SOFTWARE_TOKEN_MFA_CODE": wrong},
        )  # fmt: skip
    assert mismatch.value.response["Error"]["Code"] == "CodeMismatchException"
    answered = cognito.admin_respond_to_auth_challenge(
        UserPoolId=pool, ClientId=client_id, ChallengeName="SOFTWARE_TOKEN_MFA",
        Session=challenge["Session"],
        ChallengeResponses={"USERNAME": "eve", "SOFTWARE_TOKEN_MFA_CODE": totp_code(secret)},
    )  # fmt: skip
    user = cognito.get_user(AccessToken=answered["AuthenticationResult"]["AccessToken"])
    assert user["UserMFASettingList"] == ["SOFTWARE_TOKEN_MFA"]


def offline_token(emulator_url: str, state: Path, user: str) -> subprocess.CompletedProcess:
    """`make token USER=user` against the local stack `state` describes."""
    return subprocess.run(
        [sys.executable, "-m", "offline", "token", user],
        cwd=ROOT,
        env={**aws_environment(emulator_url), "OFFLINE_STATE": str(state)},
        capture_output=True,
        text=True,
        timeout=120,
    )


def local_state(tmp_path: Path, emulator_url: str, pool: str, client_id: str) -> Path:
    state = tmp_path / "local" / "state.json"
    state.parent.mkdir()
    state.write_text(json.dumps({"endpoint": emulator_url, "region": REGION,
                                 "user_pool_id": pool, "client_id": client_id}))  # fmt: skip
    return state


@pytest.mark.parametrize("mfa", ["ON", "OPTIONAL"])
def test_make_token_works_twice_in_a_row_whatever_the_pools_mfa(
    client: Callable, emulator_url: str, tmp_path: Path, mfa: str
) -> None:
    """Where MFA is required, the first `make token` enrols the user in TOTP and keeps the
    secret, readable by its owner only; the second answers the TOTP challenge with it. Where
    it is optional, nothing is enrolled or kept."""
    pool, client_id = mfa_pool(client, mfa)
    state = local_state(tmp_path, emulator_url, pool, client_id)
    runs = [offline_token(emulator_url, state, "frank") for _ in range(2)]
    for run in runs:
        assert run.returncode == 0, run.stdout + run.stderr
    cognito = client("cognito-idp")
    tokens = [run.stdout.strip().splitlines()[-1] for run in runs]
    for token in tokens:
        assert cognito.get_user(AccessToken=token)["Username"] == "frank"
    kept = secret_file(pool, "frank", state)
    enrolled = [
        line for run in runs for line in run.stdout.splitlines() if "enrolled in TOTP" in line
    ]
    if mfa == "OPTIONAL":
        assert not enrolled
        assert not kept.exists()
        return
    assert len(enrolled) == 1 and enrolled[0] in runs[0].stdout
    assert stat.S_IMODE(kept.stat().st_mode) == 0o600
    user = cognito.admin_get_user(UserPoolId=pool, Username="frank")
    assert user["UserMFASettingList"] == ["SOFTWARE_TOKEN_MFA"]
