"""offline/policy.py decides as an IAM evaluator nobody here wrote decides
(@cloud-copilot/iam-simulate, a test-only tool), on policies and requests hypothesis generates
(tests/reference/cases.py): every disagreement is a row of known_differences.toml, with the
AWS page that settles it. A fixed seed and 2,000 cases here; `make differential` runs more."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from tests.reference.cases import Case, generated
from tests.reference.differential import Run, compare
from tests.reference.simulator import Simulator

CASES = int(os.environ.get("DIFFERENTIAL_CASES", "2000"))
SEED = int(os.environ.get("DIFFERENTIAL_SEED", "20261205"))


@pytest.fixture(scope="module")
def simulator() -> Iterator[Simulator]:
    reference = Simulator()
    try:
        yield reference
    finally:
        reference.close()


@pytest.fixture(scope="module")
def cases() -> list[Case]:
    return generated(CASES, SEED)


@pytest.fixture(scope="module")
def run(simulator: Simulator, cases: list[Case]) -> Run:
    compared = Run()
    for start in range(0, len(cases), 500):
        compare(simulator, cases[start : start + 500], compared)
    return compared


def test_offline_decides_as_the_reference_evaluator(run: Run) -> None:
    shown = "\n\n".join(
        f"offline: {mine}, reference: {theirs}\n{one.simulation()}"
        for one, mine, theirs in run.unexplained[:3]
    )
    assert not run.unexplained, f"{len(run.unexplained)} unexplained disagreements:\n{shown}"


def test_the_run_is_as_large_and_as_wide_as_promised(run: Run) -> None:
    """Counts, not timings: the cases compared, and the operator families and policy
    elements they cover."""
    assert run.cases == CASES >= 2000
    operators = {f for f in run.covered if f.startswith("operator:")}
    families = {"String", "Arn", "Bool", "Numeric", "Date", "IpAddress", "Null", "IfExists",
                "ForAnyValue", "ForAllValues"}  # fmt: skip
    assert all(any(family in o for o in operators) for family in families), sorted(operators)
    elements = {f for f in run.covered if f.startswith("element:")}
    assert {f"element:{e}" for e in ("Action", "NotAction", "Resource", "NotResource",
                                     "Principal", "NotPrincipal")} <= elements  # fmt: skip
    assert 0 < run.agreed < run.cases  # the known differences do occur, and are checked


def test_the_comparison_catches_an_evaluator_that_errs(
    simulator: Simulator, cases: list[Case], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The guard itself: with StringLike taken for StringEquals, the same comparison reports
    disagreements no row explains."""
    from offline import policy

    monkeypatch.setitem(policy.OPERATORS, "StringLike", policy.OPERATORS["StringEquals"])
    broken = Run()
    compare(simulator, cases[:500], broken)
    assert broken.unexplained, "a wrong StringLike went unnoticed"
