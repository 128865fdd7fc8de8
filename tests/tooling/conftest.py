"""A temporary clone of the repository, holding the working tree as it would be committed."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def outside_git() -> dict[str, str]:
    """This environment without an outer git's variables (a hook's GIT_DIR, GIT_INDEX_FILE),
    which would point every git command at the outer repository instead of the clone."""
    return {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}


def git(repo: Path, *args: str) -> str:
    result = subprocess.run(
        ["git", *args],
        cwd=repo,
        env=outside_git(),
        capture_output=True,
        text=True,
        check=True,
        timeout=600,
    )
    return result.stdout


def lay_clone(tmp_path: Path) -> Path:
    """A clone of ROOT with its uncommitted and untracked (not ignored) files laid over and
    staged, so it holds what the next commit would: a fresh clone, without .venv."""
    repo = tmp_path / "repo"
    git(tmp_path, "clone", "--quiet", str(ROOT), str(repo))
    listed = git(ROOT, "ls-files", "-z", "--cached", "--others", "--exclude-standard")
    names = set(filter(None, listed.split("\0")))
    for name in names:
        source, target = ROOT / name, repo / name
        if source.is_symlink() or source.is_file():
            target.parent.mkdir(parents=True, exist_ok=True)
            target.unlink(missing_ok=True)
            shutil.copy2(source, target, follow_symlinks=False)
        else:  # deleted in the working tree
            target.unlink(missing_ok=True)
    # Removed or moved away (git rm, git mv) since the last commit: gone from the index too.
    committed = git(repo, "ls-files", "-z")
    for name in set(filter(None, committed.split("\0"))) - names:
        (repo / name).unlink(missing_ok=True)
    git(repo, "add", "--all")
    return repo


@pytest.fixture
def fresh_clone(tmp_path: Path) -> Path:
    return lay_clone(tmp_path)


@pytest.fixture
def clone(tmp_path: Path) -> Path:
    """A fresh clone whose `.venv` is ROOT's toolchain."""
    venv = ROOT / ".venv"
    assert (venv / "bin" / "python").exists(), "no .venv: run `make install` first"
    repo = lay_clone(tmp_path)
    (repo / ".venv").symlink_to(venv)
    return repo
