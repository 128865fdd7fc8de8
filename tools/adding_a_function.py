"""docs/adding-a-function.md, followed as a new user follows it: each code block applied to a
copy of the project, then its commands run there, the last being the whole `make test`.

    python -m tools.adding_a_function [--into DIR]      (make try-adding-a-function)

tests/integration/test_adding_a_function.py applies the same steps (blocks, add_to_spec) and
runs the checks the new function can break; this runs the full suite, which is too long to
run inside it. A failure keeps the copy and says where it is.
"""

from __future__ import annotations

import argparse
import ast
import os
import re
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

from tools.project_copy import project_copy

ROOT = Path(__file__).resolve().parent.parent
PAGE = ROOT / "docs" / "adding-a-function.md"
BLOCK = re.compile(r'^```\w+ title="(?P<title>[^"]+)"\n(?P<body>.*?)^```$', re.M | re.S)
BEFORE_SPEC = "template_gen/spec.py: before SPEC"
FUNCTION = "template_gen/spec.py: appended to SPEC's functions"
TABLE = "ORDERS"  # the name step 1 declares, appended to SPEC's tables
COMMANDS = "then"
# The caller's settings that must not reach the copy's runs: an outer test run's audit log
# (its IAM report is about that project's roles) and make's own state.
OUTER_ONLY = ("OFFLINE_AUDIT_DIR", "MAKEFLAGS", "MAKELEVEL", "MFLAGS", "PYTEST_ADDOPTS")
# The longest command the page gives is the whole `make test` (about ten minutes here).
COMMAND_TIMEOUT_S = 1800


class StepFailed(Exception):
    pass


def blocks(page: str) -> dict[str, str]:
    """The page's titled code blocks, by title."""
    found = {m["title"]: m["body"] for m in BLOCK.finditer(page)}
    missing = {BEFORE_SPEC, FUNCTION, COMMANDS} - set(found)
    if missing:
        raise StepFailed(f"the page has no code block titled {', '.join(sorted(missing))}")
    if not found[BEFORE_SPEC].startswith(f"{TABLE} = Table("):
        raise StepFailed(f"the block {BEFORE_SPEC!r} does not declare {TABLE}")
    return found


def add_to_spec(spec: str, steps: dict[str, str]) -> str:
    """Steps 1 and 2: the table before SPEC, the function and the table appended to SPEC's
    functions and tables."""
    if spec.count("\nSPEC = Spec(\n") != 1:
        raise StepFailed("template_gen/spec.py has no single `SPEC = Spec(`")
    spec = spec.replace("\nSPEC = Spec(\n", "\n" + steps[BEFORE_SPEC] + "\n\nSPEC = Spec(\n")
    tables = re.search(r"^    tables=\((?P<names>.*)\),\n", spec, re.M)
    if tables is None:
        raise StepFailed("SPEC has no one-line tables=(...)")
    # The functions tuple closes on the line just before `tables=`.
    closing = spec.rindex("    ),\n", 0, tables.start())
    if closing + len("    ),\n") != tables.start():
        raise StepFailed("SPEC's functions=(...) does not close just before tables=(...)")
    entry = textwrap.indent(steps[FUNCTION].rstrip() + ",\n", " " * 8)
    spec = spec[:closing] + entry + spec[closing:]
    return spec.replace(tables.group(0), f"    tables=({tables['names']}, {TABLE}),\n", 1)


def declared_names(steps: dict[str, str]) -> set[str]:
    """The names the page's Table(...) and Function(...) declare (`orders`)."""
    return {
        node.value.value
        for title in (BEFORE_SPEC, FUNCTION)
        for node in ast.walk(ast.parse(steps[title]))
        if isinstance(node, ast.keyword) and node.arg == "name"
        and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str)
    }  # fmt: skip


def followed(spec: str, page: str) -> list[str]:
    """The page's names the spec (its text) already declares: the page was followed there."""
    return sorted(n for n in declared_names(blocks(page)) if f'name="{n}"' in spec)


def apply(copy: Path, page: str) -> list[str]:
    """The page's edits made to `copy`; its commands, in order, to run there."""
    steps = blocks(page)
    spec = copy / "template_gen" / "spec.py"
    taken = followed(spec.read_text(), page)
    if taken:
        raise StepFailed(f"template_gen/spec.py already declares {', '.join(taken)}")
    spec.write_text(add_to_spec(spec.read_text(), steps))
    files = [title for title in steps if "/" in title and not title.startswith("template_gen/")]
    if not files:
        raise StepFailed("the page names no file to create")
    for title in files:
        (copy / title).parent.mkdir(parents=True, exist_ok=True)
        (copy / title).write_text(steps[title])
    return [line for line in steps[COMMANDS].splitlines() if line.strip()]


def copy_environment() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k not in OUTER_ONLY}


def fresh_copy(into: Path) -> Path:
    """The project copied into `into`, a git repository as a clone is (some tests list the
    project's files with git)."""
    copy = project_copy(into / "backend-kit")
    subprocess.run(["git", "init", "--quiet"], cwd=copy, check=True, timeout=60)
    return copy


def follow(into: Path, page: Path = PAGE) -> Path:
    """A copy of the project in `into`, the page followed in it, every command passed."""
    copy = fresh_copy(into)
    commands = apply(copy, page.read_text())
    print(f"{page.relative_to(ROOT)} applied to {copy}", flush=True)
    for command in commands:
        print(f"==> {command}", flush=True)
        started = time.monotonic()
        try:
            result = subprocess.run(
                command.split(), cwd=copy, env=copy_environment(), stdin=subprocess.DEVNULL,
                timeout=COMMAND_TIMEOUT_S,
            )  # fmt: skip
        except subprocess.TimeoutExpired:
            raise StepFailed(f"`{command}` still ran after {COMMAND_TIMEOUT_S} s") from None
        if result.returncode != 0:
            raise StepFailed(f"`{command}` failed (exit code {result.returncode})")
        print(f"==> {command}: passed in {time.monotonic() - started:.0f}s", flush=True)
    return copy


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--into", type=Path, help="an empty folder for the copy (default: a new one)"
    )
    args = parser.parse_args(argv)
    into = args.into or Path(tempfile.mkdtemp(prefix="adding-a-function-"))
    into.mkdir(parents=True, exist_ok=True)
    try:
        copy = follow(into)
    except StepFailed as error:
        print(f"make try-adding-a-function: {error}; the copy is kept in {into}", file=sys.stderr)
        return 1
    print(f"every step of {PAGE.relative_to(ROOT)} passed in {copy}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
