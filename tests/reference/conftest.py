"""One reference evaluator process (tools/iam_simulate.mjs) for the whole test session, killed
at its end whatever happened."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.reference.simulator import Simulator


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "differential: aws_semantics/policy.py against the reference IAM evaluator"
    )


@pytest.fixture(scope="session")
def simulator() -> Iterator[Simulator]:
    with Simulator() as reference:
        yield reference
