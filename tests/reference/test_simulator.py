"""The reference evaluator's driver (tests/reference/simulator.py) cannot hang a test: a
process that answers nothing, one that dies, and one that cannot start each fail naming the
command, and the process is gone afterwards."""

from __future__ import annotations

import re
import time
from typing import Any

import pytest

from tests.reference.cases import TABLE
from tests.reference.simulator import Simulator, SimulatorFailed

pytestmark = pytest.mark.differential

SILENT = ("node", "-e", "setInterval(() => {}, 1000)")  # reads nothing, answers nothing
DYING = ("node", "-e", "console.error('out of memory'); process.exit(3)")


def test_a_process_that_does_not_answer_fails_in_time_naming_the_command() -> None:
    with Simulator(SILENT, timeout_s=1) as silent:
        started = time.monotonic()
        with pytest.raises(SimulatorFailed, match=r"node -e setInterval.* did not answer"):
            silent.run([{}])
        assert time.monotonic() - started < 10
    assert silent.process.poll() is not None  # killed


def test_a_process_that_dies_fails_naming_the_command_and_its_errors() -> None:
    dies = pytest.raises(SimulatorFailed, match=r"(?s)node -e console.*status 3.*out of memory")
    with Simulator(DYING, timeout_s=30) as dying, dies:
        dying.run([{}])


def test_a_command_that_cannot_start_fails_naming_it() -> None:
    command = ("no-such-node", "tools/iam_simulate.mjs")
    with pytest.raises(SimulatorFailed, match=re.escape(f"{' '.join(command)} could not start")):
        Simulator(command)


def test_the_tool_answers_each_simulation_on_its_own_line(simulator: Simulator) -> None:
    """One result per simulation, in order: a verdict with the keys it ignored, or errors."""
    allow: dict[str, Any] = {"Effect": "Allow", "Action": "dynamodb:GetItem", "Resource": TABLE}
    request: dict[str, Any] = {
        "principal": "arn:aws:sts::123456789012:assumed-role/app-role/s",
        "action": "dynamodb:GetItem",
        "resource": {"resource": TABLE, "accountId": "123456789012"},
        "contextVariables": {"aws:SecureTransport": "true", "kms:ViaService": "x"},
    }
    valid: dict[str, Any] = {
        "request": request,
        "identityPolicies": [{"name": "p", "policy": {"Statement": [allow]}}],
        "serviceControlPolicies": [],
        "resourceControlPolicies": [],
    }
    unknown_action = {**valid, "request": {**request, "action": "dynamodb:Nope"}}
    answers = simulator.run([valid, unknown_action, {"not": "a simulation"}])
    assert answers[0] == {"overallResult": "Allowed", "ignoredContextKeys": ["kms:ViaService"]}
    assert answers[1] == {"errors": {"message": "invalid.action"}}
    assert "errors" in answers[2]
