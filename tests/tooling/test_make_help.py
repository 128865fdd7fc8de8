"""`make help` on a fresh clone (no .venv): every target, and under it each variable its
recipe reads with the Makefile's default. What is expected comes from make's own database
(`make -p`): the recipes as make stores them, and each variable's value and origin."""

from __future__ import annotations

import os
import re
import signal
import subprocess
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import aws_environment
from tests.tooling.conftest import ROOT, outside_git

# `$(VAR)` or `${VAR}`, not the shell's `$$(...)`.
REFERENCE = re.compile(r"(?<!\$)\$[({]([A-Za-z_][A-Za-z0-9_]*)[)}]")
# Values the commands accept, for a required variable's neighbours in the refusal test.
VALID = {"REGION": "eu-west-1", "REGIONS": "eu-west-1", "ENV": "dev"}


def bare_environment() -> dict[str, str]:
    """No variable of the user's, so each takes the Makefile's default."""
    kept = outside_git()
    return {name: kept[name] for name in ("PATH", "HOME", "LANG") if name in kept}


@dataclass
class Database:
    """What make itself read from the Makefile."""

    values: dict[str, tuple[str, str]]  # name -> (origin, value)
    rules: dict[str, tuple[list[str], list[str]]]  # target -> (prerequisites, recipe lines)
    phony: list[str]


def read_database(repo: Path) -> Database:
    text = subprocess.run(
        ["make", "-pq", "help"],
        cwd=repo,
        env=bare_environment(),
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    ).stdout
    variables_part, files_part = text.split("\n# Files\n", 1)
    values: dict[str, tuple[str, str]] = {}
    origin = ""
    for line in variables_part.splitlines():
        if line.startswith("# "):
            origin = line[2:]
        elif match := re.match(r"^([A-Za-z_][A-Za-z0-9_]*) :?= ?(.*)$", line):
            values[match[1]] = (origin, match[2])
    rules: dict[str, tuple[list[str], list[str]]] = {}
    phony: list[str] = []
    lines = files_part.splitlines()
    for index, line in enumerate(lines):
        if line.startswith(".PHONY:"):
            phony = line.split(":", 1)[1].split()
        elif (rule := re.match(r"^([a-z][a-z0-9-]*):(?!=)(.*)$", line)) and rule[1] not in rules:
            recipe = []
            for following in lines[index + 1 :]:
                if following.startswith("\t"):
                    recipe.append(following[1:])
                elif not following.startswith("#"):
                    break
            rules[rule[1]] = (rule[2].split(), recipe)
    return Database(values, rules, phony)


def assigned_with_default(name: str, database: Database, makefile: list[str]) -> bool:
    """Whether the Makefile gives `name` a default the user overrides: `name ?= ...`."""
    origin = database.values.get(name, ("", ""))[0]
    line = re.match(r"makefile \(from 'Makefile', line (\d+)\)", origin)
    if line is None:
        return False
    return re.match(rf"^{name}\s*\?=", makefile[int(line[1]) - 1]) is not None


def user_variables(target: str, database: Database, makefile: list[str]) -> set[str]:
    """The variables `target`'s recipe reads that a user sets: the Makefile's `?=` ones, and
    those neither the Makefile nor make defines (flags, or USER from the environment)."""
    recipe = "\n".join(database.rules[target][1])
    return {
        name
        for name in REFERENCE.findall(recipe)
        if assigned_with_default(name, database, makefile) or name not in database.values
    }


def parse_help(output: str) -> dict[str, dict[str, str]]:
    listed: dict[str, dict[str, str]] = {}
    current: dict[str, str] = {}
    for line in output.splitlines():
        if target := re.match(r"^  make (\S+)\s", line):
            current = listed.setdefault(target[1], {})
        else:
            name, default = line.strip().split(None, 1)
            current[name] = default
    return listed


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from tests.tooling.conftest import lay_clone

    return lay_clone(tmp_path_factory.mktemp("make-help"))


@pytest.fixture(scope="module")
def database(repo: Path) -> Database:
    return read_database(repo)


@pytest.fixture(scope="module")
def listed(repo: Path) -> dict[str, dict[str, str]]:
    result = subprocess.run(
        ["make", "--no-print-directory", "help"],
        cwd=repo,
        env=bare_environment(),
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr
    assert not (repo / ".venv").exists(), "make help installed the toolchain"
    return parse_help(result.stdout)


def test_every_phony_target_is_listed(database: Database, listed: dict[str, dict[str, str]]):
    assert database.phony, "no .PHONY targets read from make's database"
    assert set(listed) == set(database.phony)


def test_each_target_lists_the_variables_its_recipe_reads(
    repo: Path, database: Database, listed: dict[str, dict[str, str]]
) -> None:
    makefile = (repo / "Makefile").read_text().splitlines()
    for target in database.phony:
        assert set(listed[target]) == user_variables(target, database, makefile), target
    # The deploy side reads both, which have no default; local falls back to dev.
    assert {"REGION", "ENV"} <= set(listed["deploy"])


def test_each_variable_shows_the_default_the_makefile_assigns(
    repo: Path, database: Database, listed: dict[str, dict[str, str]]
) -> None:
    makefile = (repo / "Makefile").read_text().splitlines()
    for target, variables in listed.items():
        recipe = "\n".join(database.rules[target][1])
        for name, shown in variables.items():
            where = f"make {target}: {name}"
            fallback = re.search(rf"\$\(or \$\({name}\),([^)]*)\)", recipe)
            value = database.values[name][1] if name in database.values else ""
            if fallback:
                assert shown == fallback[1], where
            elif value:
                assert assigned_with_default(name, database, makefile), where
                assert shown == value, where
            elif shown == "required":
                assert f'"$({name})"' in recipe, where
            elif shown == "(unset)":
                assert f"$(if $({name})," in recipe, where
            elif shown == "(empty)":
                assert f"$({name})" in recipe, where
                assert assigned_with_default(name, database, makefile), where
            else:
                assert shown == "(from the environment)", where
                assert name not in database.values, where


def test_a_required_variable_left_empty_is_refused(
    database: Database, listed: dict[str, dict[str, str]]
) -> None:
    required = [(t, n) for t, names in listed.items() for n, d in names.items() if d == "required"]
    assert required
    # Nothing of this machine's AWS set-up: a command that did not refuse reaches no account.
    aws = aws_environment(credentials=False)
    environment = {**bare_environment(), **{k: v for k, v in aws.items() if k.startswith("AWS_")}}

    def run_without(target: str, name: str) -> str | None:
        """Why `make target name=` did not refuse, or None when it did."""
        if f'"$({name})"' not in "\n".join(database.rules[target][1]):
            return f"make {target} does not pass {name} as an argument; not run"
        others = [f"{other}={VALID[other]}" for other in listed[target] if other in VALID]
        # -o: the recipe alone, without building or installing what it depends on.
        prerequisites = [f"-o{path}" for path in database.rules[target][0]]
        command = ["make", "-s", *prerequisites, target, *others, f"{name}="]
        with subprocess.Popen(
            command,
            cwd=ROOT,
            env=environment,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
        ) as process:
            try:
                _, stderr = process.communicate(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)  # make and whatever it started
                process.communicate()
                return f"{' '.join(command)} still ran after 60 s"
        if process.returncode == 0 or f"{name} is required" not in stderr:
            return f"{' '.join(command)} did not refuse: {stderr}"
        return None

    with ThreadPoolExecutor(max_workers=2) as pool:
        failures = [f for f in pool.map(lambda pair: run_without(*pair), required) if f]
    assert not failures, "\n".join(failures)


def test_a_missing_makefile_is_one_clear_line() -> None:
    result = subprocess.run(
        ["python3", str(ROOT / "tools" / "make_help.py"), "no-such.mk"],
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    assert result.returncode == 2
    assert result.stderr == "make help: no such makefile: no-such.mk\n"
