"""The deploy commands, run as a user runs them: the Makefile targets and the real SAM CLI,
against the emulator through AWS_ENDPOINT_URL, in a copy of the project.

An administrator runs `make params` and `make bootstrap` (per region); every other command
runs as a role that holds only the bootstrap's deployer policy, as a CI system's would, and
CloudFormation acts as the bootstrap's execution role. In order: params and deploy create the
stack; a second deploy changes nothing; a change to a
layer reaches `live`; deploy-all covers two regions; destroy, then deploy, takes the retained
data back. Each step asserts on what the command did in the emulator, not on its text.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import os
import queue
import signal
import subprocess
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import pytest

from artifacts import manifest
from offline.common.endpoint import Endpoint
from offline.stack import deployer
from ops import bootstrap
from template_gen.model import Function
from template_gen.naming import function_id
from template_gen.spec import SPEC
from tests.integration.conftest import Deployment

pytestmark = pytest.mark.integration

REGION, OTHER_REGION, ENV = "us-east-1", "eu-west-1", "dev"
STACK = f"{SPEC.project}-{ENV}"


def outputs(deployment: Deployment, region: str = REGION) -> dict[str, str]:
    stack = deployment.client("cloudformation", region).describe_stacks(StackName=STACK)
    return {o["OutputKey"]: o["OutputValue"] for o in stack["Stacks"][0].get("Outputs", [])}


def versions(deployment: Deployment, region: str = REGION) -> dict[str, tuple[list[str], str]]:
    """Each function's published versions and where its live alias points."""
    lambda_ = deployment.client("lambda", region)
    found = {}
    for function in SPEC.functions:
        name = f"{STACK}-{function.name}"
        published = [
            v["Version"] for v in lambda_.list_versions_by_function(FunctionName=name)["Versions"]
        ]
        live = lambda_.get_alias(FunctionName=name, Name="live")["FunctionVersion"]
        found[function.name] = (published, live)
    return found


def processed(deployment: Deployment, region: str = REGION) -> dict[str, Any]:
    cloudformation = deployment.client("cloudformation", region)
    body = cloudformation.get_template(StackName=STACK, TemplateStage="Processed")
    return dict(body["TemplateBody"])


def layer_names(function: Function) -> list[str]:
    return [layer.name for layer in SPEC.layers_of(function)]


def physical_ids(deployment: Deployment, region: str = REGION) -> dict[str, str]:
    cloudformation = deployment.client("cloudformation", region)
    return {
        r["LogicalResourceId"]: r["PhysicalResourceId"]
        for page in cloudformation.get_paginator("list_stack_resources").paginate(StackName=STACK)
        for r in page["StackResourceSummaries"]
    }


def test_params_then_deploy_creates_the_stack(deployment: Deployment) -> None:
    params = deployment.make("params", f"REGION={REGION}", f"ENV={ENV}", env=deployment.environment)
    assert params.returncode == 0, params.stdout
    ssm = deployment.client("ssm", REGION)
    parameter = ssm.get_parameter(Name=f"/{SPEC.project}/{ENV}/cursor-signing-key")
    assert parameter["Parameter"]["Type"] == "SecureString"

    deployed = deployment.make("deploy", f"REGION={REGION}", f"ENV={ENV}")
    assert deployed.returncode == 0, deployed.stdout[-3000:]
    stack = deployment.client("cloudformation", REGION).describe_stacks(StackName=STACK)
    assert stack["Stacks"][0]["StackStatus"] == "CREATE_COMPLETE"
    found = outputs(deployment)
    assert set(found) >= {"ApiUrl", "UserPoolId", "UserPoolClientId", "AlarmTopicArn"}
    api_id = deployment.client("apigatewayv2", REGION).get_apis()["Items"][0]["ApiId"]
    assert found["ApiUrl"] == f"https://{api_id}.execute-api.{REGION}.amazonaws.com/"
    dynamodb = deployment.client("dynamodb", REGION)
    for key in ("UsersTableName", "ItemsTableName", "IdempotencyTableName"):
        assert dynamodb.describe_table(TableName=found[key])["Table"]["TableStatus"] == "ACTIVE"


def test_make_outputs_prints_the_deployed_outputs(deployment: Deployment) -> None:
    table = deployment.make("outputs", f"REGION={REGION}", f"ENV={ENV}")
    assert table.returncode == 0, table.stdout
    assert all(key in table.stdout for key in outputs(deployment)), table.stdout
    shown = deployment.make("-s", "outputs", f"REGION={REGION}", f"ENV={ENV}", "FORMAT=json")
    assert shown.returncode == 0, shown.stdout
    listed = {o["OutputKey"]: o["OutputValue"] for o in json.loads(shown.stdout)}
    assert listed == outputs(deployment)


def test_make_logs_follows_a_functions_log_group(deployment: Deployment) -> None:
    """`make logs` keeps running; a line written to the function's group while it runs
    shows up in its output."""
    tail = subprocess.Popen(
        ["make", "--no-print-directory", "logs", "FUNCTION=users", f"REGION={REGION}",
         f"ENV={ENV}"],
        cwd=deployment.root,
        env=deployment.caller,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,  # so the whole group (make, python, sam) stops at the end
    )  # fmt: skip
    lines: queue.Queue[str] = queue.Queue()

    def forward() -> None:
        for line in tail.stdout or ():
            lines.put(line)

    threading.Thread(target=forward, daemon=True).start()
    marker = f"written while make logs runs {uuid.uuid4()}"
    logs = deployment.client("logs", REGION)
    group = f"/aws/lambda/{STACK}-users"
    logs.create_log_stream(logGroupName=group, logStreamName="make-logs")
    seen: list[str] = []
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and not any(marker in line for line in seen):
            # Again each round: `--tail` starts from the moment SAM CLI is up.
            logs.put_log_events(
                logGroupName=group,
                logStreamName="make-logs",
                logEvents=[{"timestamp": int(time.time() * 1000), "message": marker}],
            )
            with contextlib.suppress(queue.Empty):
                while True:
                    seen.append(lines.get(timeout=3))
            assert tail.poll() is None, "".join(seen)
    finally:
        os.killpg(tail.pid, signal.SIGTERM)
        tail.wait(timeout=30)
    assert any(marker in line for line in seen), "".join(seen)


def test_every_resource_of_the_template_is_created(deployment: Deployment) -> None:
    """Nothing is skipped: the types moto's CloudFormation lacks are made by the emulator.
    Only a resource whose Condition is false is absent (no alarm e-mail, no backups in dev)."""
    created, expected = deployment.created_and_expected(REGION, STACK)
    assert "BackupVault" not in expected
    assert created == expected


def test_functions_run_the_built_zips_and_name_what_exists(deployment: Deployment) -> None:
    zips = manifest.load(deployment.root / "build" / "manifest.json").paths()
    lambda_ = deployment.client("lambda", REGION)
    for function in SPEC.functions:
        config = lambda_.get_function_configuration(FunctionName=f"{STACK}-{function.name}")
        built = (deployment.root / "build" / zips[function.name]).read_bytes()
        assert config["CodeSha256"] == base64.b64encode(hashlib.sha256(built).digest()).decode()
        variables = config["Environment"]["Variables"]
        for key, value in variables.items():
            if key.endswith("_TABLE"):
                deployment.client("dynamodb", REGION).describe_table(TableName=value)
            elif key.endswith("_BUCKET"):
                deployment.client("s3", REGION).head_bucket(Bucket=value)
            elif key.endswith("_PARAMETER"):
                deployment.client("ssm", REGION).get_parameter(Name=value)


def test_a_second_deploy_changes_nothing(deployment: Deployment) -> None:
    cloudformation = deployment.client("cloudformation", REGION)
    before = cloudformation.describe_stacks(StackName=STACK)["Stacks"][0]
    published = versions(deployment)
    again = deployment.make("deploy", f"REGION={REGION}", f"ENV={ENV}")
    assert again.returncode == 0, again.stdout[-3000:]
    after = cloudformation.describe_stacks(StackName=STACK)["Stacks"][0]
    assert after["StackStatus"] == before["StackStatus"]  # no update ran
    assert after.get("LastUpdatedTime") == before.get("LastUpdatedTime")
    assert versions(deployment) == published  # no new Lambda version


def test_a_change_to_a_layer_reaches_live(deployment: Deployment) -> None:
    before = versions(deployment)
    shared = deployment.root / "layers" / "shared" / "python" / "backend_kit" / "__init__.py"
    shared.write_text(shared.read_text() + "\n# a change that only the layer carries\n")
    deployed = deployment.make("deploy", f"REGION={REGION}", f"ENV={ENV}")
    assert deployed.returncode == 0, deployed.stdout[-3000:]
    after = versions(deployment)
    resources = processed(deployment)["Resources"]
    resources_now = physical_ids(deployment)
    users_of_shared = {f.name for f in SPEC.functions if "shared" in layer_names(f)}
    assert users_of_shared and users_of_shared != {f.name for f in SPEC.functions}
    for function in SPEC.functions:
        layers = resources[function_id(function.name)]["Properties"].get("Layers", [])
        uses_shared = function.name in users_of_shared
        (old_published, old_live), (published, live) = before[function.name], after[function.name]
        if uses_shared:
            assert live not in old_published, function.name
            assert live == published[-1]
        else:
            assert (published, live) == (old_published, old_live)
        # What `live` runs is the stack's current layer versions.
        serving = deployment.client("lambda", REGION).get_function_configuration(
            FunctionName=f"{STACK}-{function.name}", Qualifier="live"
        )
        current = {resources_now[layer["Ref"]] for layer in layers}
        assert {layer["Arn"] for layer in serving.get("Layers", [])} == current, function.name


def test_deploy_all_covers_each_region(deployment: Deployment) -> None:
    params = deployment.make(
        "params", f"REGION={OTHER_REGION}", f"ENV={ENV}", env=deployment.environment
    )
    assert params.returncode == 0, params.stdout
    result = deployment.make("deploy-all", f"REGIONS={REGION} {OTHER_REGION}", f"ENV={ENV}")
    assert result.returncode == 0, result.stdout[-3000:]
    summary = result.stdout.splitlines()
    for region in (REGION, OTHER_REGION):
        status = deployment.client("cloudformation", region).describe_stacks(StackName=STACK)
        stack_status = status["Stacks"][0]["StackStatus"]
        assert stack_status.endswith("_COMPLETE") and "ROLLBACK" not in stack_status
        url = outputs(deployment, region)["ApiUrl"]
        assert any(line.startswith(region) and stack_status in line and url in line
                   for line in summary), summary  # fmt: skip
    # One account, two regions: the global IAM role names must not collide.
    roles = {r["RoleName"] for r in deployment.client("iam", REGION).list_roles()["Roles"]}
    for region in (REGION, OTHER_REGION):
        for function in SPEC.functions:
            assert f"{STACK}-{function.name}-{region}" in roles


def test_destroy_then_deploy_takes_the_data_back(deployment: Deployment) -> None:
    before = outputs(deployment)
    items = deployment.client("dynamodb", REGION)
    item = {"owner": {"S": "alice"}, "id": {"S": "kept-across-destroy"}}
    items.put_item(TableName=before["ItemsTableName"], Item=item)
    cognito = deployment.client("cognito-idp", REGION)
    cognito.admin_create_user(UserPoolId=before["UserPoolId"], Username="alice",
                              MessageAction="SUPPRESS")  # fmt: skip

    destroyed = deployment.make("destroy", f"REGION={REGION}", f"ENV={ENV}", stdin=f"{STACK}\n")
    assert destroyed.returncode == 0, destroyed.stdout
    cloudformation = deployment.client("cloudformation", REGION)
    assert STACK not in {s["StackName"] for s in cloudformation.describe_stacks()["Stacks"]}

    redeployed = deployment.make("deploy", f"REGION={REGION}", f"ENV={ENV}")
    assert redeployed.returncode == 0, redeployed.stdout[-3000:]
    after = outputs(deployment)
    for kept in ("UserPoolId", "StackKeyArn", "ItemsTableName", "AssetsBucketName"):
        assert after[kept] == before[kept], kept
    key = {k: item[k] for k in ("owner", "id")}
    assert items.get_item(TableName=after["ItemsTableName"], Key=key)["Item"] == item
    # The user from before the destroy signs in through the new stack's app client.
    cognito.admin_set_user_password(UserPoolId=after["UserPoolId"], Username="alice",
                                    Password="Correct-Horse-9!", Permanent=True)  # fmt: skip
    signed_in = cognito.admin_initiate_auth(
        UserPoolId=after["UserPoolId"],
        ClientId=after["UserPoolClientId"],
        AuthFlow="ADMIN_USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": "alice", "PASSWORD": "Correct-Horse-9!"},
    )
    assert signed_in["AuthenticationResult"]["AccessToken"]


def test_without_the_import_a_redeploy_after_destroy_fails(deployment: Deployment) -> None:
    """The guard above is needed: `sam deploy` alone cannot create over retained names."""
    region = OTHER_REGION
    destroyed = deployment.make("destroy", f"REGION={region}", f"ENV={ENV}", stdin=f"{STACK}\n")
    assert destroyed.returncode == 0, destroyed.stdout
    plain = deployment.sam_deploy(region)
    assert plain.returncode != 0
    status = deployment.client("cloudformation", region).describe_stacks(StackName=STACK)
    assert status["Stacks"][0]["StackStatus"] == "ROLLBACK_COMPLETE"
    # make deploy clears the failed first attempt, imports, and completes.
    deployed = deployment.make("deploy", f"REGION={region}", f"ENV={ENV}")
    assert deployed.returncode == 0, deployed.stdout[-3000:]


@pytest.fixture(scope="module")
def deployment(deploy_project: Path, emulator_url: str) -> Deployment:
    """The project copy, bootstrapped in both regions by the administrator; its make targets
    run as a role holding the deployer policy alone."""
    admin = Deployment(deploy_project, emulator_url)
    for region in (REGION, OTHER_REGION):
        made = admin.make("bootstrap", f"REGION={region}", f"ENV={ENV}")
        assert made.returncode == 0, made.stdout[-3000:]
    endpoint = Endpoint(emulator_url)
    policy = bootstrap.outputs(endpoint.client("cloudformation", REGION), ENV).deployer_policy
    role = deployer.role(endpoint, "ci-deployer", [policy])
    session = deployer.environment(endpoint, REGION, deployer.session(endpoint, role, REGION))
    return Deployment(deploy_project, emulator_url, {**admin.environment, **session})
