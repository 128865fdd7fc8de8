"""The preflight's AWS reads start together, and still the first failing check in the list is
the one reported. The clients are fakes that count the calls in flight: what is asserted is
counts and order, never time."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any, cast

import boto3
import pytest
from botocore.exceptions import ClientError

from artifacts import manifest
from ops import execution_role, params, preflight
from ops.preflight import PreflightError
from template_gen.spec import SPEC

REGION, ENV = "us-east-1", "dev"
ACCOUNT = "111122223333"
IDENTITY = {"Account": ACCOUNT, "Arn": f"arn:aws:iam::{ACCOUNT}:user/tester"}
ROLE = f"arn:aws:iam::{ACCOUNT}:role/{SPEC.project}-{ENV}-cloudformation"
BOUNDARY = f"arn:aws:iam::{ACCOUNT}:policy/{SPEC.project}-{ENV}-boundary"
ATTACHED = [f"arn:aws:iam::{ACCOUNT}:policy/execution-{n}" for n in (1, 2)]
# What the template needs of its execution role (build/deploy-policies/execution.json).
NEEDED = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Action": "sqs:SendMessage",
            "Resource": "arn:${AWS::Partition}:sqs:*:${AWS::AccountId}:queue-${Environment}",
        }
    ],
}
# The first read of each service; each waits, at a barrier, for the other two to be in flight.
FIRST_READS = ("GetCallerIdentity", "DescribeParameters", "ListAttachedRolePolicies")
# A barrier that nobody else reaches breaks after this long; the count then shows it.
WAIT_S = 10


class Calls:
    """Every call the fake clients answer, and how many were in flight at most."""

    def __init__(self, barrier: threading.Barrier | None = None) -> None:
        self.lock = threading.Lock()
        self.barrier = barrier
        self.in_flight = 0
        self.peak = 0
        self.made: list[tuple[str, dict[str, Any]]] = []

    @contextmanager
    def call(self, operation: str, arguments: dict[str, Any]) -> Iterator[None]:
        with self.lock:
            self.made.append((operation, arguments))
            self.in_flight += 1
            self.peak = max(self.peak, self.in_flight)
        try:
            if self.barrier is not None and operation in FIRST_READS:
                # One read at a time never gets all three here: the barrier breaks, the
                # read goes on, and the peak stays below three.
                with suppress(threading.BrokenBarrierError):
                    self.barrier.wait()
            yield
        finally:
            with self.lock:
                self.in_flight -= 1


def refused(operation: str) -> ClientError:
    return ClientError({"Error": {"Code": "AccessDenied", "Message": "no"}}, operation)


class Sts:
    def __init__(self, calls: Calls) -> None:
        self.calls = calls

    def get_caller_identity(self) -> dict[str, str]:
        with self.calls.call("GetCallerIdentity", {}):
            return dict(IDENTITY)


class Ssm:
    def __init__(self, calls: Calls, stored: bool = True) -> None:
        self.calls, self.stored = calls, stored
        self.before: Callable[[], object] = lambda: None

    def describe_parameters(self, **arguments: Any) -> dict[str, Any]:
        self.before()
        with self.calls.call("DescribeParameters", arguments):
            key = params.key_alias(SPEC, ENV)
            names = params.parameter_names(SPEC, ENV) if self.stored else []
            stored = [{"Name": n, "Type": "SecureString", "KeyId": key} for n in names]
            return {"Parameters": stored}


class Iam:
    def __init__(self, calls: Calls, boundary_readable: bool = True) -> None:
        self.calls, self.boundary_readable = calls, boundary_readable
        self.boundary_refused = threading.Event()

    def list_attached_role_policies(self, **arguments: Any) -> dict[str, Any]:
        with self.calls.call("ListAttachedRolePolicies", arguments):
            return {"AttachedPolicies": [{"PolicyArn": arn} for arn in ATTACHED]}

    def get_policy(self, **arguments: Any) -> dict[str, Any]:
        with self.calls.call("GetPolicy", arguments):
            if arguments["PolicyArn"] == BOUNDARY and not self.boundary_readable:
                self.boundary_refused.set()
                raise refused("GetPolicy")
            return {"Policy": {"DefaultVersionId": "v1"}}

    def get_policy_version(self, **arguments: Any) -> dict[str, Any]:
        with self.calls.call("GetPolicyVersion", arguments):
            arn = arguments["PolicyArn"]
            if arn == ATTACHED[0]:
                document = execution_role.resolved(NEEDED, ENV, ACCOUNT, "aws")
            else:  # the other attached policy, and the boundary: grant what no role asks
                document = {"Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}
            return {"PolicyVersion": {"Document": json.dumps(document)}}


class Session:
    """A boto3 Session whose clients are the fakes; the region data is boto3's own."""

    def __init__(self, sts: Sts, ssm: Ssm, iam: Iam) -> None:
        self.fakes: dict[str, Any] = {"sts": sts, "ssm": ssm, "iam": iam}
        self.real = boto3.session.Session()
        self.made: list[str] = []

    def client(self, service: str, **_: Any) -> Any:
        self.made.append(service)
        return self.fakes[service]

    def get_available_partitions(self) -> list[str]:
        return self.real.get_available_partitions()

    def get_available_regions(self, service: str, partition: str) -> list[str]:
        return self.real.get_available_regions(service, partition)


@pytest.fixture
def project(tmp_path: Path) -> tuple[Path, Path]:
    """(build folder, samconfig.toml) that pass every local check: no zips, a template whose
    clean lint is recorded, an expanded template without roles, and an execution role."""
    build = tmp_path / "build"
    (build / "deploy-policies").mkdir(parents=True)
    target = manifest.BuildTarget("python3.14", "arm64", ())
    empty = manifest.Manifest("0" * 16, "zip", "1", target, ())
    (build / "manifest.json").write_text(manifest.dumps(empty))
    template = build / "template.yaml"
    template.write_text("Resources: {}\n")
    stamp = preflight.lint_stamp(template)
    stamp.parent.mkdir()
    stamp.write_text("template.yaml\n")
    (build / "template.expanded.json").write_text(json.dumps({"Resources": {}}))
    (build / "deploy-policies" / "execution.json").write_text(json.dumps(NEEDED))
    config = tmp_path / "samconfig.toml"
    config.write_text(
        f'version = 0.1\n[{ENV}.deploy.parameters]\nstack_name = "{SPEC.project}-{ENV}"\n'
        f'role_arn = "{ROLE}"\n'
        f'parameter_overrides = \'Environment="{ENV}" AllowedOrigins="https://app.example.com"\'\n'
    )
    return build, config


def run(project: tuple[Path, Path], session: Session, lines: list[str]) -> dict[str, str]:
    build, config = project
    return preflight.run(REGION, ENV, build, config, lines.append, cast(Any, session))


def test_the_reads_are_in_flight_together(project: tuple[Path, Path]) -> None:
    calls = Calls(threading.Barrier(len(FIRST_READS), timeout=WAIT_S))
    session = Session(Sts(calls), Ssm(calls), Iam(calls))
    lines: list[str] = []

    assert run(project, session, lines) == IDENTITY
    assert calls.peak >= len(FIRST_READS), calls.made
    assert [line.split(":")[0].strip() for line in lines] == [
        "ok  region", "ok  credentials", "ok  origins", "ok  artifacts", "ok  lint",
        "ok  parameters", "ok  execution role", "ok  execution policy", "ok  boundary",
    ]  # fmt: skip
    # Each client was made once, before the reads; the boundary read named the caller's account.
    assert sorted(session.made) == ["iam", "ssm", "sts"]
    assert ("GetPolicy", {"PolicyArn": BOUNDARY}) in calls.made
    read = [operation for operation, _ in calls.made]
    assert read.count("GetCallerIdentity") == 1
    assert read.count("GetPolicyVersion") == len(ATTACHED) + 1


def test_of_two_failures_the_earlier_check_is_reported(project: tuple[Path, Path]) -> None:
    """The SecureString is missing and the boundary cannot be read. The boundary's refusal
    comes back first, yet the parameters check comes first in the list: it is the one reported,
    and nothing after it is printed."""
    calls = Calls()
    ssm, iam = Ssm(calls, stored=False), Iam(calls, boundary_readable=False)
    # The parameters' answer waits for the boundary's refusal (bounded, should it never come).
    ssm.before = lambda: iam.boundary_refused.wait(WAIT_S)
    lines: list[str] = []

    with pytest.raises(PreflightError) as failure:
        run(project, Session(Sts(calls), ssm, iam), lines)
    assert iam.boundary_refused.is_set()  # both checks would fail
    parameter = params.parameter_names(SPEC, ENV)[0]
    assert str(failure.value) == (
        f"SecureString {parameter} is missing in {REGION}: run `make params REGION={REGION}"
        f" ENV={ENV}`"
    )
    assert [line.split(":")[0].strip() for line in lines] == [
        "ok  region", "ok  credentials", "ok  origins", "ok  artifacts", "ok  lint",
    ]  # fmt: skip


def test_a_later_read_failing_alone_is_reported_by_its_own_check(
    project: tuple[Path, Path],
) -> None:
    calls = Calls()
    lines: list[str] = []
    with pytest.raises(PreflightError, match=r"cannot read the boundary .*\(AccessDenied\)"):
        run(project, Session(Sts(calls), Ssm(calls), Iam(calls, boundary_readable=False)), lines)
    assert lines[-1].startswith("  ok  execution policy:")
