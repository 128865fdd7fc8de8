"""Checks before a deploy. Each failure is one line naming what is wrong and the command
that fixes it; the first failure, in the order the checks are listed, stops the deploy.

The checks' AWS reads (the caller's identity, the SecureStrings, the execution role's policies,
the boundary) start together, on clients made once, so they take about as long as the slowest
of them; each check then takes its read's answer in turn.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
from collections.abc import Callable, Mapping
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectTimeoutError,
    EndpointConnectionError,
    NoCredentialsError,
)

from artifacts import manifest
from ops import boundary, execution_role, params
from ops.config import ROOT, SAMCONFIG, ConfigError, deploy_parameters, parameter_overrides
from template_gen.parameters import ORIGIN_PARAMETER_PATTERN
from template_gen.spec import SPEC

# One attempt with short timeouts: a missing or wrong credential fails in seconds.
FAST = Config(connect_timeout=3, read_timeout=5, retries={"total_max_attempts": 1})
# The services the preflight reads.
SERVICES = ("sts", "ssm", "iam")
# Enough threads for every read at once. Two reads wait on others (the boundary on the
# identity, the execution role on its policies' documents) and those never wait, so any
# number above two always makes progress; a role has at most 20 managed policies.
READERS = 8


class PreflightError(Exception):
    pass


def check_region(region: str, session: boto3.session.Session | None = None) -> str:
    session = session or boto3.session.Session()
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


def caller_identity(region: str, sts: Any = None) -> dict[str, str]:
    """STS GetCallerIdentity, which needs no permission; a failure names its fix."""
    try:
        sts = sts or boto3.client("sts", region_name=region, config=FAST)
        identity = sts.get_caller_identity()
    except (BotoCoreError, ClientError) as error:
        raise credentials_failure(error, region) from None
    return {"Account": str(identity["Account"]), "Arn": str(identity["Arn"])}


def credentials_failure(error: BotoCoreError | ClientError, region: str) -> PreflightError:
    """What a failure to use the credentials means, and its fix."""
    if isinstance(error, NoCredentialsError):
        return PreflightError(
            "no AWS credentials: set AWS_PROFILE, or run `aws configure` or"
            " `aws sso login`, then run the command again"
        )
    if isinstance(error, ClientError):
        code = error.response.get("Error", {}).get("Code", "")
        return PreflightError(
            f"AWS refused the credentials ({code}): refresh them, for example with `aws sso login`"
        )
    if isinstance(error, EndpointConnectionError | ConnectTimeoutError):
        endpoint = os.environ.get("AWS_ENDPOINT_URL")
        if endpoint:
            return PreflightError(
                f"nothing answers at AWS_ENDPOINT_URL={endpoint}: start the emulator there"
                " (make emulator) or unset AWS_ENDPOINT_URL to reach AWS"
            )
        return PreflightError(f"cannot reach AWS STS in {region}: check the network")
    return PreflightError(f"cannot check the credentials: {error}")


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


def read_parameters(ssm: Any, environment: str) -> dict[str, Mapping[str, Any]]:
    """The environment's SecureStrings as SSM describes them, by name."""
    filters = [{"Key": "Name", "Values": params.parameter_names(SPEC, environment)}]
    described = ssm.describe_parameters(ParameterFilters=filters)["Parameters"]
    return {p["Name"]: p for p in described}


def check_parameters(region: str, environment: str, found: Mapping[str, Mapping[str, Any]]) -> str:
    """`found` is read_parameters' answer."""
    names = params.parameter_names(SPEC, environment)
    key = params.key_alias(SPEC, environment)
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


Documents = list[Mapping[str, Any]]


def check_execution_policy(
    region: str,
    environment: str,
    identity: dict[str, str],
    build: Path,
    deployed_documents: Callable[[], Documents],
    config: Path = SAMCONFIG,
) -> str:
    """The deployed execution role grants everything build/deploy-policies/execution.json
    does: a template that needs more (new resources, a new type) waits for `make bootstrap`.
    `deployed_documents` gives the role's policies as deployed."""
    role_arn = str(deploy_parameters(environment, config)["role_arn"])
    built = json.loads((build / "deploy-policies" / "execution.json").read_text())
    partition = identity["Arn"].split(":")[1]
    needed = execution_role.resolved(built, environment, identity["Account"], partition)
    try:
        deployed = deployed_documents()
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


def boundary_arn(environment: str, identity: Mapping[str, str]) -> str:
    """The boundary the bootstrap made in the caller's account."""
    partition, account = identity["Arn"].split(":")[1], identity["Account"]
    return f"arn:{partition}:iam::{account}:policy/{SPEC.project}-{environment}-boundary"


def check_boundary(
    region: str,
    environment: str,
    identity: dict[str, str],
    build: Path,
    boundary_document: Callable[[], Mapping[str, Any]],
) -> str:
    """Every role of the template carries the boundary the bootstrap made, and is granted
    nothing beyond it. The boundary in the account is the one that counts: a template whose
    roles need more waits for an administrator's `make bootstrap`, which is where roles are
    allowed to grow (https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies_boundaries.html).
    `boundary_document` gives the boundary_arn's document as in force."""
    expanded = build / "template.expanded.json"
    if not expanded.is_file():
        raise PreflightError("the template is not expanded: run `make policies`")
    fix = f"make bootstrap REGION={region} ENV={environment}"
    account = identity["Account"]
    arn = boundary_arn(environment, identity)
    try:
        document = boundary_document()
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


@dataclass(frozen=True)
class Reads:
    """The preflight's AWS reads, under way; each check takes its own answer, in order."""

    identity: Future[dict[str, str]]
    parameters: Future[dict[str, Mapping[str, Any]]]
    execution_documents: Future[Documents]
    boundary_document: Future[Mapping[str, Any]]


def start_reads(
    pool: Executor, clients: Mapping[str, Any], region: str, environment: str, config: Path
) -> Reads:
    """Every read at once. Each failure stays in its future until its check asks for it, so
    a later check's failure never overtakes an earlier one's."""
    iam = clients["iam"]
    identity = pool.submit(caller_identity, region, clients["sts"])

    def execution_documents() -> Documents:
        role_arn = deploy_parameters(environment, config).get("role_arn")
        if not role_arn:
            return []  # the execution role check reports it, before anything reads this
        role_name = str(role_arn).rsplit("/", 1)[-1]
        return execution_role.deployed_documents(iam, role_name, each=pool.map)

    def boundary_document() -> Mapping[str, Any]:
        # The boundary's ARN names the caller's account: this read follows the identity's.
        return execution_role.policy_document(iam, boundary_arn(environment, identity.result()))

    return Reads(
        identity=identity,
        parameters=pool.submit(read_parameters, clients["ssm"], environment),
        execution_documents=pool.submit(execution_documents),
        boundary_document=pool.submit(boundary_document),
    )


def run(
    region: str,
    environment: str,
    build: Path = ROOT / "build",
    config: Path = SAMCONFIG,
    say: Callable[[str], None] = print,
    session: Any = None,
) -> dict[str, str]:
    """Every check, each printed as it passes; the first failure in this order raises.
    Returns the caller's identity (Account, Arn). `session` is a boto3 Session; its clients
    are made here, before any read starts, as a Session is not thread-safe and a client is."""
    session = session or boto3.session.Session()
    say(f"  ok  region: {check_region(region, session)}")  # before any read is sent there
    try:
        clients = {name: session.client(name, region_name=region, config=FAST) for name in SERVICES}
    except BotoCoreError as error:  # the credentials are resolved here: a broken profile
        raise credentials_failure(error, region) from None
    identity: dict[str, str] = {}
    pool = ThreadPoolExecutor(max_workers=READERS, thread_name_prefix="preflight")
    try:
        reads = start_reads(pool, clients, region, environment, config)

        def credentials() -> str:
            identity.update(reads.identity.result())
            return f"account {identity['Account']} as {identity['Arn']}"

        checks: list[tuple[str, Callable[[], str]]] = [
            ("credentials", credentials),
            ("origins", lambda: check_origins(environment, config)),
            ("artifacts", lambda: check_artifacts(build)),
            ("lint", lambda: check_lint(build)),
            (
                "parameters",
                lambda: check_parameters(region, environment, reads.parameters.result()),
            ),
            ("execution role", lambda: check_execution_role(region, environment, config)),
            (
                "execution policy",
                lambda: check_execution_policy(
                    region, environment, identity, build, reads.execution_documents.result, config
                ),
            ),
            (
                "boundary",
                lambda: check_boundary(
                    region, environment, identity, build, reads.boundary_document.result
                ),
            ),
        ]
        for name, check in checks:
            say(f"  ok  {name}: {check()}")
    finally:
        # After a failure, what has not started never will; what has is bounded by FAST.
        pool.shutdown(wait=True, cancel_futures=True)
    return identity
