"""Command line: `python -m template_gen [render|expand|bootstrap|diagram]`.

render   writes build/template.yaml with CodeUri/ContentUri at the source folders (build.py
         renders it against the built zips), and build/openapi.json, the API's description
expand   writes build/template.expanded.json, the offline SAM expansion used by the linters
bootstrap writes build/bootstrap.yaml, the stack that deploys the main one without
         administrator rights, and its policies in build/deploy-policies/, from the expansion
diagram  prints the architecture diagram; --check/--write compare or update README.md
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from template_gen.diagram import README_BEGIN, README_END, mermaid, replace_block
from template_gen.model import UNBUILT
from template_gen.outputs import write_if_changed
from template_gen.render import render, source_paths
from template_gen.spec import SPEC
from template_gen.validate import SpecError, check_sources, validate_spec

ROOT = Path(__file__).resolve().parent.parent
BUILD = ROOT / "build"


def render_sources(out: Path) -> None:
    """The template against the source folders, as `sam build` and `sam local invoke -e`
    expect; build.py renders it against the built zips."""
    validate_spec(SPEC)
    check_sources(SPEC, ROOT)
    render(SPEC, source_paths(SPEC, ROOT, out.parent), UNBUILT, out)


def write_expansion(template: Path, out: Path) -> None:
    # Imported here: the translator pulls in boto3, which rendering does not need.
    from cfn_flip import load_yaml

    from template_gen.expand import expand

    expanded = expand(load_yaml(template.read_text()))
    write_if_changed(out, json.dumps(expanded, indent=2, sort_keys=True) + "\n")
    print(f"expanded {template.name} -> {out.name}")


def write_bootstrap(expanded: Path, build: Path) -> None:
    # Imported here: only this command needs the registry and reference data.
    from template_gen.bootstrap import build as build_bootstrap
    from template_gen.bootstrap import files

    result = build_bootstrap(json.loads(expanded.read_text()), SPEC)
    for name, content in files(result).items():
        changed = write_if_changed(build / name, content)
        print(f"  {name} {'written' if changed else 'unchanged'}")
    actions = {a for s in result.execution["Statement"] for a in s["Action"]}
    print(f"  execution policy: {len(actions)} actions in {len(result.parts)} managed policies")


def diagram(check: bool, write: bool) -> int:
    readme = ROOT / "README.md"
    block = mermaid(SPEC)
    if not (check or write):
        print(block)
        return 0
    current = readme.read_text()
    updated = replace_block(current, block)
    if write:
        readme.write_text(updated)
        return 0
    if updated != current:
        print(
            f"README.md's diagram (between {README_BEGIN} and {README_END}) is stale;"
            " run `make readme`",
            file=sys.stderr,
        )
        return 1
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m template_gen",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command")
    sub.add_parser("render")
    sub.add_parser("expand")
    sub.add_parser("bootstrap")
    dia = sub.add_parser("diagram")
    dia.add_argument("--check", action="store_true")
    dia.add_argument("--write", action="store_true")
    args = parser.parse_args(argv)
    try:
        if args.command in (None, "render"):
            render_sources(BUILD / "template.yaml")
        elif args.command == "expand":
            write_expansion(BUILD / "template.yaml", BUILD / "template.expanded.json")
        elif args.command == "bootstrap":
            write_bootstrap(BUILD / "template.expanded.json", BUILD)
        else:
            return diagram(args.check, args.write)
    except SpecError as error:
        print(error, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
