"""Command line: `python -m template_gen [render|expand|diagram]`.

render   writes build/template.yaml, pointing CodeUri/ContentUri at the built zips listed
         in build/manifest.json when it exists, else at the source folders
expand   writes build/template.expanded.json, the offline SAM expansion used by the linters
diagram  prints the architecture diagram; --check/--write compare or update README.md
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from cfn_flip import load_yaml

from template_gen.diagram import README_BEGIN, README_END, mermaid, replace_block
from template_gen.expand import expand
from template_gen.spec import SPEC
from template_gen.template import render_yaml
from template_gen.validate import SpecError, check_sources, validate_spec

ROOT = Path(__file__).resolve().parent.parent
BUILD = ROOT / "build"


def load_artifacts(manifest: Path) -> dict[str, str]:
    """name -> zip path (relative to build/, where the template lives)."""
    if not manifest.is_file():
        return {}
    entries = json.loads(manifest.read_text())["artifacts"]
    return {entry["name"]: entry["path"] for entry in entries}


def render(out: Path) -> None:
    validate_spec(SPEC)
    check_sources(SPEC, ROOT)
    artifacts = load_artifacts(out.parent / "manifest.json")
    if not artifacts:
        # Relative to build/, where the template is written, as `sam` resolves CodeUri.
        artifacts = {
            item.name: str(Path("..") / item.source) for item in (*SPEC.functions, *SPEC.layers)
        }
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(render_yaml(SPEC, artifacts))
    print(f"rendered {out.relative_to(ROOT)}")


def write_expansion(template: Path, out: Path) -> None:
    expanded = expand(load_yaml(template.read_text()))
    out.write_text(json.dumps(expanded, indent=2, sort_keys=True) + "\n")
    print(f"expanded {template.relative_to(ROOT)} -> {out.relative_to(ROOT)}")


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
    dia = sub.add_parser("diagram")
    dia.add_argument("--check", action="store_true")
    dia.add_argument("--write", action="store_true")
    args = parser.parse_args(argv)
    try:
        if args.command in (None, "render"):
            render(BUILD / "template.yaml")
        elif args.command == "expand":
            write_expansion(BUILD / "template.yaml", BUILD / "template.expanded.json")
        else:
            return diagram(args.check, args.write)
    except SpecError as error:
        print(error, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
