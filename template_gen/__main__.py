"""Command line: `python -m template_gen [render|expand|diagram]`.

render   writes build/template.yaml, pointing CodeUri/ContentUri at the built zips listed
         in build/manifest.json when it exists, else at the source folders, and
         build/openapi.json, the API's description
expand   writes build/template.expanded.json, the offline SAM expansion used by the linters
diagram  prints the architecture diagram; --check/--write compare or update README.md
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
from importlib.metadata import version
from pathlib import Path
from typing import Any

from artifacts import manifest
from artifacts.files import write_if_changed
from template_gen.diagram import README_BEGIN, README_END, mermaid, replace_block
from template_gen.model import UNBUILT, Spec
from template_gen.spec import SPEC
from template_gen.validate import SpecError, check_sources, validate_spec

ROOT = Path(__file__).resolve().parent.parent
BUILD = ROOT / "build"


def load_manifest(path: Path) -> tuple[dict[str, str], str]:
    """(name -> zip path relative to build/, where the template lives; build version)."""
    if not path.is_file():
        return {}, UNBUILT
    built = manifest.load(path)
    return built.paths(), built.version


def render_inputs(artifacts: dict[str, str], build_version: str) -> str:
    """Everything the template is a function of: the artifacts, the renderer's own source
    (spec included) and the libraries that serialise it."""
    digest = hashlib.sha256(json.dumps([artifacts, build_version], sort_keys=True).encode())
    for path in sorted(Path(__file__).parent.glob("*.py")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    for package in ("troposphere", "cfn-flip", "PyYAML"):
        digest.update(f"{package}=={version(package)}".encode())
    return digest.hexdigest()


def render(out: Path) -> None:
    """Render unless nothing it depends on changed: YAML serialisation is the slowest step of
    a no-op build."""
    validate_spec(SPEC)
    check_sources(SPEC, ROOT)
    artifacts, build_version = load_manifest(out.parent / "manifest.json")
    if not artifacts:
        # Relative to the template's folder, which is where `sam` resolves CodeUri from.
        artifacts = {
            item.name: os.path.relpath(ROOT / item.source, out.parent)
            for item in (*SPEC.functions, *SPEC.layers)
        }
    stamp = out.with_name(f".{out.name}.inputs")
    inputs = render_inputs(artifacts, build_version)
    write_openapi(out.with_name("openapi.json"))
    if out.is_file() and stamp.is_file() and stamp.read_text() == inputs:
        print(f"  template cached: {out.parent.name}/{out.name}")
        return
    from template_gen.template import render_yaml

    changed = write_if_changed(out, render_yaml(SPEC, artifacts, build_version))
    write_if_changed(stamp, inputs)
    print(f"  template {'rendered' if changed else 'unchanged'}: {out.parent.name}/{out.name}")


def load_bodies(spec: Spec, root: Path) -> dict[str, dict[str, Any]]:
    """Each route's request body schema, from the fields module its function declares: the
    same field rules the handler validates with, imported as Lambda would (the shared layer
    on the path), without the handler itself."""
    from importlib.util import module_from_spec, spec_from_file_location

    shared = str(root / "layers" / "shared" / "python")
    sys.path.insert(0, shared)
    try:
        from backend_kit.validation import body_schema

        bodies: dict[str, dict[str, Any]] = {}
        for function in spec.functions:
            if not function.fields:
                continue
            path = root / function.source / f"{function.fields}.py"
            module_spec = spec_from_file_location(f"fields_of_{function.name}", path)
            assert module_spec and module_spec.loader
            module = module_from_spec(module_spec)
            module_spec.loader.exec_module(module)
            for key, (schema, partial) in module.BODIES.items():
                bodies[key] = body_schema(schema, partial=partial)
        return bodies
    finally:
        sys.path.remove(shared)


def write_openapi(out: Path) -> None:
    from template_gen.openapi import document

    text = json.dumps(document(SPEC, load_bodies(SPEC, ROOT)), indent=2, sort_keys=True) + "\n"
    changed = write_if_changed(out, text)
    print(f"  openapi {'written' if changed else 'unchanged'}: {out.parent.name}/{out.name}")


def write_expansion(template: Path, out: Path) -> None:
    # Imported here: the translator pulls in boto3, which rendering does not need.
    from cfn_flip import load_yaml

    from template_gen.expand import expand

    expanded = expand(load_yaml(template.read_text()))
    write_if_changed(out, json.dumps(expanded, indent=2, sort_keys=True) + "\n")
    print(f"expanded {template.name} -> {out.name}")


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
