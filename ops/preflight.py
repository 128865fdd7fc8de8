"""Checks before a deploy. Each failure is one line naming what is wrong and the command
that fixes it; the first failure stops the deploy."""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
import sys
from collections.abc import Callable
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
from ops import params
from ops.config import ROOT, SAMCONFIG, ConfigError, parameter_overrides
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
    return f"account {identity['Account']} as {identity['Arn']}"


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


def check_lint(build: Path) -> str:
    cfn_lint = Path(sys.executable).with_name("cfn-lint")
    result = subprocess.run(
        [str(cfn_lint), str(build / "template.yaml")], capture_output=True, text=True
    )
    if result.returncode != 0:
        first = (result.stdout or result.stderr).strip().splitlines()[:1]
        raise PreflightError(f"the template has lint findings ({' '.join(first)}): run `make lint`")
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


def run(
    region: str,
    environment: str,
    build: Path = ROOT / "build",
    config: Path = SAMCONFIG,
    say: Callable[[str], None] = print,
) -> None:
    checks: list[tuple[str, Callable[[], str]]] = [
        ("region", lambda: check_region(region)),
        ("credentials", lambda: check_credentials(region)),
        ("origins", lambda: check_origins(environment, config)),
        ("artifacts", lambda: check_artifacts(build)),
        ("lint", lambda: check_lint(build)),
        ("parameters", lambda: check_parameters(region, environment)),
    ]
    for name, check in checks:
        say(f"  ok  {name}: {check()}")
