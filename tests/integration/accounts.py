"""An account of our own for a test module: its own emulator, whose every authorization
decision the module can read back, and its own copy of the project, so a module that edits
the spec or deploys several times shares nothing with another."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from offline.common.ports import free_ports
from offline.iam.audit import AUDIT_DIRECTORY, EXPECTED_DENIALS
from offline.stack import deployer
from offline.stack.emulator_process import EmulatorProcess
from template_gen.spec import SPEC
from tests.integration.conftest import Deployment
from tools.project_copy import project_copy

ENV = "dev"
STACK = f"{SPEC.project}-{ENV}"
EXECUTION_ROLE = f"{SPEC.project}-{ENV}-cloudformation"
# The role a CI system deploys as: it holds the deployer policy and nothing else.
CI_ROLE = "ci-deployer"


@dataclass
class Account:
    deployment: Deployment
    emulator: EmulatorProcess
    audit: Path

    @property
    def root(self) -> Path:
        return self.deployment.root

    def decisions(self) -> list[dict[str, Any]]:
        """Every authorization decision this account's emulator made, in order."""
        assert self.emulator.process is not None
        pid = self.emulator.process.pid
        entries = []
        for path in sorted(self.audit.glob(f"audit-{pid}-*.jsonl")):
            entries += [json.loads(line) for line in path.read_text().splitlines() if line]
        return entries

    def client(self, service: str, region: str) -> Any:
        return self.deployment.client(service, region)

    def admin(self, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
        return self.deployment.make(*args, stdin=stdin)

    def as_role(self, role_arn: str, region: str) -> dict[str, str]:
        """The environment of a process that calls the emulator in a session of `role_arn`."""
        endpoint = self.emulator.endpoint
        credentials = deployer.session(endpoint, role_arn, region)
        session = deployer.environment(endpoint, region, credentials)
        return {**self.deployment.environment, **session}

    def ci_role(self, policy_arns: list[str], name: str = CI_ROLE) -> str:
        """A role holding exactly `policy_arns`, as a CI system's role would."""
        return deployer.role(self.emulator.endpoint, name, policy_arns)


@contextmanager
def account(destination: Path, *, expect_denials: bool = False) -> Iterator[Account]:
    """A copy of the project and an emulator of its own, stopped at the end."""
    audit = Path(os.environ.get(AUDIT_DIRECTORY) or destination / "audit")
    settings = {AUDIT_DIRECTORY: str(audit), EXPECTED_DENIALS: "1" if expect_denials else "0"}
    emulator = EmulatorProcess(free_ports(1)[0], environment=settings)
    endpoint = emulator.start()
    try:
        copy = project_copy(destination / "backend-kit")
        yield Account(Deployment(copy, endpoint.url), emulator, audit)
    finally:
        emulator.stop()


def refused(decisions: list[dict[str, Any]], *roles: str) -> list[dict[str, Any]]:
    return [d for d in decisions if d.get("role") in roles and not d.get("allowed")]


def by_role(decisions: list[dict[str, Any]], role: str) -> list[dict[str, Any]]:
    return [d for d in decisions if d.get("role") == role]
