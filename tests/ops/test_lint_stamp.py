"""The preflight lints a template once: a redeploy of the same bytes under the same cfn-lint
reuses the clean result; any change to the template or to the linter lints again, and a
template with findings is never recorded."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest

from ops import preflight
from ops.preflight import PreflightError, check_lint

CLEAN = """AWSTemplateFormatVersion: "2010-09-09"
Resources:
  Topic:
    Type: AWS::SNS::Topic
"""
# E3002: a property the resource type does not have.
FINDING = CLEAN + "    Properties:\n      Colour: blue\n"


@pytest.fixture
def runs(monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    """Each cfn-lint run the preflight starts, still run for real."""
    started: list[list[str]] = []
    real = subprocess.run

    def counted(command: list[str], **options: Any) -> subprocess.CompletedProcess[str]:
        started.append(command)
        return real(command, **options)

    monkeypatch.setattr(preflight.subprocess, "run", counted)
    return started


def build_with(tmp_path: Path, template: str) -> Path:
    (tmp_path / "template.yaml").write_text(template)
    return tmp_path


def test_an_unchanged_template_is_linted_once(tmp_path: Path, runs: list[list[str]]) -> None:
    build = build_with(tmp_path, CLEAN)
    assert check_lint(build) == "cfn-lint reports nothing"
    assert check_lint(build) == "cfn-lint reported nothing for this template, as built"
    assert len(runs) == 1


def test_a_changed_template_is_linted_again(tmp_path: Path, runs: list[list[str]]) -> None:
    build = build_with(tmp_path, CLEAN)
    check_lint(build)
    (build / "template.yaml").write_text(CLEAN.replace("Topic:", "Alerts:"))
    assert check_lint(build) == "cfn-lint reports nothing"
    assert len(runs) == 2


def test_another_cfn_lint_version_lints_again(
    tmp_path: Path, runs: list[list[str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    build = build_with(tmp_path, CLEAN)
    check_lint(build)
    monkeypatch.setattr(preflight.metadata, "version", lambda name: "999.0.0")
    check_lint(build)
    assert len(runs) == 2


def test_findings_are_never_recorded(tmp_path: Path, runs: list[list[str]]) -> None:
    build = build_with(tmp_path, FINDING)
    for _ in range(2):
        with pytest.raises(PreflightError, match=r"lint findings .*E3002.*run `make lint`"):
            check_lint(build)
    assert len(runs) == 2
    assert not (build / "lint").exists()
