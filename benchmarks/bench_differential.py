"""offline/policy.py against @cloud-copilot/iam-simulate (the reference evaluator the
differential test uses, tests/reference/) on a larger run than `make test`'s, side by side.

    python benchmarks/bench_differential.py [--cases N] [--seed S]

Prints the run's size (cases, distinct operators, condition keys, actions and policy
elements), its agreement with the reference (target: 100%, every disagreement a known
difference of tests/reference/known_differences.toml), how the verdicts spread, and the time
per case of each evaluator.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.reference.cases import generated  # noqa: E402
from tests.reference.differential import Run, compare, ours  # noqa: E402
from tests.reference.simulator import Simulator  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=20000)
    parser.add_argument("--seed", type=int, default=random.SystemRandom().randrange(2**31))
    arguments = parser.parse_args()
    print(f"generating {arguments.cases} cases, seed {arguments.seed}", flush=True)
    cases = generated(arguments.cases, arguments.seed, batch=50)
    simulator = Simulator()
    try:
        run = Run()
        started = time.perf_counter()
        for start in range(0, len(cases), 500):
            compare(simulator, cases[start : start + 500], run)
        both = time.perf_counter() - started
        started = time.perf_counter()
        verdicts = Counter(ours(one) for one in cases)
        mine = time.perf_counter() - started
        simulated = simulator.run([one.simulation() for one in cases[:2000]])
        started = time.perf_counter()
        simulator.run([one.simulation() for one in cases[:2000]])
        theirs = (time.perf_counter() - started) / 2000 * len(cases)
        del simulated
    finally:
        simulator.close()
    kinds = Counter(f.split(":", 1)[0] for f in run.covered)
    agreement = (run.agreed + run.explained_cases) / run.cases
    print(f"cases {run.cases}: {kinds['operator']} operators, {kinds['key']} condition keys, "
          f"{kinds['action']} actions, {kinds['element']} policy elements")  # fmt: skip
    print(f"agreement: {run.agreed / run.cases:.2%} identical verdicts; with the known "
          f"differences {agreement:.2%}; unexplained {len(run.unexplained)}")  # fmt: skip
    for difference, count in sorted(run.explained.items()):
        print(f"  known difference {difference}: {count} cases")
    print("verdicts (offline): " + ", ".join(f"{k} {v}" for k, v in sorted(verdicts.items())))
    print(f"time per case: offline {mine / len(cases) * 1e6:.0f} us, "
          f"reference {theirs / len(cases) * 1e6:.0f} us (Node.js, one process)"
          f"  [{both:.1f} s for the comparison]")  # fmt: skip
    return 1 if run.unexplained else 0


if __name__ == "__main__":
    sys.exit(main())
