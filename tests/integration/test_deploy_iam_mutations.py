"""The deploy policies are needed, each for its reason: take one grant away and the deploy
fails where AWS would fail it, with AWS's message.

- The execution role without dynamodb:CreateTable: CloudFormation's create of a table is
  refused, the message names the action and the table, and the stack rolls back.
- A deployer without iam:PassRole: CreateChangeSet is refused; no stack is made.
- A template role without the permissions boundary: `make deploy`'s preflight stops it,
  naming the role; `sam deploy` alone gets as far as CloudFormation, whose iam:CreateRole
  the execution role may only make with the boundary.
- A template role granted more than the boundary: the preflight stops it too (a role beyond
  its boundary would deploy on AWS, with the excess silently ineffective).

Each case runs in a region of its own, so what a failed create retains cannot collide with
the next case's names.
"""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Iterator
from typing import Any

import pytest

from ops.deploy import sam_deploy_command
from tests.integration.accounts import ENV, EXECUTION_ROLE, STACK, Account, account, refused

pytestmark = pytest.mark.integration

DEPLOYER_POLICY = f"{STACK}-deployer"


@pytest.fixture(scope="module")
def mutated(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Account]:
    with account(tmp_path_factory.mktemp("mutations"), expect_denials=True) as made:
        yield made


PREPARED: set[tuple[int, str]] = set()


def prepared(made: Account, region: str) -> None:
    """What an administrator does once per region: the SecureStrings and the bootstrap."""
    if (id(made), region) in PREPARED:
        return
    PREPARED.add((id(made), region))
    for target in ("params", "bootstrap"):
        result = made.admin(target, f"REGION={region}", f"ENV={ENV}")
        assert result.returncode == 0, result.stdout[-3000:]


def policy_arn(made: Account, name: str) -> str:
    policies = made.client("iam", "us-east-1").list_policies(Scope="Local")["Policies"]
    return next(p["Arn"] for p in policies if p["PolicyName"] == name)


def document(made: Account, arn: str) -> dict[str, Any]:
    iam = made.client("iam", "us-east-1")
    version = iam.get_policy(PolicyArn=arn)["Policy"]["DefaultVersionId"]
    found = iam.get_policy_version(PolicyArn=arn, VersionId=version)["PolicyVersion"]
    text = found["Document"]
    return dict(json.loads(text) if isinstance(text, str) else text)


def without(policy: dict[str, Any], action: str) -> tuple[dict[str, Any], int]:
    """The policy with `action` taken out of every statement; how many statements had it."""
    statements, hits = [], 0
    for statement in policy["Statement"]:
        actions = (
            statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        )
        kept = [a for a in actions if a != action]
        hits += len(kept) != len(actions)
        if kept:
            statements.append({**statement, "Action": kept})
    return {**policy, "Statement": statements}, hits


def events(made: Account, region: str) -> list[dict[str, Any]]:
    cloudformation = made.client("cloudformation", region)
    return list(cloudformation.describe_stack_events(StackName=STACK)["StackEvents"])


def status(made: Account, region: str) -> str:
    found = made.client("cloudformation", region).describe_stacks(StackName=STACK)
    return str(found["Stacks"][0]["StackStatus"])


def test_a_deployer_without_pass_role_is_refused_at_create_change_set(mutated: Account) -> None:
    region = "us-east-1"
    prepared(mutated, region)
    policy, hits = without(document(mutated, policy_arn(mutated, DEPLOYER_POLICY)), "iam:PassRole")
    assert hits == 1
    iam = mutated.client("iam", region)
    narrowed = iam.create_policy(PolicyName="deployer-without-pass-role",
                                 PolicyDocument=json.dumps(policy))["Policy"]["Arn"]  # fmt: skip
    role = mutated.ci_role([narrowed], name="ci-without-pass-role")
    before = len(mutated.decisions())

    result = mutated.deployment.make(
        "deploy", f"REGION={region}", f"ENV={ENV}", env=mutated.as_role(role, region)
    )

    assert result.returncode != 0
    assert re.search(r"CreateChangeSet.*not authorized to perform: iam:PassRole", result.stdout)
    denied = refused(mutated.decisions()[before:], "ci-without-pass-role")
    assert {(d["action"], d["resource"].split("/")[-1]) for d in denied} == {
        ("iam:PassRole", EXECUTION_ROLE)
    }
    stacks = mutated.client("cloudformation", region).describe_stacks()["Stacks"]
    assert STACK not in {s["StackName"] for s in stacks}


def test_an_execution_role_without_create_table_fails_and_rolls_back(mutated: Account) -> None:
    region = "eu-central-1"
    prepared(mutated, region)
    iam = mutated.client("iam", region)
    attached = iam.list_attached_role_policies(RoleName=EXECUTION_ROLE)["AttachedPolicies"]
    hits, restore = 0, []
    for policy in attached:
        narrowed, found = without(document(mutated, policy["PolicyArn"]), "dynamodb:CreateTable")
        if found:
            hits += found
            default = iam.get_policy(PolicyArn=policy["PolicyArn"])["Policy"]["DefaultVersionId"]
            restore.append((policy["PolicyArn"], default))
            iam.create_policy_version(
                PolicyArn=policy["PolicyArn"], PolicyDocument=json.dumps(narrowed),
                SetAsDefault=True,
            )  # fmt: skip
    assert hits >= 1
    arn = policy_arn(mutated, DEPLOYER_POLICY)
    as_deployer = mutated.as_role(mutated.ci_role([arn]), region)

    # `make deploy`'s preflight would stop at the narrowed role; `sam deploy` alone shows what
    # CloudFormation does with it. IAM is global: the role is restored for the other cases.
    try:
        result = subprocess.run(
            sam_deploy_command(ENV, region, mutated.root / "samconfig.toml"),
            cwd=mutated.root, env=as_deployer, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, text=True, timeout=600,
        )  # fmt: skip
    finally:
        for arn_, version in restore:
            iam.set_default_policy_version(PolicyArn=arn_, VersionId=version)

    assert result.returncode != 0
    assert status(mutated, region) == "ROLLBACK_COMPLETE"
    table = re.compile(
        rf"assumed-role/{EXECUTION_ROLE}/AWSCloudFormation is not authorized to perform: "
        rf"dynamodb:CreateTable on resource: arn:aws:dynamodb:{region}:\d{{12}}:table/{STACK}-"
    )
    failed = [e for e in events(mutated, region) if e["ResourceStatus"] == "CREATE_FAILED"]
    assert any(table.search(e.get("ResourceStatusReason", "")) for e in failed), failed
    assert not mutated.client("dynamodb", region).list_tables()["TableNames"]


def deploy_edited(
    mutated: Account, region: str, path: str, line: str, replacement: str
) -> tuple[subprocess.CompletedProcess, dict[str, str]]:
    """`make deploy` as the deployer with one line of the project's `path` replaced, the file
    restored after; the result and the deployer's environment."""
    prepared(mutated, region)
    as_deployer = mutated.as_role(mutated.ci_role([policy_arn(mutated, DEPLOYER_POLICY)]), region)
    edited = mutated.root / path
    original = edited.read_text()
    assert original.count(line) == 1, f"{path} no longer holds {line!r}"
    edited.write_text(original.replace(line, replacement))
    try:
        made = mutated.deployment.make("deploy", f"REGION={region}", f"ENV={ENV}", env=as_deployer)
    finally:
        edited.write_text(original)
    return made, as_deployer


def test_a_role_granted_more_than_the_boundary_fails_to_deploy(mutated: Account) -> None:
    region = "us-west-2"
    # The health function is given writes to the users table, which no role had when the
    # administrator bootstrapped: dynamodb:UpdateItem there is beyond the boundary.
    line = "            layers=(),  # the standard library only"
    stopped, _ = deploy_edited(
        mutated, region, "template_gen/spec.py", line,
        "            relations=(writes(USERS.name),),\n" + line,
    )  # fmt: skip
    assert stopped.returncode != 0
    own = [ln for ln in stopped.stdout.splitlines() if ln.startswith("make deploy: ")]
    assert len(own) == 1, stopped.stdout[-3000:]
    assert re.search(r"HealthRole: dynamodb:UpdateItem on \S+:table/backend-kit-dev-users "
                     r"is beyond the boundary", own[0]), own[0]  # fmt: skip
    assert f"make bootstrap REGION={region} ENV={ENV}" in own[0]
    stacks = mutated.client("cloudformation", region).describe_stacks()["Stacks"]
    assert STACK not in {s["StackName"] for s in stacks}


def test_a_role_without_the_boundary_fails_to_deploy(mutated: Account) -> None:
    region = "us-west-2"
    # The template renders its roles without the boundary: make deploy's preflight stops.
    line = "        PermissionsBoundary=boundary_arn(names),\n"
    stopped, as_deployer = deploy_edited(mutated, region, "template_gen/defaults.py", line, "")
    assert stopped.returncode != 0
    own = [ln for ln in stopped.stdout.splitlines() if ln.startswith("make deploy: ")]
    assert len(own) == 1 and "permissions boundary" in own[0], stopped.stdout[-3000:]
    assert re.search(r"make deploy: preflight failed: \w+Role: ", own[0]), own[0]
    stacks = mutated.client("cloudformation", region).describe_stacks()["Stacks"]
    assert STACK not in {s["StackName"] for s in stacks}

    # Past the preflight, with `sam deploy` alone, CloudFormation refuses to make the role.
    rebuilt = mutated.admin("build")
    assert rebuilt.returncode == 0, rebuilt.stdout[-3000:]
    template = mutated.root / "build" / "template.yaml"
    text = template.read_text()
    boundaries = re.findall(r"^ +PermissionsBoundary: .*\n", text, re.M)
    assert boundaries, "the template's roles carry no boundary to take away"
    # Every role's: some exist in prod only, and dev creates none of those.
    template.write_text(re.sub(r"^ +PermissionsBoundary: .*\n", "", text, flags=re.M))

    plain = subprocess.run(
        sam_deploy_command(ENV, region, mutated.root / "samconfig.toml"),
        cwd=mutated.root, env=as_deployer, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, text=True, timeout=600,
    )  # fmt: skip

    assert plain.returncode != 0, plain.stdout[-3000:]
    assert status(mutated, region) == "ROLLBACK_COMPLETE"
    failed = [e for e in events(mutated, region) if e["ResourceStatus"] == "CREATE_FAILED"]
    assert any(
        "not authorized to perform: iam:CreateRole" in e.get("ResourceStatusReason", "")
        for e in failed
    ), failed
