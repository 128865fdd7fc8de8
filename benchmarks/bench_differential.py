"""aws_semantics/policy.py against @cloud-copilot/iam-simulate (the reference evaluator the
differential test uses, tests/reference/) on a larger run than `make test`'s, side by side.

    python benchmarks/bench_differential.py [--cases N] [--seed S]

Prints the run's size (cases, distinct operators, condition keys, actions and policy
elements), its agreement with the reference (target: 100%, every disagreement a known
difference of tests/reference/known_differences.toml, each named with the cases it explains),
how the verdicts spread, and the time per case of each evaluator: aws_semantics/policy.py in this
process, the reference in its Node.js process, one round trip a batch of 500 (JSON both ways
included). The reference is timed apart from the comparison, after a first simulation has
loaded its data.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.reference.cases import Case, generated  # noqa: E402
from tests.reference.differential import Run, compare, ours  # noqa: E402
from tests.reference.simulator import Simulator  # noqa: E402

BATCH = 500


def batches(cases: list[Case]) -> list[list[Case]]:
    return [cases[start : start + BATCH] for start in range(0, len(cases), BATCH)]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=20000)
    parser.add_argument("--seed", type=int, default=20261205)
    arguments = parser.parse_args()
    started = time.perf_counter()
    cases = generated(arguments.cases, arguments.seed)
    drawn = time.perf_counter() - started
    print(f"{len(cases)} cases, seed {arguments.seed} (drawn in {drawn:.1f} s)", flush=True)
    with Simulator() as simulator:
        simulator.run([cases[0].simulation()])
        started = time.perf_counter()
        for batch in batches(cases):
            simulator.run([one.simulation() for one in batch])
        theirs = time.perf_counter() - started
        run = Run()
        for batch in batches(cases):
            compare(simulator, batch, run)
    started = time.perf_counter()
    verdicts = Counter(ours(one) for one in cases)
    mine = time.perf_counter() - started
    kinds = Counter(f.split(":", 1)[0] for f in run.covered)
    callers = sorted(f.split(":", 1)[1] for f in run.covered if f.startswith("caller:"))
    print(f"covered: {kinds['operator']} distinct operators, {kinds['key']} condition keys, "
          f"{kinds['action']} actions, {kinds['element']} policy elements, callers "
          f"{', '.join(callers)}")  # fmt: skip
    agreement = (run.agreed + run.explained_cases) / run.cases
    print(f"agreement: {agreement:.2%} ({run.agreed / run.cases:.2%} identical verdicts, "
          f"{run.explained_cases} cases a known difference); unexplained "
          f"{len(run.unexplained)}")  # fmt: skip
    for difference, count in sorted(run.explained.items(), key=lambda item: -item[1]):
        print(f"  known difference {difference}: {count} cases")
    print("verdicts (offline): " + ", ".join(f"{k} {v}" for k, v in sorted(verdicts.items())))
    per_case = 1e6 / len(cases)
    print(f"time per case: aws_semantics/policy.py {mine * per_case:.0f} us, "
          f"iam-simulate {theirs * per_case:.0f} us (Node.js, batches of {BATCH})")  # fmt: skip
    return 1 if run.unexplained else 0


if __name__ == "__main__":
    sys.exit(main())
