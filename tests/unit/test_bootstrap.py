"""The bootstrap stack's policies (template_gen/bootstrap.py): derived, deterministic, within
IAM's limits, and granting nothing beyond the project. Each guard is a function run on the
rendered policies, and on a copy with the guarded property broken, to show it can fail."""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest

from ops.bootstrap import HOME_TAG as OPS_HOME_TAG
from template_gen import deployer, execution, iam_reference
from template_gen.bootstrap import Bootstrap, build, files
from template_gen.deploy_permissions import NEVER, PERMISSIONS_BOUNDARY
from template_gen.deployer import COMMANDS, NOT_FOR_DRIFT
from template_gen.execution import (
    MANAGED_POLICY_CHARS,
    MAX_MANAGED_POLICIES,
    Unsupported,
    size,
    split,
)
from template_gen.patterns import ARTIFACTS_BUCKET, artifacts_key
from template_gen.spec import SPEC

ROOT = Path(__file__).resolve().parents[2]
STACK = f"{SPEC.project}-${{Environment}}"
BOUNDARY = f"arn:${{AWS::Partition}}:iam::${{AWS::AccountId}}:policy/{STACK}-boundary"


@pytest.fixture(scope="module")
def result(expanded: dict[str, Any]) -> Bootstrap:
    return build(expanded, SPEC)


def documents(result: Bootstrap) -> dict[str, dict[str, Any]]:
    return {"execution": result.execution, "boundary": result.boundary, "deployer": result.deployer}


def statements(document: dict[str, Any]) -> list[dict[str, Any]]:
    return list(document["Statement"])


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


# ---------------------------------------------------------------------------------------------
# Guards


def unknown_actions(document: dict[str, Any]) -> list[str]:
    """Actions the Service Authorization Reference does not list, and wildcards."""
    bad = []
    for statement in statements(document):
        for action in as_list(statement["Action"]):
            if "*" in action:
                bad.append(action)
                continue
            try:
                iam_reference.action(action)
            except iam_reference.NotInReference:
                bad.append(action)
    return bad


def star_on_resource_actions(document: dict[str, Any]) -> list[str]:
    """Actions granted on `*` although the reference gives them a resource type."""
    return [
        action
        for statement in statements(document)
        if "*" in as_list(statement["Resource"])
        for action in as_list(statement["Action"])
        if iam_reference.action(action).resource_types
    ]


def unconditioned_role_mutations(document: dict[str, Any]) -> list[str]:
    """Actions that can carry iam:PermissionsBoundary granted without it being the boundary."""
    bad = []
    for statement in statements(document):
        wanted = statement.get("Condition", {}).get("StringEquals", {}).get(PERMISSIONS_BOUNDARY)
        for action in as_list(statement["Action"]):
            keys = iam_reference.action(action).condition_keys
            if PERMISSIONS_BOUNDARY in keys and wanted != BOUNDARY:
                bad.append(action)
    return bad


def passes(document: dict[str, Any]) -> dict[str, set[str]]:
    """Role pattern -> the services a PassRole statement passes it to (`<any>` unconditioned)."""
    found: dict[str, set[str]] = {}
    for statement in statements(document):
        if "iam:PassRole" not in as_list(statement["Action"]):
            continue
        service = statement.get("Condition", {}).get("StringEquals", {}).get("iam:PassedToService")
        for role in as_list(statement["Resource"]):
            found.setdefault(role, set()).add(service or "<any>")
    return found


def never_granted(document: dict[str, Any]) -> list[str]:
    return [
        action
        for statement in statements(document)
        for action in as_list(statement["Action"])
        if action in NEVER
    ]


# Names the deployer may use that are not the project's: SAM's managed stack and bucket, the
# AWS-owned SAM transform.
SHARED = (
    ":stack/aws-sam-cli-managed-default/*",
    ":aws:transform/Serverless-2016-10-31",
    f":s3:::{ARTIFACTS_BUCKET}",
)


# A user pool's id is generated and no stack tag reaches it
# (https://repost.aws/knowledge-center/cloudformation-propagate-stack-level-tag): drift
# detection may read any pool's configuration, and nothing else.
UNNAMEABLE = (":userpool/*", ":backup-plan:*")
READ_VERBS = ("Describe", "Get", "List")


def outside_project(document: dict[str, Any]) -> list[str]:
    bad = []
    for statement in statements(document):
        for resource in as_list(statement["Resource"]):
            ours = STACK in resource or f"/{SPEC.project}/${{Environment}}/" in resource
            if resource == "*" or ours or resource.endswith(SHARED):
                continue
            condition = statement.get("Condition", {}).get("ForAnyValue:StringLike", {})
            aliased = condition.get("kms:ResourceAliases")
            if aliased and all(STACK in alias for alias in aliased):
                continue
            reads = all(a.split(":")[1].startswith(READ_VERBS) for a in statement["Action"])
            if resource.endswith(UNNAMEABLE) and reads:
                continue
            bad.append(resource)
    return bad


# ---------------------------------------------------------------------------------------------
# The rendered policies


def test_policies_are_byte_identical_across_renders_and_hash_seeds(
    result: Bootstrap, expanded: dict[str, Any]
) -> None:
    code = (
        "import json, sys; from template_gen.bootstrap import build, files;"
        "from template_gen.spec import SPEC;"
        "sys.stdout.write(json.dumps(files(build(json.load(sys.stdin), SPEC))))"
    )
    expanded_text = json.dumps(expanded)
    outputs = {
        subprocess.run(
            [sys.executable, "-c", code],
            cwd=ROOT,
            input=expanded_text,
            env={**os.environ, "PYTHONHASHSEED": seed},
            capture_output=True,
            text=True,
            check=True,
            timeout=600,
        ).stdout
        for seed in ("0", "4242")
    }
    assert outputs == {json.dumps(files(result))}


def test_every_action_is_in_the_reference_and_none_is_a_wildcard(result: Bootstrap) -> None:
    for name, document in documents(result).items():
        assert unknown_actions(document) == [], name


def test_the_action_guard_fails_on_a_wildcard_or_unknown_action(result: Bootstrap) -> None:
    broken = copy.deepcopy(result.deployer)
    broken["Statement"].append({"Effect": "Allow", "Action": ["s3:*", "s3:Teleport"]})
    assert unknown_actions(broken) == ["s3:*", "s3:Teleport"]


def test_star_only_for_actions_without_a_resource_type(result: Bootstrap) -> None:
    for name, document in documents(result).items():
        if name != "boundary":  # the roles' own statements, checked by test_iam
            assert star_on_resource_actions(document) == [], name


def test_the_star_guard_fails_on_a_resource_action_on_star(result: Bootstrap) -> None:
    broken = copy.deepcopy(result.execution)
    broken["Statement"].append({"Effect": "Allow", "Action": ["s3:DeleteBucket"], "Resource": "*"})
    assert star_on_resource_actions(broken) == ["s3:DeleteBucket"]


def test_a_type_without_schema_data_fails_naming_it(expanded: dict[str, Any]) -> None:
    fake = copy.deepcopy(expanded)
    fake["Resources"]["Thing"] = {"Type": "AWS::Fake::Thing", "Properties": {}}
    with pytest.raises(Unsupported, match="AWS::Fake::Thing"):
        build(fake, SPEC)


def test_passrole_only_for_the_stacks_roles_each_to_its_own_service(result: Bootstrap) -> None:
    lambda_roles = {
        f"arn:${{AWS::Partition}}:iam::${{AWS::AccountId}}:role/{STACK}-{f.name}-*": {
            "lambda.amazonaws.com"
        }
        for f in SPEC.functions
    }
    codedeploy = {
        f"arn:${{AWS::Partition}}:iam::${{AWS::AccountId}}:role/{STACK}-codedeploy-*": {
            "codedeploy.amazonaws.com"
        }
    }
    backup = {
        f"arn:${{AWS::Partition}}:iam::${{AWS::AccountId}}:role/{STACK}-backup-*": {
            "backup.amazonaws.com"
        }
    }
    assert passes(result.execution) == {**lambda_roles, **codedeploy, **backup}


def test_the_passrole_guard_fails_on_an_unconditioned_pass(result: Bootstrap) -> None:
    broken = copy.deepcopy(result.execution)
    for statement in broken["Statement"]:
        if "iam:PassRole" in statement["Action"]:
            statement.pop("Condition")
    assert "<any>" in set().union(*passes(broken).values())


def test_role_mutations_are_conditioned_on_the_boundary(result: Bootstrap) -> None:
    assert unconditioned_role_mutations(result.execution) == []
    assert "iam:CreateRole" in {a for s in statements(result.execution) for a in s["Action"]}


def test_the_boundary_condition_guard_fails_without_it(result: Bootstrap) -> None:
    broken = copy.deepcopy(result.execution)
    for statement in broken["Statement"]:
        statement.pop("Condition", None)
    assert "iam:CreateRole" in unconditioned_role_mutations(broken)


def test_deleting_a_roles_boundary_is_never_granted(result: Bootstrap) -> None:
    for name, document in documents(result).items():
        assert never_granted(document) == [], name
    broken = copy.deepcopy(result.execution)
    broken["Statement"][0]["Action"].append("iam:DeleteRolePermissionsBoundary")
    assert never_granted(broken) == ["iam:DeleteRolePermissionsBoundary"]


def test_managed_policies_fit_iams_limits(result: Bootstrap) -> None:
    assert 1 <= len(result.parts) <= MAX_MANAGED_POLICIES
    for part in [*result.parts, result.boundary, result.deployer]:
        assert size(part, SPEC.environments) <= MANAGED_POLICY_CHARS
    # The split keeps every statement, in order.
    assert [s for p in result.parts for s in p["Statement"]] == result.execution["Statement"]


def test_the_split_refuses_more_policies_than_a_role_takes(result: Bootstrap) -> None:
    statement = result.execution["Statement"][0]
    # Two thirds of a policy each: one per policy, 20 policies.
    big = {**statement, "Resource": []}
    while size(execution.document([big])) <= MANAGED_POLICY_CHARS * 2 // 3:
        big["Resource"].append(f"{statement['Resource'][0]}-{len(big['Resource'])}")
    with pytest.raises(ValueError, match="managed policies"):
        split([copy.deepcopy(big) for _ in range(20)])


def test_the_deployer_grants_nothing_outside_the_projects_names(result: Bootstrap) -> None:
    assert outside_project(result.deployer) == []
    broken = copy.deepcopy(result.deployer)
    other = "arn:${AWS::Partition}:cloudformation:*:${AWS::AccountId}:stack/other/*"
    broken["Statement"][0]["Resource"].append(other)
    pools = "arn:${AWS::Partition}:cognito-idp:*:${AWS::AccountId}:userpool/*"
    broken["Statement"].append({"Action": ["cognito-idp:DeleteUserPool"], "Resource": [pools]})
    unaliased = {"Action": ["kms:DescribeKey"], "Resource": ["arn:aws:kms:*:1:key/*"]}
    broken["Statement"].append(unaliased)
    assert outside_project(broken) == [other, pools, "arn:aws:kms:*:1:key/*"]


# What the execution role acts on by an id AWS generates (a key, a user pool, a backup plan),
# so by any id in the account, and CodeDeploy's predefined deployment configurations.
GENERATED = (":key/*", ":userpool/*", ":deploymentconfig:*", ":backup-plan:*")


def test_the_execution_policy_names_only_the_project_and_generated_ids(result: Bootstrap) -> None:
    others = outside_project(result.execution)
    generated = [r for r in others if r.endswith(GENERATED)]
    configs = [r for r in others if ":deploymentconfig:CodeDeployDefault.Lambda" in r]
    # AWS's own service-linked roles, by the names AWS gives them.
    linked = [r for r in others if ":role/aws-service-role/" in r]
    assert sorted(others) == sorted(generated + configs + linked)
    assert generated


def unsubstituted(value: Any) -> list[str]:
    """Strings with a `${...}` outside an Fn::Sub: CloudFormation would leave them as text."""
    if isinstance(value, dict):
        return [s for k, v in value.items() if k != "Fn::Sub" for s in unsubstituted(v)]
    if isinstance(value, list):
        return [s for v in value for s in unsubstituted(v)]
    return [value] if isinstance(value, str) and "${" in value else []


def test_every_resource_with_a_variable_is_a_sub_in_the_template(result: Bootstrap) -> None:
    rendered = result.template.to_dict()
    for resource in rendered["Resources"].values():
        document = resource["Properties"].get("PolicyDocument")
        for statement in document["Statement"] if document else []:
            for entry in as_list(statement["Resource"]):
                assert entry == "*" or set(entry) == {"Fn::Sub"}, entry
    assert unsubstituted(rendered) == []
    assert unsubstituted({"Resource": ["arn:${AWS::Partition}:s3:::x"]}) != []


def test_code_comes_from_sams_bucket_under_each_environments_prefix() -> None:
    config = tomllib.loads((ROOT / "samconfig.toml").read_text())
    for environment in SPEC.environments:
        prefix = config[environment]["global"]["parameters"]["s3_prefix"]
        assert artifacts_key(SPEC.project).replace("${Environment}", environment) == f"{prefix}/*"


def test_the_template_has_the_outputs_ops_bootstrap_reads(result: Bootstrap) -> None:
    rendered = result.template.to_dict()
    assert set(rendered["Outputs"]) == {"ExecutionRoleArn", "BoundaryArn", "DeployerPolicyArn"}
    assert rendered["Parameters"]["Environment"]["AllowedValues"] == list(SPEC.environments)
    role = rendered["Resources"]["ExecutionRole"]["Properties"]
    assert [t["Key"] for t in role["Tags"]] == [OPS_HOME_TAG]
    assert set(COMMANDS) == {"deploy", "outputs", "logs", "drift", "destroy"}
    trust = role["AssumeRolePolicyDocument"]["Statement"]
    assert [s["Principal"] for s in trust] == [{"Service": "cloudformation.amazonaws.com"}]


def test_drift_reads_leave_out_data_and_secrets(result: Bootstrap) -> None:
    granted = {a for s in statements(result.deployer) for a in as_list(s["Action"])}
    assert granted.isdisjoint(NOT_FOR_DRIFT)
    assert "lambda:GetFunction" in granted  # the read handlers' actions are there


def test_every_grant_of_every_command_stands_in_the_deployer_policy_once(
    result: Bootstrap,
) -> None:
    """Statements merge and a covered grant is dropped, but each command keeps every action on
    every resource it names; no statement is covered by another."""
    stack = f"{SPEC.project}-${{Environment}}"
    found = [
        {**s, "Action": as_list(s["Action"]), "Resource": as_list(s["Resource"])}
        for s in statements(result.deployer)
    ]
    for grants in deployer.COMMANDS.values():
        for grant in grants:
            resources = {r.format(stack=stack, project=SPEC.project) for r in grant.resources}
            for action in grant.actions:
                assert any(
                    action in s["Action"] and deployer.within(tuple(resources), s["Resource"])
                    for s in found
                ), (action, resources)
    for one in found:
        assert not any(
            other is not one and set(one["Action"]) <= set(other["Action"])
            and deployer.within(one["Resource"], other["Resource"])
            and one.get("Condition") == other.get("Condition")
            for other in found
        ), one  # fmt: skip
