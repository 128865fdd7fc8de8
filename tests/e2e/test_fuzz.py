"""schemathesis, a fuzzer nobody here wrote, runs every check it has against the local stack
through the same command as `make fuzz`: server errors, status codes, content types, response
schemas and headers, and the stateful item lifecycle from the document's links."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

from offline.stack.driver import ServeProcess
from tests.e2e.conftest import ROOT

CONFIG = ROOT / "offline" / "fuzz.toml"
SEED = 20261201
EXAMPLES = 20  # per operation: about 800 requests, a bounded CI time with a fixed seed


def run_fuzz(local: ServeProcess, *options: str) -> tuple[subprocess.CompletedProcess, ET.Element]:
    result = subprocess.run(
        [sys.executable, "-m", "offline", "fuzz", *options],
        cwd=ROOT,
        env={**os.environ, "OFFLINE_STATE": str(local.state)},
        capture_output=True,
        text=True,
        timeout=600,
    )
    reports = sorted((local.state.parent / "fuzz-report").glob("junit-*.xml"))
    assert reports, result.stdout + result.stderr
    suite = ET.parse(reports[-1]).getroot()
    for report in reports:
        report.unlink()  # the next run's report is the only one there
    return result, suite


def test_schemathesis_finds_nothing_with_every_check(local: ServeProcess) -> None:
    result, suite = run_fuzz(local, "--examples", str(EXAMPLES), "--seed", str(SEED))
    assert result.returncode == 0, result.stdout[-20000:] + result.stderr[-5000:]
    document = json.loads((ROOT / "build" / "openapi.json").read_text())
    operations = {
        f"{method.upper()} {path}" for path, item in document["paths"].items() for method in item
    }
    tested = {case.get("name") for case in suite.iter("testcase")}
    assert tested == operations | {"Stateful tests"}  # every operation, and the lifecycle
    assert (suite.get("failures"), suite.get("errors")) == ("0", "0")


def test_the_fuzzer_does_fail_the_build_when_the_api_breaks_a_rule(
    local: ServeProcess, tmp_path: Path
) -> None:
    """Without the contract's 428 for a missing If-Match, schemathesis expects a 4xx it
    knows, and the command fails: the run above passes because the checks hold."""
    config = CONFIG.read_text()
    section = config.index("[checks.missing_required_header]")
    end = config.index("[checks.unsupported_method]")
    (tmp_path / "fuzz.toml").write_text(config[:section] + config[end:])
    result, suite = run_fuzz(
        local,
        "--config",
        str(tmp_path / "fuzz.toml"),
        "--examples",
        "5",
        "--",
        "--include-name",
        "DELETE /items/{id}",
        "--phases",
        "coverage",
    )
    assert result.returncode == 1, result.stdout[-5000:]
    assert "Missing required header" in result.stdout
    cases = suite.iter("testcase")
    failed = [case.get("name") for case in cases if case.find("failure") is not None]
    assert failed == ["DELETE /items/{id}"]


def test_fuzz_without_a_running_stack_says_how_to_start_one(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "offline", "fuzz"],
        cwd=ROOT,
        env={**os.environ, "OFFLINE_STATE": str(tmp_path / "state.json")},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert "make local is not running here" in result.stdout + result.stderr
    assert "Traceback" not in result.stderr
