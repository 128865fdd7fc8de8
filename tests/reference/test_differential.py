"""aws_semantics/policy.py decides as an IAM evaluator nobody here wrote decides
(@cloud-copilot/iam-simulate, a test-only tool), on policies and requests hypothesis generates
(tests/reference/cases.py): every disagreement is a row of known_differences.toml, with the
AWS page that settles it. A fixed seed and 2,000 cases here; `make differential` runs more
(DIFFERENTIAL_CASES, DIFFERENTIAL_SEED)."""

from __future__ import annotations

import json
import os

import pytest

from tests.reference.cases import FAMILIES, Case, generated
from tests.reference.differential import Run, compare
from tests.reference.simulator import Simulator

pytestmark = pytest.mark.differential

CASES = int(os.environ.get("DIFFERENTIAL_CASES", "2000"))
SEED = int(os.environ.get("DIFFERENTIAL_SEED", "20261205"))
BATCH = 500  # cases to the reference in one round trip


@pytest.fixture(scope="module")
def cases() -> list[Case]:
    return generated(CASES, SEED)


@pytest.fixture(scope="module")
def run(simulator: Simulator, cases: list[Case]) -> Run:
    compared = Run()
    for start in range(0, len(cases), BATCH):
        compare(simulator, cases[start : start + BATCH], compared)
    return compared


def test_offline_decides_as_the_reference_evaluator(run: Run) -> None:
    shown = "\n\n".join(
        f"offline: {mine}, reference: {theirs}\n{one.simulation()}"
        for one, mine, theirs in run.unexplained[:3]
    )
    assert not run.unexplained, f"{len(run.unexplained)} unexplained disagreements:\n{shown}"


def test_the_run_is_as_large_and_as_wide_as_promised(run: Run) -> None:
    """Counts, not timings: the cases compared, and the operator families, policy elements and
    callers they cover."""
    assert run.cases == CASES >= 2000
    operators = {f for f in run.covered if f.startswith("operator:")}
    families = {"String", "Arn", "Bool", "Numeric", "Date", "IpAddress", "Binary", "Null",
                "IfExists", "ForAnyValue", "ForAllValues"}  # fmt: skip
    assert all(any(family in o for o in operators) for family in families), sorted(operators)
    every = {op for ops in FAMILIES.values() for op in ops} | {"Null"}
    assert every <= {o.removeprefix("operator:") for o in operators}, every
    elements = {f for f in run.covered if f.startswith("element:")}
    assert {f"element:{e}" for e in ("Action", "NotAction", "Resource", "NotResource",
                                     "Principal", "NotPrincipal")} <= elements  # fmt: skip
    assert {"caller:session", "caller:anonymous"} <= run.covered
    assert 0 < run.agreed < run.cases  # the known differences do occur, and are checked


def test_the_comparison_catches_an_evaluator_that_errs(
    simulator: Simulator, cases: list[Case], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The guard itself: with StringLike taken for StringEquals, the same comparison of the
    cases that use StringLike reports disagreements no row explains."""
    from aws_semantics import policy

    using = [c for c in cases if "StringLike" in json.dumps([c.identity, c.resource_policy])]
    assert using
    monkeypatch.setitem(policy.OPERATORS, "StringLike", policy.OPERATORS["StringEquals"])
    broken = Run()
    for start in range(0, len(using), BATCH):
        compare(simulator, using[start : start + BATCH], broken)
    assert broken.unexplained, "a wrong StringLike went unnoticed"
