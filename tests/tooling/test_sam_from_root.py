"""SAM CLI's own commands at the repository root, as a SAM user types them: samconfig.toml's
default environment names the rendered template, so `sam validate` and `sam build` pass, and
`sam local invoke` and `sam local start-api` get as far as this machine allows: the message
that they need a container runtime, which it has none of."""

from __future__ import annotations

import re
import shutil
import subprocess
import tomllib
from pathlib import Path

import pytest

from template_gen.spec import SPEC
from tests.conftest import aws_environment
from tools.project_copy import project_copy

ROOT = Path(__file__).resolve().parents[2]
SAM = ROOT / ".venv" / "bin" / "sam"
CONTAINER = "requires a container runtime"
NOT_FOUND = "not found"


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the project with this tree's build, so `sam build` writes its .aws-sam there."""
    template = ROOT / "build" / "template.yaml"
    if not template.is_file():
        subprocess.run(["make", "-s", "build"], cwd=ROOT, check=True, timeout=600)
    copy = project_copy(tmp_path_factory.mktemp("sam") / "backend-kit")
    shutil.copytree(ROOT / "build", copy / "build", symlinks=True)
    return copy


def sam(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """A SAM user's environment: a region, no credentials, no Docker."""
    environment = {**aws_environment(credentials=False), "AWS_DEFAULT_REGION": "us-east-1"}
    return subprocess.run(
        [str(SAM), *args], cwd=cwd, env=environment, stdin=subprocess.DEVNULL,
        capture_output=True, text=True, timeout=180,
    )  # fmt: skip


def test_sam_validate_finds_and_accepts_the_template(root: Path) -> None:
    result = sam(root, "validate", "--lint")
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"{root / 'build' / 'template.yaml'} is a valid SAM Template" in result.stdout


def test_sam_build_builds_it(root: Path) -> None:
    result = sam(root, "build")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Build Succeeded" in result.stdout
    assert (root / ".aws-sam" / "build" / "template.yaml").is_file()


@pytest.mark.parametrize(
    "command",
    [["local", "invoke", "UsersFunction", "-e", "events/users/list.json"], ["local", "start-api"]],
    ids=["local invoke", "local start-api"],
)
def test_sam_local_stops_only_for_the_container_runtime(root: Path, command: list[str]) -> None:
    result = sam(root, *command)
    said = result.stdout + result.stderr
    assert result.returncode != 0, said
    assert CONTAINER in said and NOT_FOUND not in said, said


def test_without_the_default_template_sam_stops_at_finding_it(root: Path, tmp_path: Path) -> None:
    """What the default environment's template_file is for: without it, SAM CLI looks for
    template.yml at the root and stops there."""
    config = (root / "samconfig.toml").read_text()
    default = re.search(r"\[default\.global\.parameters\]\n(?:[^\[\n].*\n)*", config)
    assert default is not None and "template_file" in default.group(0)
    bare = project_copy(tmp_path / "backend-kit")
    (bare / "samconfig.toml").write_text(
        config.replace(default.group(0), "[default.global.parameters]\nbeta_features = false\n")
    )
    shutil.copytree(root / "build", bare / "build", symlinks=True)
    result = sam(bare, "local", "invoke", "UsersFunction", "-e", "events/users/list.json")
    assert "Template file not found" in result.stdout + result.stderr


def test_the_default_environment_is_the_first_environments_parameters() -> None:
    """The default's overrides are the first environment's (dev), so a root `sam local` call
    sees what `make local` deploys; a changed dev value without the default fails here."""
    config = tomllib.loads((ROOT / "samconfig.toml").read_text())
    first = SPEC.environments[0]
    default = config["default"]["global"]["parameters"]
    assert (
        default["parameter_overrides"]
        == config[first]["global"]["parameters"]["parameter_overrides"]
    )
    assert default["template_file"] == config[first]["global"]["parameters"]["template_file"]
    assert "stack_name" not in default  # a bare `sam deploy` names no environment
