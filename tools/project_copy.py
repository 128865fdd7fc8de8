"""A copy of the project as a fresh clone would have it, plus uncommitted work, for tests and
benchmarks that run its make targets without touching this tree."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def project_copy(destination: Path, root: Path = ROOT) -> Path:
    """The files git tracks or would add (ignored ones left out), with `.venv` and
    `node_modules` linked to root's, so the copy's make targets install nothing."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=root, capture_output=True, check=True, timeout=600,
    ).stdout.decode()  # fmt: skip
    for name in filter(None, listed.split("\0")):
        source = root / name
        if source.is_file():
            target = destination / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    (destination / ".venv").symlink_to(root / ".venv")
    (destination / "node_modules").symlink_to(root / "node_modules")
    return destination
