"""`make help`: every documented target, and under it the variables its recipe reads.

    python3 tools/make_help.py [--make MAKE] MAKEFILE...

Everything is read from the Makefile, so the list cannot drift from it: a target is
documented by its `## ` comment; its variables are the ones its own recipe references that
a user sets on the command line: those the Makefile assigns with `?=`, and those it never
assigns (flags such as NO_ENFORCEMENT, or USER from the environment). Internal variables
(`:=`, `=`) and make's own (CURDIR, MAKEFILE_LIST) are left out. Each is shown with its
default:

- the `?=` value, or X where the recipe reads `$(or $(VAR),X)`;
- `required` where the default is empty and the recipe hands the value to the command as
  an argument of its own ("$(VAR)"), which the command refuses when empty;
- `(unset)` where the recipe only tests it with `$(if $(VAR),...)`: an option left out;
- `(empty)` where an empty value is passed through as nothing (PYTEST_ARGS);
- `(from the environment)` for a variable the Makefile never assigns that the recipe uses
  as a value.

Standard library only, for the system python3: `make help` works before .venv exists.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

NAME = r"[A-Za-z_][A-Za-z0-9_]*"
ASSIGNMENT = re.compile(rf"^(?:override\s+|export\s+)?({NAME})\s*(\?=|::=|:=|\+=|!=|=)\s*(.*)$")
# A documented target: `name: prerequisites ## what it does`.
DOCUMENTED = re.compile(r"^([a-z][a-z0-9-]*):(?![=:])[^#]*##\s*(.*)$")
ANY_RULE = re.compile(r"^[^\t#=\s][^=]*?:(?![=:])")
# `$(VAR)` or `${VAR}`, not the shell's `$$(...)`.
REFERENCE = re.compile(rf"(?<!\$)\$[({{]({NAME})[)}}]")
REQUIRED, UNSET, EMPTY, FROM_ENVIRONMENT = (
    "required",
    "(unset)",
    "(empty)",
    "(from the environment)",
)


@dataclass
class Target:
    name: str
    summary: str
    recipe: list[str] = field(default_factory=list)


@dataclass
class Makefile:
    defaults: dict[str, str]  # `VAR ?= value`
    internal: set[str]  # every other assignment
    targets: list[Target]


def logical_lines(text: str) -> list[str]:
    """Lines with their backslash continuations joined, as make reads them."""
    return text.replace("\\\n", " ").splitlines()


def parse(text: str) -> Makefile:
    defaults: dict[str, str] = {}
    internal: set[str] = set()
    targets: list[Target] = []
    current: Target | None = None
    for line in logical_lines(text):
        if line.startswith("\t"):
            if current is not None:
                current.recipe.append(line.strip())
            continue
        current = None
        if documented := DOCUMENTED.match(line):
            current = Target(documented[1], documented[2].strip())
            targets.append(current)
        elif ANY_RULE.match(line):
            continue
        elif assignment := ASSIGNMENT.match(line):
            name, operator, value = assignment.groups()
            if operator == "?=":
                defaults[name] = value.strip()
            else:
                internal.add(name)
    return Makefile(defaults, internal - defaults.keys(), targets)


def make_builtins(make: str) -> set[str]:
    """The variables make defines itself, read from its database for an empty makefile."""
    environment = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MFLAGS")}
    try:
        database = subprocess.run(
            [make, "-pq", "-f", os.devnull],
            capture_output=True,
            text=True,
            env=environment,
            check=False,
            timeout=60,
        ).stdout
    except OSError as error:
        raise SystemExit(f"make help: cannot run {make}: {error.strerror}") from None
    except subprocess.TimeoutExpired:
        raise SystemExit(f"make help: {make} -pq did not finish in 60 s") from None
    if "# Variables" not in database:
        raise SystemExit(f"make help: could not read {make}'s own variables (make -p)")
    names: set[str] = set()
    origin = ""
    for line in database.splitlines():
        if line.startswith("# "):
            origin = line[2:]
        elif (assignment := ASSIGNMENT.match(line)) and not origin.startswith("environment"):
            names.add(assignment[1])
    return names


def without_tests_of(name: str, recipe: str) -> str:
    """The recipe less every `$(if $(name),...)`, the parts that only run when it is set."""
    opening = f"$(if $({name}),"
    while (start := recipe.find(opening)) >= 0:
        depth, end = 0, start
        for end in range(start + 1, len(recipe)):
            depth += {"(": 1, ")": -1}.get(recipe[end], 0)
            if depth == 0:
                break
        recipe = recipe[:start] + recipe[end + 1 :]
    return recipe


def describe(name: str, recipe: str, makefile: Makefile) -> str:
    """The default `name` has for this recipe, in the words of the module docstring."""
    fallback = re.search(rf"\$\(or \$\({name}\),([^)]*)\)", recipe)
    if fallback:
        return fallback[1]
    default = makefile.defaults.get(name)
    if default:
        return default
    unguarded = without_tests_of(name, recipe)
    if f"$({name})" not in unguarded:
        return UNSET
    if name not in makefile.defaults:
        return FROM_ENVIRONMENT
    if f'"$({name})"' in unguarded:
        return REQUIRED
    return EMPTY


def variables(target: Target, makefile: Makefile, builtins: set[str]) -> dict[str, str]:
    """The user's variables `target`'s recipe reads, in order of first use, with defaults."""
    recipe = "\n".join(target.recipe)
    names = dict.fromkeys(REFERENCE.findall(recipe))
    return {
        name: describe(name, recipe, makefile)
        for name in names
        if name not in makefile.internal and (name in makefile.defaults or name not in builtins)
    }


def render(makefile: Makefile, builtins: set[str]) -> str:
    lines = []
    for target in makefile.targets:
        lines.append(f"  make {target.name:<12} {target.summary}")
        for name, default in variables(target, makefile, builtins).items():
            lines.append(f"      {name:<16} {default}")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--make", default="make", help="the make that reads the Makefile")
    parser.add_argument("makefiles", nargs="+", type=Path)
    args = parser.parse_args(argv)
    missing = [str(path) for path in args.makefiles if not path.is_file()]
    if missing:
        print(f"make help: no such makefile: {', '.join(missing)}", file=sys.stderr)
        return 2
    makefile = parse("\n".join(path.read_text() for path in args.makefiles))
    sys.stdout.write(render(makefile, make_builtins(args.make)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
