"""`make install` installs when a lock's content changes, and only then: a lock file that is
merely newer (a checkout, a copy of the project sharing node_modules and .venv) must not run
`npm ci`, which empties the node_modules it shares."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from tests.tooling.conftest import ROOT


def planned(repo: Path) -> str:
    """What `make install` would run, without running it."""
    result = subprocess.run(
        ["make", "--no-print-directory", "-n", "install"],
        cwd=repo,
        capture_output=True,
        text=True,
        check=True,
        timeout=600,
    )
    return result.stdout


def test_a_newer_lock_with_the_same_content_installs_nothing(clone: Path) -> None:
    (clone / "node_modules").symlink_to(ROOT / "node_modules")
    for lock in ("requirements.txt", "package-lock.json"):
        os.utime(clone / lock)  # now: newer than both stamps
    plan = planned(clone)
    assert "npm ci" not in plan and "pip install" not in plan, plan


def test_a_changed_lock_installs(clone: Path) -> None:
    (clone / "node_modules").symlink_to(ROOT / "node_modules")
    lock = clone / "package-lock.json"
    lock.write_text(lock.read_text() + "\n")
    assert "npm ci" in planned(clone)
