"""Checks before a deploy. Each failure is one line naming what is wrong and the command
that fixes it; the first failure stops the deploy."""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
from collections.abc import Callable
from importlib import metadata
from pathlib import Path

import boto3
from botocore.config import Config
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectTimeoutError,
    EndpointConnectionError,
    NoCredentialsError,
    NoRegionError,
)

from artifacts import manifest
from ops import boundary, execution_role, params
from ops.config import ROOT, SAMCONFIG, ConfigError, deploy_parameters, parameter_overrides
from template_gen.parameters import ORIGIN_PARAMETER_PATTERN
from template_gen.spec import SPEC

# One attempt with short timeouts: a missing or wrong credential fails in seconds.
FAST = Config(connect_timeout=3, read_timeout=5, retries={"total_max_attempts": 1})


class PreflightError(Exception):
    pass


def check_region(region: str) -> str:
    session = boto3.session.Session()
    known = {
        name
        for partition in session.get_available_partitions()
        for name in session.get_available_regions("cloudformation", partition)
    }
    if region not in known:
        raise PreflightError(
            f"'{region}' is not an AWS region: use one such as us-east-1 or"
            " eu-west-1 (make deploy REGION=eu-west-1 ...)"
        )
    return region


def check_credentials(region: str) -> str:
    identity = caller_identity(region)
    return f"account {identity['Account']} as {identity['Arn']}"


def caller_identity(region: str) -> dict[str, str]:
    """STS GetCallerIdentity, which needs no permission; a failure names its fix."""
    try:
        identity = boto3.client("sts", region_name=region, config=FAST).get_caller_identity()
    except NoCredentialsError:
        raise PreflightError(
            "no AWS credentials: set AWS_PROFILE, or run `aws configure` or"
            " `aws sso login`, then run the command again"
        ) from None
    except ClientError as error:
        code = error.response.get("Error", {}).get("Code", "")
        raise PreflightError(
            f"AWS refused the credentials ({code}): refresh them, for example with `aws sso login`"
        ) from None
    except (EndpointConnectionError, ConnectTimeoutError):
        endpoint = os.environ.get("AWS_ENDPOINT_URL")
        if endpoint:
            raise PreflightError(
                f"nothing answers at AWS_ENDPOINT_URL={endpoint}: start the emulator there"
                " (make emulator) or unset AWS_ENDPOINT_URL to reach AWS"
            ) from None
        raise PreflightError(f"cannot reach AWS STS in {region}: check the network") from None
    except (BotoCoreError, NoRegionError) as error:
        raise PreflightError(f"cannot check the credentials: {error}") from None
    return {"Account": str(identity["Account"]), "Arn": str(identity["Arn"])}


def check_artifacts(build: Path) -> str:
    manifest_path = build / "manifest.json"
    if not manifest_path.is_file():
        raise PreflightError("nothing is built: run `make build`")
    try:
        built = manifest.load(manifest_path)
    except manifest.ManifestError as error:
        raise PreflightError(str(error)) from None
    for artifact in built.artifacts:
        path = build / artifact.path
        if not path.is_file():
            raise PreflightError(f"{artifact.path} is missing: run `make build`")
        if hashlib.sha256(path.read_bytes()).hexdigest() != artifact.zip_sha256:
            raise PreflightError(f"{artifact.path} does not match the manifest: run `make build`")
    template = (build / "template.yaml").read_text() if (build / "template.yaml").is_file() else ""
    referenced = set(re.findall(r"(?:CodeUri|ContentUri): (\S+)", template))
    expected = {artifact.path for artifact in built.artifacts}
    if referenced != expected:
        raise PreflightError(
            "build/template.yaml does not point at the built zips: run `make build`"
        )
    return f"{len(expected)} zips match build/manifest.json"


def lint_stamp(template: Path) -> Path:
    """Where a clean cfn-lint run of exactly this template, by exactly this cfn-lint, is
    recorded: the same bytes under the same linter give the same findings, so a redeploy of an
    unchanged template need not lint it again."""
    version = metadata.version("cfn-lint")
    digest = hashlib.sha256(f"cfn-lint {version}\0".encode() + template.read_bytes())
    return template.parent / "lint" / f"{digest.hexdigest()[:32]}.clean"


def check_lint(build: Path) -> str:
    template = build / "template.yaml"
    stamp = lint_stamp(template)
    if stamp.is_file():
        return "cfn-lint reported nothing for this template, as built"
    cfn_lint = Path(sys.executable).with_name("cfn-lint")
    result = subprocess.run(
        [str(cfn_lint), str(template)], capture_output=True, text=True, timeout=600
    )
    if result.returncode != 0:
        first = (result.stdout or result.stderr).strip().splitlines()[:1]
        raise PreflightError(f"the template has lint findings ({' '.join(first)}): run `make lint`")
    stamp.parent.mkdir(exist_ok=True)
    stamp.write_text(f"{template.name}\n")
    return "cfn-lint reports nothing"


def check_parameters(region: str, environment: str) -> str:
    names = params.parameter_names(SPEC, environment)
    key = params.key_alias(SPEC, environment)
    ssm = boto3.client("ssm", region_name=region, config=FAST)
    filters = [{"Key": "Name", "Values": names}]
    found = {p["Name"]: p for p in ssm.describe_parameters(ParameterFilters=filters)["Parameters"]}
    fix = f"make params REGION={region} ENV={environment}"
    for name in names:
        if name not in found:
            raise PreflightError(f"SecureString {name} is missing in {region}: run `{fix}`")
        if found[name]["Type"] != "SecureString":
            raise PreflightError(
                f"{name} in {region} is a {found[name]['Type']}, not a"
                f" SecureString: run `{fix} ROTATE=1`"
            )
        if found[name].get("KeyId") != key:
            raise PreflightError(
                f"{name} in {region} is encrypted with {found[name].get('KeyId')}, not {key}:"
                f" run `{fix}`, which moves it and keeps its value"
            )
    return f"{len(names)} SecureString parameter(s) exist, encrypted with {key}"


def check_origins(environment: str, config: Path = SAMCONFIG) -> str:
    try:
        origins = parameter_overrides(environment, config).get("AllowedOrigins")
    except ConfigError as error:
        raise PreflightError(str(error)) from None
    if not origins:
        raise PreflightError(
            f"AllowedOrigins is not set for {environment}: add it to"
            f" [{environment}.deploy.parameters] in samconfig.toml"
        )
    for origin in origins.split(","):
        if "*" in origin:
            raise PreflightError(
                f"AllowedOrigins for {environment} contains '{origin}': list"
                " the exact origins in samconfig.toml; '*' is refused"
            )
        if not re.fullmatch(ORIGIN_PARAMETER_PATTERN, origin):
            raise PreflightError(
                f"AllowedOrigins for {environment} has '{origin}', which is"
                " not scheme://host[:port]: fix samconfig.toml"
            )
    return origins


def check_execution_role(region: str, environment: str, config: Path = SAMCONFIG) -> str:
    """`sam deploy` passes the bootstrap's execution role (role_arn in samconfig.toml), so
    CloudFormation acts with the template's needs rather than the deployer's rights."""
    fix = f"make bootstrap REGION={region} ENV={environment}"
    try:
        role_arn = deploy_parameters(environment, config).get("role_arn")
    except ConfigError as error:
        raise PreflightError(str(error)) from None
    if not role_arn:
        raise PreflightError(
            f"samconfig.toml names no CloudFormation execution role for {environment}"
            f" (role_arn): an administrator runs `{fix}` once, which sets it"
        )
    return f"CloudFormation acts as {role_arn}"


def check_execution_policy(
    region: str, environment: str, identity: dict[str, str], build: Path, config: Path = SAMCONFIG
) -> str:
    """The deployed execution role grants everything build/deploy-policies/execution.json
    does: a template that needs more (new resources, a new type) waits for `make bootstrap`."""
    role_arn = str(deploy_parameters(environment, config)["role_arn"])
    built = json.loads((build / "deploy-policies" / "execution.json").read_text())
    partition = identity["Arn"].split(":")[1]
    needed = execution_role.resolved(built, environment, identity["Account"], partition)
    iam = boto3.client("iam", region_name=region, config=FAST)
    try:
        deployed = list(execution_role.deployed_documents(iam, role_arn.rsplit("/", 1)[-1]))
    except ClientError as error:
        info = error.response.get("Error", {})
        raise PreflightError(
            f"cannot read the execution role {role_arn} ({info.get('Code')}): an administrator"
            f" runs `make bootstrap REGION={region} ENV={environment}`"
        ) from None
    lacking = execution_role.missing(needed, deployed)
    if lacking:
        action, resource, _ = lacking[0]
        raise PreflightError(
            f"the execution role lacks {len(lacking)} grant(s) this template needs, such as"
            f" {action} on {resource}: an administrator runs"
            f" `make bootstrap REGION={region} ENV={environment}` to update it"
        )
    return f"the execution role grants all {len(execution_role.grants(needed))} the template needs"


def check_boundary(region: str, environment: str, identity: dict[str, str], build: Path) -> str:
    """Every role of the template carries the boundary the bootstrap made, and is granted
    nothing beyond it. The boundary in the account is the one that counts: a template whose
    roles need more waits for an administrator's `make bootstrap`, which is where roles are
    allowed to grow (https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies_boundaries.html)."""
    expanded = build / "template.expanded.json"
    if not expanded.is_file():
        raise PreflightError("the template is not expanded: run `make policies`")
    fix = f"make bootstrap REGION={region} ENV={environment}"
    partition, account = identity["Arn"].split(":")[1], identity["Account"]
    arn = f"arn:{partition}:iam::{account}:policy/{SPEC.project}-{environment}-boundary"
    iam = boto3.client("iam", region_name=region, config=FAST)
    try:
        document = execution_role.policy_document(iam, arn)
    except ClientError as error:
        code = error.response.get("Error", {}).get("Code")
        raise PreflightError(f"cannot read the boundary {arn} ({code}): an administrator runs"
                             f" `{fix}`") from None  # fmt: skip
    template = json.loads(expanded.read_text())
    violations = boundary.boundary_violations(template, document, environment, account, region)
    if violations:
        more = f" (and {len(violations) - 1} more)" if len(violations) > 1 else ""
        raise PreflightError(
            f"{violations[0]}{more}: a role must carry the boundary and stay inside it;"
            f" widening the boundary is an administrator's `{fix}`"
        )
    return "every role carries the boundary and stays inside it"


def run(
    region: str,
    environment: str,
    build: Path = ROOT / "build",
    config: Path = SAMCONFIG,
    say: Callable[[str], None] = print,
) -> None:
    identity: dict[str, str] = {}

    def credentials() -> str:
        identity.update(caller_identity(region))
        return f"account {identity['Account']} as {identity['Arn']}"

    checks: list[tuple[str, Callable[[], str]]] = [
        ("region", lambda: check_region(region)),
        ("credentials", credentials),
        ("origins", lambda: check_origins(environment, config)),
        ("artifacts", lambda: check_artifacts(build)),
        ("lint", lambda: check_lint(build)),
        ("parameters", lambda: check_parameters(region, environment)),
        ("execution role", lambda: check_execution_role(region, environment, config)),
        (
            "execution policy",
            lambda: check_execution_policy(region, environment, identity, build, config),
        ),
        ("boundary", lambda: check_boundary(region, environment, identity, build)),
    ]
    for name, check in checks:
        say(f"  ok  {name}: {check()}")
