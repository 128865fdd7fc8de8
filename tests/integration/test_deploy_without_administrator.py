"""Deploying without administrator rights, as docs/deploying.md's section of that name says: an
administrator runs `make params` and `make bootstrap` once; then a principal holding only the
deployer policy runs `make deploy`, an update (a changed function and a changed table
property), an update that removes resources, `make outputs` and `make destroy`.

The emulator authorizes every call SAM CLI and the commands make as that principal, and every
resource operation CloudFormation performs as the bootstrap's execution role, with the same
policy engine as the functions' calls; each step asserts that nothing either of them asked
for was refused, and what the step did to the account.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.integration.accounts import (
    CI_ROLE,
    ENV,
    EXECUTION_ROLE,
    STACK,
    Account,
    account,
    by_role,
    refused,
)

pytestmark = pytest.mark.integration

REGION = "eu-west-1"
BOUNDARY = f"{STACK}-boundary"
DEPLOYER_POLICY = f"{STACK}-deployer"


@pytest.fixture(scope="module")
def deployed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Account]:
    with account(tmp_path_factory.mktemp("without-administrator")) as made:
        yield made


def as_deployer(made: Account) -> dict[str, str]:
    iam = made.client("iam", REGION)
    arn = next(
        p["Arn"] for p in iam.list_policies(Scope="Local")["Policies"]
        if p["PolicyName"] == DEPLOYER_POLICY
    )  # fmt: skip
    return made.as_role(made.ci_role([arn]), REGION)


def deployer_make(made: Account, *args: str, stdin: str = "") -> str:
    """A make target as the CI role; its output, after checking that it succeeded and that
    neither the deployer nor the execution role was refused anything on the way."""
    before = len(made.decisions())
    result = made.deployment.make(*args, stdin=stdin, env=as_deployer(made))
    assert result.returncode == 0, result.stdout[-4000:]
    during = made.decisions()[before:]
    assert refused(during, CI_ROLE, EXECUTION_ROLE) == [], result.stdout[-2000:]
    return result.stdout


def stack(made: Account) -> dict[str, Any]:
    found = made.client("cloudformation", REGION).describe_stacks(StackName=STACK)
    return dict(found["Stacks"][0])


def role_names(made: Account) -> list[str]:
    resources = made.client("cloudformation", REGION).describe_stack_resources(StackName=STACK)
    return [
        r["PhysicalResourceId"] for r in resources["StackResources"]
        if r["ResourceType"] == "AWS::IAM::Role"
    ]  # fmt: skip


def test_an_administrator_bootstraps_once(deployed: Account) -> None:
    params = deployed.admin("params", f"REGION={REGION}", f"ENV={ENV}")
    assert params.returncode == 0, params.stdout[-3000:]
    # Before the bootstrap, a deploy stops at its preflight with the command that fixes it.
    early = deployed.admin("deploy", f"REGION={REGION}", f"ENV={ENV}")
    assert early.returncode != 0
    fix = f"`make bootstrap REGION={REGION} ENV={ENV}` once, which sets it"
    failed = [line for line in early.stdout.splitlines() if line.startswith("make deploy: ")]
    assert len(failed) == 1 and failed[0].endswith(fix), early.stdout[-2000:]
    stacks = deployed.client("cloudformation", REGION).describe_stacks()["Stacks"]
    assert STACK not in {s["StackName"] for s in stacks}
    first = deployed.admin("bootstrap", f"REGION={REGION}", f"ENV={ENV}")
    assert first.returncode == 0, first.stdout[-3000:]
    iam = deployed.client("iam", REGION)
    role = iam.get_role(RoleName=EXECUTION_ROLE)["Role"]
    # samconfig.toml now passes the execution role to every `sam deploy --config-env dev`.
    config = tomllib.loads((deployed.root / "samconfig.toml").read_text())
    assert config[ENV]["deploy"]["parameters"]["role_arn"] == role["Arn"]
    trusted = role["AssumeRolePolicyDocument"]["Statement"]
    assert [s["Principal"] for s in trusted] == [{"Service": "cloudformation.amazonaws.com"}]
    # How to give a principal the deployer policy is printed, with its ARN.
    assert re.search(rf"attach-role-policy .*policy/{DEPLOYER_POLICY}", first.stdout)

    bootstrap_stack = f"{STACK}-bootstrap"
    cloudformation = deployed.client("cloudformation", REGION)
    events = len(cloudformation.describe_stack_events(StackName=bootstrap_stack)["StackEvents"])
    again = deployed.admin("bootstrap", f"REGION={REGION}", f"ENV={ENV}")
    assert again.returncode == 0, again.stdout[-3000:]
    after = cloudformation.describe_stack_events(StackName=bootstrap_stack)["StackEvents"]
    assert len(after) == events, "a second bootstrap changed the stack"


def test_the_deployer_deploys_with_the_execution_role(deployed: Account) -> None:
    before = len(deployed.decisions())
    deployer_make(deployed, "deploy", f"REGION={REGION}", f"ENV={ENV}")
    assert stack(deployed)["StackStatus"] == "CREATE_COMPLETE"
    during = deployed.decisions()[before:]
    # CloudFormation created the resources as the execution role, SAM CLI called as the CI
    # role: both were checked, many times, and neither was refused.
    assert len(by_role(during, EXECUTION_ROLE)) > 100
    assert len(by_role(during, CI_ROLE)) > 5
    iam = deployed.client("iam", REGION)
    boundary = next(
        p["Arn"] for p in iam.list_policies(Scope="Local")["Policies"]
        if p["PolicyName"] == BOUNDARY
    )  # fmt: skip
    roles = role_names(deployed)
    assert roles
    for name in roles:
        found = iam.get_role(RoleName=name)["Role"]
        assert found["PermissionsBoundary"]["PermissionsBoundaryArn"] == boundary, name


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert text.count(old) == 1, f"{path.name} no longer has {old!r}"
    path.write_text(text.replace(old, new))


def test_the_deployer_updates_a_function_and_a_table(deployed: Account) -> None:
    lambda_ = deployed.client("lambda", REGION)
    health = f"{STACK}-health"
    code_before = lambda_.get_function(FunctionName=health)["Configuration"]["CodeSha256"]
    handler = deployed.root / "functions" / "health" / "app.py"
    handler.write_text(handler.read_text() + "\n# changed by an update\n")
    edit(
        deployed.root / "template_gen" / "spec.py",
        '    sort_key=Key("id"),\n    purpose="items, partitioned by owner",',
        '    sort_key=Key("id"),\n    ttl_attribute="expires_at",\n'
        '    purpose="items, partitioned by owner",',
    )

    deployer_make(deployed, "deploy", f"REGION={REGION}", f"ENV={ENV}")

    assert stack(deployed)["StackStatus"] == "UPDATE_COMPLETE"
    code_after = lambda_.get_function(FunctionName=health)["Configuration"]["CodeSha256"]
    assert code_after != code_before
    ttl = deployed.client("dynamodb", REGION).describe_time_to_live(TableName=f"{STACK}-items")
    assert ttl["TimeToLiveDescription"]["AttributeName"] == "expires_at"


def test_the_deployer_removes_resources(deployed: Account) -> None:
    spec = deployed.root / "template_gen" / "spec.py"
    text = spec.read_text()
    start = text.index('        Function(\n            name="health",')
    end = text.index('        Function(\n            name="users",')
    spec.write_text(text[:start] + text[end:])
    removed_role = f"{STACK}-health-{REGION}"
    assert removed_role in role_names(deployed)

    deployer_make(deployed, "deploy", f"REGION={REGION}", f"ENV={ENV}")

    assert stack(deployed)["StackStatus"] == "UPDATE_COMPLETE"
    assert removed_role not in role_names(deployed)
    functions = deployed.client("lambda", REGION).list_functions()["Functions"]
    assert f"{STACK}-health" not in {f["FunctionName"] for f in functions}
    iam = deployed.client("iam", REGION)
    with pytest.raises(iam.exceptions.NoSuchEntityException):
        iam.get_role(RoleName=removed_role)


def test_the_deployer_reads_the_outputs(deployed: Account) -> None:
    # Drift detection is not modelled by the emulator (tests/ops covers `make drift` against
    # a recorded answer); its deployer grants are listed in build/deploy-iam-report.md.
    shown = deployer_make(
        deployed, "-s", "outputs", f"REGION={REGION}", f"ENV={ENV}", "FORMAT=json"
    )
    assert stack(deployed)["Outputs"], "the stack has outputs to show"
    for output in stack(deployed)["Outputs"]:
        assert output["OutputValue"] in shown, output["OutputKey"]


def test_the_deployer_destroys(deployed: Account) -> None:
    deployer_make(deployed, "destroy", f"REGION={REGION}", f"ENV={ENV}", stdin=f"{STACK}\n")
    stacks = deployed.client("cloudformation", REGION).describe_stacks()["Stacks"]
    assert STACK not in {s["StackName"] for s in stacks}
    # Nothing of the deploy is left but what DeletionPolicy retains: the roles are gone.
    iam = deployed.client("iam", REGION)
    left = {r["RoleName"] for r in iam.list_roles()["Roles"]}
    assert not {name for name in left if name.startswith(f"{STACK}-") and name != EXECUTION_ROLE}
