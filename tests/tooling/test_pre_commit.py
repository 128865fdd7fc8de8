"""The pre-commit hooks, run by the real pre-commit in a clone of the repository."""

from __future__ import annotations

import subprocess
from pathlib import Path

import yaml

from tests.tooling.conftest import ROOT, git, outside_git

CONFIG = ROOT / ".pre-commit-config.yaml"


def pre_commit(repo: Path, *args: str) -> subprocess.CompletedProcess[str]:
    environment = {
        **outside_git(),
        "PRE_COMMIT_HOME": str(repo.parent / "pre-commit-home"),
        # The working tree's own cache: mypy rechecks only what differs from the last run.
        "MYPY_CACHE_DIR": str(ROOT / ".mypy_cache"),
    }
    return subprocess.run(
        [str(ROOT / ".venv" / "bin" / "pre-commit"), "run", "--color", "never", *args],
        cwd=repo,
        env=environment,
        capture_output=True,
        text=True,
        check=False,
        stdin=subprocess.DEVNULL,
        timeout=600,
    )


def hooks() -> list[dict[str, object]]:
    config = yaml.safe_load(CONFIG.read_text())
    return [hook for repo in config["repos"] for hook in repo["hooks"]]


def test_every_hook_is_local_and_runs_the_pinned_toolchain() -> None:
    config = yaml.safe_load(CONFIG.read_text())
    assert [repo["repo"] for repo in config["repos"]] == ["local"]
    for hook in hooks():
        assert hook["language"] == "unsupported", hook["id"]  # nothing for pre-commit to install
        assert ".venv/bin/" in str(hook["entry"]), hook["id"]
    ids = {str(hook["id"]) for hook in hooks()}
    assert {"ruff-check", "ruff-format", "mypy", "mypy-functions", "cfn-lint"} <= ids


def test_every_hook_passes_on_every_file(clone: Path) -> None:
    # The clone holds the working tree's uncommitted changes, staged: a hook that changes a
    # file shows as a difference between the working tree and that index.
    result = pre_commit(clone, "--all-files")
    # The hooks' summary lines, then the end of their output: mypy's notes can run long.
    summary = [line for line in result.stdout.splitlines() if "...." in line]
    assert result.returncode == 0, "\n".join(summary) + "\n" + result.stdout[-4000:]
    for hook in hooks():
        # Each one ran on something and passed; none was skipped for want of files.
        assert any(
            line.startswith(str(hook["name"])) and line.endswith("Passed")
            for line in result.stdout.splitlines()
        ), f"{hook['id']} did not pass:\n{result.stdout}"
    assert git(clone, "diff", "--name-only") == "", "a hook changed a file"
    assert git(clone, "ls-files", "--others", "--exclude-standard") == "", "a hook made a file"


def test_a_ruff_error_fails_the_ruff_hook(clone: Path) -> None:
    broken = clone / "unused_import.py"
    broken.write_text('"""A module with an unused import."""\n\nimport os\n')
    git(clone, "add", str(broken))
    failed = pre_commit(clone, "ruff-check", "--files", str(broken.relative_to(clone)))
    assert failed.returncode == 1, failed.stdout
    assert "- hook id: ruff-check" in failed.stdout
    assert "F401" in failed.stdout
    assert "unused_import.py:3:8" in failed.stdout

    broken.write_text('"""A module with an unused import, removed."""\n')
    git(clone, "add", str(broken))
    fixed = pre_commit(clone, "ruff-check", "--files", str(broken.relative_to(clone)))
    assert fixed.returncode == 0, fixed.stdout


def test_a_type_error_in_a_function_folder_fails_the_mypy_hook(clone: Path) -> None:
    """Each function folder is checked on its own (every one has an app.py): a type error
    in one is found, named with its folder's path."""
    handler = clone / "functions" / "health" / "app.py"
    handler.write_text(handler.read_text() + '\n\nNOT_A_NUMBER: int = "three"\n')
    git(clone, "add", str(handler))
    failed = pre_commit(clone, "mypy-functions", "--all-files")
    assert failed.returncode == 1, failed.stdout
    assert "functions/health/app.py" in failed.stdout
    assert "Incompatible types in assignment" in failed.stdout
