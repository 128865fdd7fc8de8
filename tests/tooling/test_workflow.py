"""The GitHub Actions workflow: valid against GitHub's workflow schema (the copy vendored by
check-jsonschema, offline), and running the README's `make test` the way .ci/run does."""

from __future__ import annotations

import re
import subprocess
import tomllib
from pathlib import Path
from typing import Any

import yaml

from tests.tooling.conftest import ROOT

WORKFLOW = ROOT / ".github" / "workflows" / "ci.yml"


def check_workflow(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            str(ROOT / ".venv" / "bin" / "check-jsonschema"),
            "--builtin-schema",
            "vendor.github-workflows",
            str(path),
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )


def job() -> dict[str, Any]:
    jobs = yaml.safe_load(WORKFLOW.read_text())["jobs"]
    assert len(jobs) == 1
    (only,) = jobs.values()
    assert only["runs-on"] == "ubuntu-latest"
    return dict(only)


def steps() -> list[dict[str, Any]]:
    return list(job()["steps"])


def commands() -> list[str]:
    """The commands the job's runs run, its matrix expanded."""
    runs = [step["run"] for step in steps() if "run" in step]
    matrix = job().get("strategy", {}).get("matrix", {})
    expanded = []
    for run in runs:
        names = re.findall(r"\$\{\{\s*matrix\.(\w+)\s*\}\}", run)
        if not names:
            expanded.append(run)
            continue
        (name,) = names
        expanded += [re.sub(r"\$\{\{[^}]*\}\}", value, run) for value in matrix[name]]
    return expanded


def test_the_workflow_is_valid() -> None:
    result = check_workflow(WORKFLOW)
    assert result.returncode == 0, result.stdout + result.stderr


def test_a_broken_copy_is_refused(tmp_path: Path) -> None:
    text = WORKFLOW.read_text()
    runs_on = re.compile(r"^\s+runs-on:.*\n", re.MULTILINE)
    assert runs_on.search(text)
    broken = tmp_path / "ci.yml"
    broken.write_text(runs_on.sub("", text))
    result = check_workflow(broken)
    assert result.returncode == 1, result.stdout
    assert "'runs-on' is a required property" in result.stdout


def test_it_runs_make_test_through_the_ci_entry_point_and_the_documented_example() -> None:
    assert "make test" in (ROOT / ".ci" / "run").read_text()
    assert commands() == ["bash .ci/run", "make try-adding-a-function"]


def test_it_sets_up_the_python_floor_and_node() -> None:
    floor = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["requires-python"]
    actions = {step["uses"].split("@")[0]: step for step in steps() if "uses" in step}
    assert ">=" + actions["actions/setup-python"]["with"]["python-version"] == floor
    assert actions["actions/setup-node"]["with"]["node-version"]
    assert "actions/checkout" in actions


def test_it_needs_nothing_beside_the_clone() -> None:
    assert "../" not in WORKFLOW.read_text()  # every path it names is inside the checkout
