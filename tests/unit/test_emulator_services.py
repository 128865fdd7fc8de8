"""The emulator's AWS Backup selections and Cognito rules (offline/backup/rules.py,
offline/cognito/rules.py), through boto3 against moto in-process, as the emulator serves them."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from offline.backup import rules as backup_service
from offline.cognito import rules as cognito_rules
from offline.cognito.totp import code as totp_code

REGION = "us-west-2"


def unique(prefix: str) -> str:
    # The handler tests keep moto's state open in the same worker: names never repeat.
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    # install() turns moto's own TOTP checks off for the process; monkeypatch puts it back.
    monkeypatch.setenv("MOTO_COGNITO_IDP_USER_POOL_ENABLE_TOTP", "false")
    backup_service.install()
    cognito_rules.install()
    with mock_aws():
        yield


def backup_role(trusted: str = "backup.amazonaws.com") -> str:
    """A new role whose trust policy lets `trusted` assume it: its ARN."""
    trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
             "Principal": {"Service": trusted}}]}  # fmt: skip
    iam = boto3.client("iam", region_name=REGION)
    role = iam.create_role(RoleName=unique("backup"), AssumeRolePolicyDocument=json.dumps(trust))
    return str(role["Role"]["Arn"])


def vault_and_plan(backup: Any) -> str:
    """A new vault and a plan backing up into it: the plan's id."""
    vault = unique("vault")
    backup.create_backup_vault(BackupVaultName=vault)
    return plan(backup, vault)


def plan(backup: Any, vault: str) -> str:
    return str(
        backup.create_backup_plan(
            BackupPlan={
                "BackupPlanName": unique("plan"),
                "Rules": [{"RuleName": "daily", "TargetBackupVaultName": vault}],
            }
        )["BackupPlanId"]
    )


def test_a_selection_is_kept_read_listed_and_deleted(aws: None) -> None:
    backup = boto3.client("backup", region_name=REGION)
    plan_id = vault_and_plan(backup)
    chosen = {"SelectionName": "tables", "IamRoleArn": backup_role(),
              "Resources": ["arn:aws:dynamodb:x"]}  # fmt: skip
    made = backup.create_backup_selection(BackupPlanId=plan_id, BackupSelection=chosen)
    got = backup.get_backup_selection(BackupPlanId=plan_id, SelectionId=made["SelectionId"])
    assert got["BackupSelection"] == chosen
    listed = backup.list_backup_selections(BackupPlanId=plan_id)["BackupSelectionsList"]
    assert [s["SelectionId"] for s in listed] == [made["SelectionId"]]
    backup.delete_backup_selection(BackupPlanId=plan_id, SelectionId=made["SelectionId"])
    assert backup.list_backup_selections(BackupPlanId=plan_id)["BackupSelectionsList"] == []


def test_a_plan_with_a_selection_cannot_be_deleted(aws: None) -> None:
    backup = boto3.client("backup", region_name=REGION)
    plan_id = vault_and_plan(backup)
    chosen = {"SelectionName": "tables", "IamRoleArn": backup_role(),
              "Resources": ["arn:aws:dynamodb:x"]}  # fmt: skip
    made = backup.create_backup_selection(BackupPlanId=plan_id, BackupSelection=chosen)
    with pytest.raises(ClientError, match="selections must be deleted"):
        backup.delete_backup_plan(BackupPlanId=plan_id)
    backup.delete_backup_selection(BackupPlanId=plan_id, SelectionId=made["SelectionId"])
    backup.delete_backup_plan(BackupPlanId=plan_id)


def test_a_selection_needs_a_plan_and_a_role(aws: None) -> None:
    backup = boto3.client("backup", region_name=REGION)
    chosen = {"SelectionName": "tables", "IamRoleArn": backup_role(), "Resources": []}
    with pytest.raises(ClientError) as missing:
        backup.create_backup_selection(BackupPlanId="no-such-plan", BackupSelection=chosen)
    assert missing.value.response["Error"]["Code"] == "ResourceNotFoundException"
    plan_id = vault_and_plan(backup)
    absent = "arn:aws:iam::123456789012:role/no-such-role"
    untrusting = backup_role(trusted="lambda.amazonaws.com")
    for role in ("backup", absent, untrusting):
        with pytest.raises(ClientError) as invalid:
            backup.create_backup_selection(
                BackupPlanId=plan_id, BackupSelection={**chosen, "IamRoleArn": role}
            )
        assert invalid.value.response["Error"]["Code"] == "InvalidParameterValueException", role
    made = backup.create_backup_selection(BackupPlanId=plan_id, BackupSelection=chosen)
    assert made["BackupPlanId"] == plan_id


def test_an_updated_plan_has_its_new_rules_and_a_new_version(aws: None) -> None:
    backup = boto3.client("backup", region_name=REGION)
    vault = unique("vault")
    backup.create_backup_vault(BackupVaultName=vault)
    plan_id = plan(backup, vault)
    before = backup.get_backup_plan(BackupPlanId=plan_id)
    rules = [{"RuleName": "monthly", "TargetBackupVaultName": vault}]
    name = before["BackupPlan"]["BackupPlanName"]
    backup.update_backup_plan(BackupPlanId=plan_id, BackupPlan={"BackupPlanName": name,
                                                                 "Rules": rules})  # fmt: skip
    after = backup.get_backup_plan(BackupPlanId=plan_id)
    assert [r["RuleName"] for r in after["BackupPlan"]["Rules"]] == ["monthly"]
    assert after["VersionId"] != before["VersionId"]


def test_threat_protection_needs_the_plus_plan(aws: None) -> None:
    cognito = boto3.client("cognito-idp", region_name=REGION)
    with pytest.raises(ClientError) as refused:
        cognito.create_user_pool(
            PoolName=unique("pool"), UserPoolAddOns={"AdvancedSecurityMode": "ENFORCED"}
        )
    assert refused.value.response["Error"]["Code"] == "FeatureUnavailableInTierException"
    assert "ESSENTIALS pricing tier" in refused.value.response["Error"]["Message"]
    pool = cognito.create_user_pool(
        PoolName=unique("pool"),
        UserPoolTier="PLUS",
        UserPoolAddOns={"AdvancedSecurityMode": "ENFORCED"},
    )["UserPool"]
    assert pool["UserPoolAddOns"] == {"AdvancedSecurityMode": "ENFORCED"}
    # An update that drops the pool to Essentials with threat protection on is refused too.
    with pytest.raises(ClientError) as downgraded:
        cognito.update_user_pool(
            UserPoolId=pool["Id"],
            UserPoolTier="ESSENTIALS",
            UserPoolAddOns={"AdvancedSecurityMode": "AUDIT"},
        )
    assert downgraded.value.response["Error"]["Code"] == "FeatureUnavailableInTierException"


def test_a_new_pool_is_on_the_essentials_plan(aws: None) -> None:
    cognito = boto3.client("cognito-idp", region_name=REGION)
    made = cognito.create_user_pool(PoolName=unique("pool"))["UserPool"]
    described = cognito.describe_user_pool(UserPoolId=made["Id"])["UserPool"]
    assert described["UserPoolTier"] == "ESSENTIALS"


def test_with_mfa_required_a_password_alone_gets_the_setup_challenge(aws: None) -> None:
    cognito = boto3.client("cognito-idp", region_name=REGION)
    pool = cognito.create_user_pool(PoolName=unique("pool"), MfaConfiguration="ON")["UserPool"]
    cognito.set_user_pool_mfa_config(
        UserPoolId=pool["Id"],
        SoftwareTokenMfaConfiguration={"Enabled": True},
        MfaConfiguration="ON",
    )
    client = cognito.create_user_pool_client(UserPoolId=pool["Id"], ClientName="c")
    client_id = client["UserPoolClient"]["ClientId"]
    cognito.admin_create_user(UserPoolId=pool["Id"], Username="ann", MessageAction="SUPPRESS")
    cognito.admin_set_user_password(UserPoolId=pool["Id"], Username="ann",
                                    Password="Correct-Horse-9!", Permanent=True)  # fmt: skip

    def sign_in() -> dict[str, Any]:
        return dict(
            cognito.admin_initiate_auth(
                UserPoolId=pool["Id"],
                ClientId=client_id,
                AuthFlow="ADMIN_USER_PASSWORD_AUTH",
                AuthParameters={"USERNAME": "ann", "PASSWORD": "Correct-Horse-9!"},
            )
        )

    challenge = sign_in()
    assert challenge["ChallengeName"] == "MFA_SETUP"
    assert "AuthenticationResult" not in challenge
    # Answering the setup before a token is verified is refused.
    with pytest.raises(ClientError):
        cognito.admin_respond_to_auth_challenge(
            UserPoolId=pool["Id"], ClientId=client_id, ChallengeName="MFA_SETUP",
            Session=challenge["Session"], ChallengeResponses={"USERNAME": "ann"},
        )  # fmt: skip
    association = cognito.associate_software_token(Session=challenge["Session"])
    with pytest.raises(ClientError) as wrong:
        cognito.verify_software_token(Session=association["Session"], UserCode="000000")
    assert wrong.value.response["Error"]["Code"] == "EnableSoftwareTokenMFAException"
    verified = cognito.verify_software_token(
        Session=association["Session"], UserCode=totp_code(association["SecretCode"])
    )
    signed = cognito.admin_respond_to_auth_challenge(
        UserPoolId=pool["Id"], ClientId=client_id, ChallengeName="MFA_SETUP",
        Session=verified["Session"], ChallengeResponses={"USERNAME": "ann"},
    )  # fmt: skip
    assert signed["AuthenticationResult"]["AccessToken"]
    again = sign_in()
    assert again["ChallengeName"] == "SOFTWARE_TOKEN_MFA"
    assert "AuthenticationResult" not in again
    with pytest.raises(ClientError) as mismatch:
        cognito.admin_respond_to_auth_challenge(
            UserPoolId=pool["Id"], ClientId=client_id, ChallengeName="SOFTWARE_TOKEN_MFA",
            Session=again["Session"],
            ChallengeResponses={"USERNAME": "ann", "SOFTWARE_TOKEN_MFA_CODE": "000000"},
        )  # fmt: skip
    assert mismatch.value.response["Error"]["Code"] == "CodeMismatchException"
    answered = cognito.admin_respond_to_auth_challenge(
        UserPoolId=pool["Id"], ClientId=client_id, ChallengeName="SOFTWARE_TOKEN_MFA",
        Session=again["Session"],
        ChallengeResponses={"USERNAME": "ann",
                            "SOFTWARE_TOKEN_MFA_CODE": totp_code(association["SecretCode"])},
    )  # fmt: skip
    assert answered["AuthenticationResult"]["AccessToken"]


def test_each_association_gets_a_secret_of_its_own(aws: None) -> None:
    """AssociateSoftwareToken returns "a unique private key"; a code from another user's
    secret does not verify."""
    cognito = boto3.client("cognito-idp", region_name=REGION)
    pool = cognito.create_user_pool(PoolName=unique("pool"))["UserPool"]["Id"]
    cognito.set_user_pool_mfa_config(UserPoolId=pool, MfaConfiguration="ON",
                                     SoftwareTokenMfaConfiguration={"Enabled": True})  # fmt: skip
    client = cognito.create_user_pool_client(UserPoolId=pool, ClientName="c")
    client_id = client["UserPoolClient"]["ClientId"]
    associations = []
    for user in ("bea", "cy"):
        cognito.admin_create_user(UserPoolId=pool, Username=user, MessageAction="SUPPRESS")
        cognito.admin_set_user_password(UserPoolId=pool, Username=user,
                                        Password="Correct-Horse-9!", Permanent=True)  # fmt: skip
        # USER_PASSWORD_AUTH asks for the setup too.
        challenge = cognito.initiate_auth(
            ClientId=client_id,
            AuthFlow="USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": user, "PASSWORD": "Correct-Horse-9!"},
        )
        assert challenge["ChallengeName"] == "MFA_SETUP"
        associations.append(cognito.associate_software_token(Session=challenge["Session"]))
    bea, cy = associations
    assert bea["SecretCode"] != cy["SecretCode"]
    with pytest.raises(ClientError):
        cognito.verify_software_token(Session=cy["Session"], UserCode=totp_code(bea["SecretCode"]))


def test_totp_needs_turning_on_for_the_pool(aws: None) -> None:
    cognito = boto3.client("cognito-idp", region_name=REGION)
    pool = cognito.create_user_pool(PoolName=unique("pool"))["UserPool"]["Id"]
    client = cognito.create_user_pool_client(UserPoolId=pool, ClientName="c")
    cognito.admin_create_user(UserPoolId=pool, Username="dee", MessageAction="SUPPRESS")
    cognito.admin_set_user_password(UserPoolId=pool, Username="dee",
                                    Password="Correct-Horse-9!", Permanent=True)  # fmt: skip
    signed = cognito.admin_initiate_auth(
        UserPoolId=pool,
        ClientId=client["UserPoolClient"]["ClientId"],
        AuthFlow="ADMIN_USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": "dee", "PASSWORD": "Correct-Horse-9!"},
    )
    with pytest.raises(ClientError) as refused:
        cognito.associate_software_token(AccessToken=signed["AuthenticationResult"]["AccessToken"])
    assert refused.value.response["Error"]["Code"] == "SoftwareTokenMFANotFoundException"
