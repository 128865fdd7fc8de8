"""`python -m ops preflight|params|deploy-all|drift|destroy` (the make targets call these).

Every AWS call goes through boto3, so AWS_ENDPOINT_URL points them all at an emulator.
"""

from __future__ import annotations

import argparse
import getpass
import os
import subprocess
import sys

import boto3

from ops import deploy_all, destroy, drift, params, preflight
from ops.config import deploy_parameters
from template_gen.spec import SPEC


def stack_name(environment: str) -> str:
    return deploy_parameters(environment)["stack_name"]


def run_preflight(args: argparse.Namespace) -> int:
    print(f"preflight: {SPEC.project} {args.env} in {args.region}")
    try:
        preflight.run(args.region, args.env)
    except preflight.PreflightError as error:
        print(f"preflight failed: {error}", file=sys.stderr)
        return 1
    return 0


def read_value(name: str) -> str:
    """From standard input only: a prompt without echo on a terminal, else one line."""
    if sys.stdin.isatty():
        value = getpass.getpass(f"value for {name}: ")
    else:
        value = sys.stdin.readline().rstrip("\n")
    if not value:
        raise SystemExit(f"no value for {name} on standard input")
    return value


def run_params(args: argparse.Namespace) -> int:
    ssm = boto3.client("ssm", region_name=args.region)
    value = read_value if args.from_stdin else (lambda _name: params.random_value())
    for outcome in params.ensure(ssm, SPEC, args.env, rotate=args.rotate, value=value):
        print(f"{outcome.name} in {args.region}: {outcome.action}")
    if args.rotate:
        print(
            "handlers pick the new value up within their cache age"
            " (backend_kit.secrets.MAX_AGE_S, 5 minutes)"
        )
    return 0


def run_deploy_all(args: argparse.Namespace) -> int:
    regions = args.regions.split()
    if not regions:
        print('no regions: make deploy-all REGIONS="us-east-1 eu-west-1" ENV=...', file=sys.stderr)
        return 2
    make = os.environ.get("MAKE", "make")
    # `make -n deploy-all` runs this with n in MAKEFLAGS: each regional make then only prints.
    # GNU make puts its single-letter flags first, as one word without a dash.
    letters = os.environ.get("MAKEFLAGS", "").split(" ")[0]
    dry_run = not letters.startswith("-") and "n" in letters

    def deploy(region: str) -> bool:
        command = [make, "--no-print-directory", "deploy", f"REGION={region}", f"ENV={args.env}"]
        return subprocess.run(command).returncode == 0

    def describe(region: str) -> tuple[str, str]:
        if dry_run:
            return "dry run", ""
        cloudformation = boto3.client("cloudformation", region_name=region)
        return deploy_all.stack_summary(cloudformation, stack_name(args.env))

    results = deploy_all.deploy_all(regions, deploy, describe, keep_going=args.keep_going)
    print(deploy_all.table(results))
    untouched = [r.region for r in results if r.status == deploy_all.NOT_ATTEMPTED]
    if untouched:
        print(f"left untouched after a failure: {', '.join(untouched)} (CONTINUE=1 goes on)")
    return 1 if any(r.failed for r in results) else 0


def run_drift(args: argparse.Namespace) -> int:
    cloudformation = boto3.client("cloudformation", region_name=args.region)
    stack = stack_name(args.env)
    print(f"detecting drift of {stack} in {args.region} ...", flush=True)
    print(drift.report(stack, drift.detect(cloudformation, stack)))
    return 0


def run_destroy(args: argparse.Namespace) -> int:
    cloudformation = boto3.client("cloudformation", region_name=args.region)
    done = destroy.destroy(cloudformation, stack_name(args.env), args.region, ask=input)
    return 0 if done else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ops", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    for name in ("preflight", "params", "drift", "destroy"):
        command = sub.add_parser(name)
        command.add_argument("--region", required=True)
        command.add_argument("--env", required=True, choices=SPEC.environments)
        if name == "params":
            command.add_argument("--rotate", action="store_true")
            command.add_argument("--from-stdin", action="store_true")
    every = sub.add_parser("deploy-all")
    every.add_argument("--regions", required=True)
    every.add_argument("--env", required=True, choices=SPEC.environments)
    every.add_argument("--keep-going", action="store_true")
    args = parser.parse_args(argv)
    handlers = {
        "preflight": run_preflight,
        "params": run_params,
        "deploy-all": run_deploy_all,
        "drift": run_drift,
        "destroy": run_destroy,
    }
    return handlers[args.command](args)


if __name__ == "__main__":
    sys.exit(main())
