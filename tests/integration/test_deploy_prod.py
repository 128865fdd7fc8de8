"""`ENV=prod` deployed as a user deploys it, into the emulator: the production profile in place.

An administrator runs `make params` and `make bootstrap`; `make deploy` runs as a role with the
deployer policy alone, and CloudFormation acts as the bootstrap's execution role, so every
resource the profile adds is created with the permissions an account would give. Each test
asserts on what the emulator holds afterwards.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from offline.common.endpoint import Endpoint
from offline.stack import deployer
from ops import bootstrap
from template_gen.naming import Names
from template_gen.spec import SPEC
from tests.integration.conftest import Deployment

pytestmark = pytest.mark.integration

REGION, ENV = "us-west-2", "prod"
STACK = f"{SPEC.project}-{ENV}"
NAMES = Names(SPEC.project)


def outputs(deployment: Deployment) -> dict[str, str]:
    stack = deployment.client("cloudformation", REGION).describe_stacks(StackName=STACK)
    return {o["OutputKey"]: o["OutputValue"] for o in stack["Stacks"][0].get("Outputs", [])}


def resolved(name: str) -> str:
    return name.replace("${Environment}", ENV).replace("${AWS::Region}", REGION)


def make_token(deployment: Deployment, state: Path, user: str) -> subprocess.CompletedProcess:
    """`make token USER=..` against a local stack whose state file names this stack."""
    return subprocess.run(
        [sys.executable, "-m", "offline", "token", user],
        cwd=deployment.root,
        env={**deployment.environment, "OFFLINE_STATE": str(state)},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_prod_deploys_with_its_profile(deployment: Deployment) -> None:
    deployed = deployment.make("deploy", f"REGION={REGION}", f"ENV={ENV}")
    assert deployed.returncode == 0, deployed.stdout[-3000:]
    found = outputs(deployment)
    cloudformation = deployment.client("cloudformation", REGION)
    assert cloudformation.describe_stacks(StackName=STACK)["Stacks"][0]["StackStatus"] == (
        "CREATE_COMPLETE"
    )
    pool = deployment.client("cognito-idp", REGION).describe_user_pool(
        UserPoolId=found["UserPoolId"]
    )["UserPool"]
    assert pool["MfaConfiguration"] == "ON"
    assert pool["UserPoolTier"] == "PLUS"
    assert pool["UserPoolAddOns"] == {"AdvancedSecurityMode": "ENFORCED"}
    dynamodb = deployment.client("dynamodb", REGION)
    for table in SPEC.tables:
        name = resolved(NAMES.table(table.name).pattern)
        assert dynamodb.describe_table(TableName=name)["Table"]["DeletionProtectionEnabled"]
        backups = dynamodb.describe_continuous_backups(TableName=name)
        recovery = backups["ContinuousBackupsDescription"]["PointInTimeRecoveryDescription"]
        assert recovery["PointInTimeRecoveryStatus"] == "ENABLED", name


def test_every_resource_of_prods_template_is_created(deployment: Deployment) -> None:
    created, expected = deployment.created_and_expected(REGION, STACK)
    assert {"BackupVault", "BackupPlan", "BackupSelection", "BackupRole"} <= set(expected)
    assert created == expected


def test_the_tables_are_in_a_backup_plan_with_a_vault_of_their_own(
    deployment: Deployment,
) -> None:
    found = outputs(deployment)
    backup = deployment.client("backup", REGION)
    vault = backup.describe_backup_vault(BackupVaultName=found["BackupVaultName"])
    kms = deployment.client("kms", REGION)
    backup_key = kms.describe_key(KeyId=resolved(NAMES.backup_key_alias().pattern))
    assert vault["EncryptionKeyArn"] == backup_key["KeyMetadata"]["Arn"]
    assert vault["EncryptionKeyArn"] != found["StackKeyArn"]
    (plan_summary,) = [
        p
        for p in backup.list_backup_plans()["BackupPlansList"]
        if p["BackupPlanName"] == resolved(NAMES.backup_plan().pattern)
    ]
    plan = backup.get_backup_plan(BackupPlanId=plan_summary["BackupPlanId"])["BackupPlan"]
    rules = {rule["RuleName"]: rule for rule in plan["Rules"]}
    assert set(rules) == {"daily", "monthly"}
    for rule in rules.values():
        assert rule["TargetBackupVaultName"] == found["BackupVaultName"]
    (selection,) = backup.list_backup_selections(BackupPlanId=plan_summary["BackupPlanId"])[
        "BackupSelectionsList"
    ]
    chosen = backup.get_backup_selection(
        BackupPlanId=plan_summary["BackupPlanId"], SelectionId=selection["SelectionId"]
    )["BackupSelection"]
    dynamodb = deployment.client("dynamodb", REGION)
    tables = {
        dynamodb.describe_table(TableName=resolved(NAMES.table(t.name).pattern))["Table"][
            "TableArn"
        ]
        for t in SPEC.tables
    }
    assert set(chosen["Resources"]) == tables
    role = chosen["IamRoleArn"].rsplit("/", 1)[-1]
    iam = deployment.client("iam", REGION)
    assert not iam.list_attached_role_policies(RoleName=role)["AttachedPolicies"]
    trust = iam.get_role(RoleName=role)["Role"]["AssumeRolePolicyDocument"]
    if isinstance(trust, str):
        trust = json.loads(trust)
    assert trust["Statement"][0]["Principal"] == {"Service": "backup.amazonaws.com"}


def test_make_token_enrols_totp_then_signs_in_with_it(
    deployment: Deployment, tmp_path: Path
) -> None:
    """MFA is required in prod: `make token` still gives a token, enrolling the user in TOTP
    on first use and answering the TOTP challenge after that."""
    found = outputs(deployment)
    state = tmp_path / "local" / "state.json"
    state.parent.mkdir()
    local = {
        "endpoint": deployment.endpoint,
        "region": REGION,
        "environment": ENV,
        "user_pool_id": found["UserPoolId"],
        "client_id": found["UserPoolClientId"],
    }
    state.write_text(json.dumps(local))
    cognito = deployment.client("cognito-idp", REGION)
    tokens = []
    for _ in range(2):
        made = make_token(deployment, state, "mfa-user")
        assert made.returncode == 0, made.stdout + made.stderr
        tokens.append(made.stdout.strip().splitlines()[-1])
    user = cognito.get_user(AccessToken=tokens[-1])
    assert user["Username"] == "mfa-user"
    assert user.get("UserMFASettingList") == ["SOFTWARE_TOKEN_MFA"]
    # Without the second factor, a correct password is not enough.
    cognito.admin_set_user_password(UserPoolId=found["UserPoolId"], Username="mfa-user",
                                    Password="Correct-Horse-9!", Permanent=True)  # fmt: skip
    answer = cognito.admin_initiate_auth(
        UserPoolId=found["UserPoolId"],
        ClientId=found["UserPoolClientId"],
        AuthFlow="ADMIN_USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": "mfa-user", "PASSWORD": "Correct-Horse-9!"},
    )
    assert "AuthenticationResult" not in answer
    assert answer["ChallengeName"] == "SOFTWARE_TOKEN_MFA"


def test_destroy_keeps_the_vault_and_a_redeploy_takes_it_back(deployment: Deployment) -> None:
    before = outputs(deployment)
    destroyed = deployment.make("destroy", f"REGION={REGION}", f"ENV={ENV}", stdin=f"{STACK}\n")
    assert destroyed.returncode == 0, destroyed.stdout
    backup = deployment.client("backup", REGION)
    kept = backup.describe_backup_vault(BackupVaultName=before["BackupVaultName"])
    plans = backup.list_backup_plans()["BackupPlansList"]
    assert resolved(NAMES.backup_plan().pattern) not in {p["BackupPlanName"] for p in plans}

    redeployed = deployment.make("deploy", f"REGION={REGION}", f"ENV={ENV}")
    assert redeployed.returncode == 0, redeployed.stdout[-3000:]
    after = outputs(deployment)
    assert after["BackupVaultName"] == before["BackupVaultName"]
    again = backup.describe_backup_vault(BackupVaultName=after["BackupVaultName"])
    assert again["BackupVaultArn"] == kept["BackupVaultArn"]
    assert again["EncryptionKeyArn"] == kept["EncryptionKeyArn"]
    plans = backup.list_backup_plans()["BackupPlansList"]
    assert resolved(NAMES.backup_plan().pattern) in {p["BackupPlanName"] for p in plans}


@pytest.fixture(scope="module")
def deployment(deploy_project: Path, emulator_url: str) -> Deployment:
    """The project copy with prod's parameters and bootstrap made by the administrator; its
    make targets run as a role holding the deployer policy alone."""
    admin = Deployment(deploy_project, emulator_url)
    for target in ("params", "bootstrap"):
        made = admin.make(target, f"REGION={REGION}", f"ENV={ENV}")
        assert made.returncode == 0, made.stdout[-3000:]
    endpoint = Endpoint(emulator_url)
    policy = bootstrap.outputs(endpoint.client("cloudformation", REGION), ENV).deployer_policy
    role = deployer.role(endpoint, "prod-deployer", [policy])
    session = deployer.environment(endpoint, REGION, deployer.session(endpoint, role, REGION))
    return Deployment(deploy_project, emulator_url, {**admin.environment, **session})
