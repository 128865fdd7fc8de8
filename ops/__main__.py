"""`python -m ops <command>`: what the deploy-side make targets run (docs/deploying.md).

Every AWS call goes through boto3 or SAM CLI, so AWS_ENDPOINT_URL points them all at an
emulator. Every failure is one line on stderr naming what is wrong and the command that fixes
it, never a traceback.
"""

from __future__ import annotations

import argparse
import gc
import getpass
import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import boto3
from botocore.exceptions import BotoCoreError, ClientError

# ops.bootstrap is imported by `bootstrap` alone: it loads the bootstrap template's generator
# (troposphere, the permission models), which no other command needs.
from ops import adopt, deploy_all, destroy, drift, params, preflight
from ops.config import ConfigError, deploy_parameters
from ops.deploy import DeployFailed, sam, sam_arguments, sam_deploy
from template_gen.naming import function_id
from template_gen.spec import SPEC

# The services the commands call: boto3's stubs match a client() call by its literal name.
Service = Literal["cloudformation", "iam", "kms", "ssm", "sts"]


class CommandError(Exception):
    """One line for the operator: what is wrong and how to fix it."""

    exit_code = 1


class UsageError(CommandError):
    """A make variable is missing or wrong."""

    exit_code = 2


@dataclass(frozen=True)
class Target:
    """The region and environment a command acts on, checked before any AWS call."""

    region: str
    environment: str

    @property
    def stack(self) -> str:
        return str(deploy_parameters(self.environment)["stack_name"])

    def client(self, service: Service) -> Any:
        # Any on purpose: each command takes another service's client, and the ops modules
        # take them untyped (boto3's stubs are installed for cloudformation and sts only).
        return boto3.client(service, region_name=self.region)


def check_environment(command: str, environment: str, region: str = "") -> str:
    valid = ", ".join(SPEC.environments)
    where = f"REGION={region or 'eu-west-1'} " if command != "deploy-all" else ""
    example = f"make {command} {where}ENV={SPEC.environments[0]}"
    if not environment:
        raise UsageError(f"ENV is required, one of {valid}: {example}")
    if environment not in SPEC.environments:
        raise UsageError(f"ENV={environment} is not an environment; use one of {valid}: {example}")
    return environment


def target(
    args: argparse.Namespace,
    *,
    credentials: bool = True,
    session: boto3.session.Session | None = None,
) -> Target:
    """Validate REGION and ENV, then (for commands that call AWS) the credentials."""
    command = args.command
    environment = check_environment(command, args.env, args.region)
    if not args.region:
        raise UsageError(f"REGION is required: make {command} REGION=eu-west-1 ENV={environment}")
    try:
        preflight.check_region(args.region, session)
        if credentials:
            preflight.check_credentials(args.region)
    except preflight.PreflightError as error:
        raise CommandError(str(error)) from None
    return Target(args.region, environment)


def checked(where: Target, session: boto3.session.Session) -> dict[str, str]:
    """The preflight; returns the caller's identity (Account, Arn)."""
    print(f"preflight: {SPEC.project} {where.environment} in {where.region}", flush=True)
    try:
        return preflight.run(where.region, where.environment, session=session)
    except preflight.PreflightError as error:
        raise CommandError(f"preflight failed: {error}") from None


def run_preflight(args: argparse.Namespace) -> int:
    session = boto3.session.Session(region_name=args.region or None)
    checked(target(args, credentials=False, session=session), session)  # it checks them itself
    return 0


def run_deploy(args: argparse.Namespace) -> int:
    """The preflight, the import of retained resources after a destroy, then `sam deploy`."""
    # One session, in the region asked for (target() checks it is one), for every AWS read:
    # each new session loads the endpoint data and the service models again.
    session = boto3.session.Session(region_name=args.region or None)
    where = target(args, credentials=False, session=session)
    identity = checked(where, session)
    try:
        adopt.adopt(
            where.region,
            where.environment,
            say=lambda line: print(line, flush=True),
            session=session,
            account=identity["Account"],
        )
        print(f"sam deploy: {where.stack} in {where.region}", flush=True)
        sam_deploy(where.environment, where.region)
    except (adopt.AdoptError, DeployFailed) as error:
        raise CommandError(str(error)) from None
    return 0


def run_bootstrap(args: argparse.Namespace) -> int:
    """The bootstrap stack, as an administrator: what lets everyone else deploy without
    administrator rights."""
    from ops import bootstrap

    where = target(args)
    if not bootstrap.TEMPLATE.is_file():
        raise CommandError("build/bootstrap.yaml is missing: run `make bootstrap`, which makes it")
    try:
        bootstrap.bootstrap(
            where.environment,
            where.region,
            lambda service, region: boto3.client(service, region_name=region),  # type: ignore[call-overload]
            say=lambda line: print(line, flush=True),
        )
    except DeployFailed as error:
        raise CommandError(str(error)) from None
    return 0


def read_value(name: str) -> str:
    """From standard input only: a prompt without echo on a terminal, else one line."""
    if sys.stdin.isatty():
        value = getpass.getpass(f"value for {name}: ")
    else:
        value = sys.stdin.readline().rstrip("\n")
    if not value:
        raise CommandError(f"no value for {name} on standard input")
    return value


def run_params(args: argparse.Namespace) -> int:
    where = target(args)
    value = read_value if args.from_stdin else (lambda _name: params.random_value())
    outcomes = params.provision(
        where.client("kms"),
        where.client("ssm"),
        SPEC,
        where.environment,
        account=where.client("sts").get_caller_identity()["Account"],
        region=where.region,
        partition=boto3.session.Session().get_partition_for_region(where.region),
        rotate=args.rotate,
        value=value,
    )
    for outcome in outcomes:
        print(f"{outcome.name} in {where.region}: {outcome.action}")
    if args.rotate:
        print(
            "handlers pick the new value up within their cache age"
            " (backend_kit.secrets.MAX_AGE_S, 5 minutes)"
        )
    return 0


def make_flags_dry_run() -> bool:
    """`make -n deploy-all` runs this with n in MAKEFLAGS: each regional make then only
    prints. GNU make puts its single-letter flags first, as one word without a dash."""
    letters = os.environ.get("MAKEFLAGS", "").split(" ")[0]
    return not letters.startswith("-") and "n" in letters


def run_deploy_all(args: argparse.Namespace) -> int:
    environment = check_environment("deploy-all", args.env)
    regions = args.regions.split()
    if not regions:
        raise UsageError(
            f'REGIONS is required: make deploy-all REGIONS="us-east-1 eu-west-1" ENV={environment}'
        )
    for region in regions:
        try:
            preflight.check_region(region)
        except preflight.PreflightError as error:
            raise CommandError(str(error)) from None
    make = os.environ.get("MAKE", "make")
    dry_run = make_flags_dry_run()
    stack = str(deploy_parameters(environment)["stack_name"])

    def deploy(region: str) -> bool:
        print(f"=== {region} ===", flush=True)
        command = [make, "--no-print-directory", "deploy", f"REGION={region}", f"ENV={environment}"]
        return subprocess.run(command).returncode == 0

    def describe(region: str) -> tuple[str, str]:
        if dry_run:
            return "dry run", ""
        cloudformation = boto3.client("cloudformation", region_name=region)
        try:
            return deploy_all.stack_summary(cloudformation, stack)
        except BotoCoreError as error:
            return f"unknown ({type(error).__name__})", ""

    results = deploy_all.deploy_all(regions, deploy, describe, keep_going=args.keep_going)
    print(deploy_all.table(results))
    untouched = [r.region for r in results if r.status == deploy_all.NOT_ATTEMPTED]
    if untouched:
        print(f"left untouched after a failure: {', '.join(untouched)} (CONTINUE=1 goes on)")
    return 1 if any(r.failed for r in results) else 0


def run_drift(args: argparse.Namespace) -> int:
    where = target(args)
    print(f"detecting drift of {where.stack} in {where.region} ...", flush=True)
    print(drift.report(where.stack, drift.detect(where.client("cloudformation"), where.stack)))
    return 0


def run_destroy(args: argparse.Namespace) -> int:
    where = target(args)
    cloudformation = where.client("cloudformation")
    done = destroy.destroy(cloudformation, where.stack, where.region, where.environment, ask=input)
    return 0 if done else 1


def run_sam(where: Target, *arguments: str) -> int:
    """A SAM CLI command with samconfig.toml's environment; its output is the progress."""
    environ = {**os.environ, "SAM_CLI_TELEMETRY": os.environ.get("SAM_CLI_TELEMETRY", "0")}
    command = [sam(), *arguments, *sam_arguments(where.environment, where.region)]
    return subprocess.run(command, env=environ, stdin=subprocess.DEVNULL).returncode


def run_outputs(args: argparse.Namespace) -> int:
    where = target(args)
    if args.format not in ("table", "json"):
        raise UsageError(
            f"FORMAT={args.format} is neither table nor json: make outputs ... FORMAT=json"
        )
    return run_sam(where, "list", "stack-outputs", "--output", args.format)


def run_logs(args: argparse.Namespace) -> int:
    names = [f.name for f in SPEC.functions]
    if args.function not in names:
        raise UsageError(
            f"FUNCTION={args.function} is not a function; use one of {', '.join(names)}:"
            f" make logs FUNCTION={names[0]} REGION=.. ENV=.."
        )
    where = target(args)
    print(f"following {args.function}'s logs in {where.stack} ({where.region}); Ctrl-C stops")
    return run_sam(where, "logs", "--name", function_id(args.function), "--tail")


Handler = Callable[[argparse.Namespace], int]
COMMANDS: dict[str, Handler] = {
    "preflight": run_preflight,
    "bootstrap": run_bootstrap,
    "deploy": run_deploy,
    "params": run_params,
    "deploy-all": run_deploy_all,
    "drift": run_drift,
    "destroy": run_destroy,
    "outputs": run_outputs,
    "logs": run_logs,
}


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="python -m ops", description=__doc__)
    sub = top.add_subparsers(dest="command", required=True)
    for name in COMMANDS:
        command = sub.add_parser(name)
        command.add_argument("--env", default="")  # checked by target(), with its fix
        if name == "deploy-all":
            command.add_argument("--regions", default="")
            command.add_argument("--keep-going", action="store_true")
            continue
        command.add_argument("--region", default="")
        if name == "params":
            command.add_argument("--rotate", action="store_true")
            command.add_argument("--from-stdin", action="store_true")
        if name == "logs":
            command.add_argument("--function", default="")
        if name == "outputs":
            command.add_argument("--format", default="table")
    return top


def one_line(error: BaseException) -> str:
    if isinstance(error, ClientError):
        info = error.response.get("Error", {})
        return f"AWS refused {error.operation_name}: {info.get('Code')}: {info.get('Message')}"
    return str(error).splitlines()[0] if str(error) else type(error).__name__


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    # `preflight` has no make target of its own: its errors say "preflight failed" already.
    prefix = f"make {args.command}: " if args.command != "preflight" else ""
    try:
        return COMMANDS[args.command](args)
    except CommandError as error:
        print(f"{prefix}{error}", file=sys.stderr)
        return error.exit_code
    except ConfigError as error:
        print(f"{prefix}samconfig.toml: {error}", file=sys.stderr)
        return 2
    except (BotoCoreError, ClientError) as error:
        print(f"{prefix}{one_line(error)}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    # What the imports made (boto3, botocore, the spec) lives as long as the command: frozen,
    # it is no longer scanned by every full collection while the clients are made.
    gc.freeze()
    sys.exit(main())
