"""`make bootstrap`: the stack that lets the main stack be deployed without administrator
rights, made once per account and environment by an administrator.

It holds the CloudFormation execution role that `sam deploy` passes (`role_arn` in
samconfig.toml), the permissions boundary every role of the main stack carries, and the
deployer policy a CI principal or a person needs to deploy, read and destroy this project and
nothing else (template_gen/bootstrap.py renders it into build/bootstrap.yaml). It is deployed
with the same `sam deploy` as the main stack. IAM is global, so the stack lives in the region
it was first made in (its role's `bootstrap-region` tag says which) and serves every region;
a bootstrap in another region updates it there and only adds that region's SAM artifacts
bucket, which the deployer may use but not create.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import tomlkit

from ops.config import ROOT, SAMCONFIG
from ops.deploy import DeployFailed, run_sam, sam
from template_gen.bootstrap import HOME_TAG
from template_gen.spec import SPEC

TEMPLATE = ROOT / "build" / "bootstrap.yaml"
CAPABILITIES = "CAPABILITY_NAMED_IAM"


@dataclass(frozen=True)
class Bootstrap:
    """What the bootstrap stack made, from its outputs."""

    execution_role: str
    boundary: str
    deployer_policy: str


def stack_name(environment: str) -> str:
    return f"{SPEC.project}-{environment}-bootstrap"


def execution_role_name(environment: str) -> str:
    return f"{SPEC.project}-{environment}-cloudformation"


def home_region(iam: Any, environment: str, region: str) -> str:
    """Where the bootstrap stack lives: the region its execution role's tag names, or
    `region` when there is none yet."""
    try:
        role = iam.get_role(RoleName=execution_role_name(environment))["Role"]
    except iam.exceptions.NoSuchEntityException:
        return region
    tags = {t["Key"]: t["Value"] for t in role.get("Tags", [])}
    return str(tags.get(HOME_TAG, region))


def artifacts_bucket(cloudformation: Any, region: str) -> str:
    """SAM CLI's managed artifacts bucket in the client's region, made by SAM's own code as
    `sam deploy --resolve-s3` makes it (stack aws-sam-cli-managed-default), so the deployer
    only uses it. SAM's public manage_stack takes a profile, not a client; the client keeps
    the administrator's endpoint and credentials."""
    # Imported on use: SAM CLI's modules are heavy and only this command needs them.
    from samcli.commands.exceptions import UserException
    from samcli.lib.bootstrap.bootstrap import SAM_CLI_STACK_NAME, _get_stack_template
    from samcli.lib.utils.managed_cloudformation_stack import _create_or_get_stack

    try:
        outputs = _create_or_get_stack(cloudformation, SAM_CLI_STACK_NAME, _get_stack_template())
    except UserException as error:
        raise DeployFailed(f"SAM's artifacts bucket in {region}: {error}") from None
    return str(outputs.get("SourceBucket"))


def deploy_command(environment: str, region: str, template: Path = TEMPLATE) -> list[str]:
    """`sam deploy` of the bootstrap template. Its policies can make it larger than a template
    CloudFormation takes inline (51,200 bytes), so it goes through SAM's artifacts bucket."""
    return [
        sam(), "deploy", "--template-file", str(template), "--stack-name", stack_name(environment),
        "--region", region, "--capabilities", CAPABILITIES, "--no-progressbar", "--resolve-s3",
        "--s3-prefix", stack_name(environment),
        "--no-fail-on-empty-changeset", "--parameter-overrides", f"Environment={environment}",
        "--tags", f"project={SPEC.project}", f"environment={environment}",
    ]  # fmt: skip


def deploy(
    environment: str, region: str, env: Mapping[str, str] | None = None, quiet: bool = False
) -> None:
    run_sam(
        deploy_command(environment, region),
        f"sam deploy of {stack_name(environment)} failed",
        env=env,
        quiet=quiet,
    )


def outputs(cloudformation: Any, environment: str) -> Bootstrap:
    """The bootstrap stack's outputs."""
    found = cloudformation.describe_stacks(StackName=stack_name(environment))["Stacks"][0]
    values = {o["OutputKey"]: o["OutputValue"] for o in found.get("Outputs", [])}
    return Bootstrap(values["ExecutionRoleArn"], values["BoundaryArn"], values["DeployerPolicyArn"])


def write_role(environment: str, role_arn: str, path: Path = SAMCONFIG) -> bool:
    """Set `role_arn` under `[<env>.deploy.parameters]` in samconfig.toml, keeping the file's
    comments and layout, as `sam deploy --guided` saves its answers; True if it changed."""
    document = tomlkit.parse(path.read_text(encoding="utf-8"))
    section: Any = document[environment]
    deploy_table = section.setdefault("deploy", tomlkit.table())
    parameters = deploy_table.setdefault("parameters", tomlkit.table())
    if parameters.get("role_arn") == role_arn:
        return False
    parameters["role_arn"] = role_arn
    path.write_text(tomlkit.dumps(document), encoding="utf-8")
    return True


ACCOUNT = re.compile(r"arn:[^:]+:iam::(\d{12}):")


def attach_instructions(result: Bootstrap) -> list[str]:
    """How to give a principal the deployer policy."""
    return [
        "attach the deployer policy to the principal that deploys (a CI role or a person):",
        f"  aws iam attach-role-policy --role-name <ci-role> --policy-arn {result.deployer_policy}",
        f"  aws iam attach-user-policy --user-name <user> --policy-arn {result.deployer_policy}",
    ]


def bootstrap(
    environment: str,
    region: str,
    client: Callable[[str, str], Any],
    *,
    say: Callable[[str], None],
    env: Mapping[str, str] | None = None,
    write_samconfig: bool = True,
    path: Path = SAMCONFIG,
    quiet: bool = False,
) -> Bootstrap:
    """Deploy (or update) the bootstrap stack in its home region, make SAM's artifacts bucket
    in `region`, then record the execution role for `sam deploy`. `client(service, region)`
    gives the administrator's clients."""
    home = home_region(client("iam", region), environment, region)
    where = "" if home == region else f" (its home region; it serves {region} too)"
    say(f"sam deploy: {stack_name(environment)} in {home}{where}")
    deploy(environment, home, env=env, quiet=quiet)
    result = outputs(client("cloudformation", home), environment)
    bucket = artifacts_bucket(client("cloudformation", region), region)
    say(f"SAM artifacts bucket in {region}: {bucket}")
    if write_samconfig and write_role(environment, result.execution_role, path):
        say(f"samconfig.toml: [{environment}.deploy.parameters] role_arn = "
            f"{result.execution_role} (commit it)")  # fmt: skip
    for line in attach_instructions(result):
        say(line)
    return result
