"""Writes build/template.yaml and build/openapi.json from a spec and the paths of its code:
`render(spec, artifacts, build_version, out)`. The build passes its zips (build.py, from the
manifest); `python -m template_gen render` passes the source folders (`source_paths`)."""

from __future__ import annotations

import hashlib
import json
import os
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from importlib.metadata import version
from pathlib import Path
from typing import Any

from template_gen.model import Spec
from template_gen.outputs import write_if_changed

ROOT = Path(__file__).resolve().parent.parent


def source_paths(spec: Spec, root: Path, folder: Path) -> dict[str, str]:
    """Each function's and layer's source folder, relative to `folder`: where the template
    lives, which is where `sam` resolves CodeUri from."""
    return {item.name: os.path.relpath(root / item.source, folder) for item in spec.buildables}


def document_sources(spec: Spec, root: Path) -> list[Path]:
    """What openapi.json is made from besides the spec and template_gen: each function's
    fields module and the shared layer it imports. The build's artifacts change with them,
    the source folders `python -m template_gen render` passes do not."""
    fields = [root / f.source / f"{f.fields}.py" for f in spec.functions if f.fields]
    return fields + sorted((root / "layers" / "shared" / "python").rglob("*.py"))


def render_inputs(
    spec: Spec, artifacts: Mapping[str, str], build_version: str, root: Path = ROOT
) -> str:
    """Everything the template and openapi.json are a function of: the spec, the artifacts,
    the renderer's own source, the document's sources and the libraries that serialise it."""
    described = json.dumps([repr(spec), dict(artifacts), build_version], sort_keys=True)
    digest = hashlib.sha256(described.encode())
    for path in sorted(Path(__file__).parent.glob("*.py")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    for path in document_sources(spec, root):
        digest.update(os.path.relpath(path, root).encode() + b"\0" + path.read_bytes())
    for package in ("troposphere", "cfn-flip", "PyYAML"):
        digest.update(f"{package}=={version(package)}".encode())
    return digest.hexdigest()


def render(
    spec: Spec, artifacts: Mapping[str, str], build_version: str, out: Path, root: Path = ROOT
) -> None:
    """The template at `out`, its CodeUri/ContentUri from `artifacts` (name -> path relative
    to `out`'s folder), and openapi.json beside it, for a spec the caller has validated
    (validate_spec, check_sources). Both are written only when something they depend on
    changed: YAML serialisation is the slowest step of a no-op build, and a stamp beside the
    template records what they were rendered from."""
    stamp = out.with_name(f".{out.name}.inputs")
    openapi = out.with_name("openapi.json")
    inputs = render_inputs(spec, artifacts, build_version, root)
    if out.is_file() and openapi.is_file() and stamp.is_file() and stamp.read_text() == inputs:
        print(f"  template cached: {out.parent.name}/{out.name}")
        print(f"  openapi cached: {openapi.parent.name}/{openapi.name}")
        return
    write_openapi(spec, openapi, root)
    # Imported here: a no-op build never imports troposphere.
    from template_gen.template import render_yaml

    changed = write_if_changed(out, render_yaml(spec, artifacts, build_version))
    write_if_changed(stamp, inputs)
    print(f"  template {'rendered' if changed else 'unchanged'}: {out.parent.name}/{out.name}")


@contextmanager
def shared_layer(root: Path) -> Iterator[None]:
    """The shared layer on the path, as Lambda puts it, while the block imports from it."""
    shared = str(root / "layers" / "shared" / "python")
    sys.path.insert(0, shared)
    try:
        yield
    finally:
        sys.path.remove(shared)


def load_parameters(root: Path) -> dict[str, dict[str, Any]]:
    """The JSON Schema of each header and query parameter, from the patterns the handlers
    read them with."""
    with shared_layer(root):
        from backend_kit.validation import parameter_schemas

        return parameter_schemas()


def load_fields(spec: Spec, root: Path) -> dict[str, tuple[Any, bool]]:
    """Each route's request body, `(backend_kit.validation.Schema, partial)`, from the fields
    module its function declares: the same field rules the handler validates with, imported
    as Lambda would (the shared layer on the path), without the handler itself."""
    from importlib.util import module_from_spec, spec_from_file_location

    fields: dict[str, tuple[Any, bool]] = {}
    with shared_layer(root):
        for function in spec.functions:
            if not function.fields:
                continue
            path = root / function.source / f"{function.fields}.py"
            module_spec = spec_from_file_location(f"fields_of_{function.name}", path)
            assert module_spec and module_spec.loader
            module = module_from_spec(module_spec)
            module_spec.loader.exec_module(module)
            fields.update(module.BODIES)
    return fields


def load_bodies(spec: Spec, root: Path) -> dict[str, dict[str, Any]]:
    """Each route's request body as JSON Schema, from its fields (load_fields)."""
    with shared_layer(root):
        from backend_kit.validation import body_schema

    return {
        key: body_schema(schema, partial=partial)
        for key, (schema, partial) in load_fields(spec, root).items()
    }


def write_openapi(spec: Spec, out: Path, root: Path = ROOT) -> None:
    from template_gen.openapi import CONTRACT, document

    text = (
        json.dumps(
            document(spec, load_bodies(spec, root), load_parameters(root)), indent=2, sort_keys=True
        )
        + "\n"
    )
    changed = write_if_changed(out, text)
    print(f"  openapi {'written' if changed else 'unchanged'}: {out.parent.name}/{out.name}")
    for key in sorted(r.key for f in spec.functions for r in f.routes if r.key not in CONTRACT):
        print(f"    {key}: no contract row yet; describe it in template_gen/openapi.py CONTRACT"
              " and docs/api.md")  # fmt: skip
