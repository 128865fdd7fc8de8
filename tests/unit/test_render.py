"""Rendering build/template.yaml: `python -m template_gen render` points the code at the
source folders, render() at whatever paths the build passes, and the stamp beside the
template skips a render only when nothing it depends on changed."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest
from cfn_flip import load_yaml

import template_gen.__main__ as cli
from template_gen.naming import function_id, layer_id
from template_gen.render import render
from template_gen.spec import SPEC

ROOT = Path(__file__).resolve().parents[2]


def code_uris(template: Path) -> dict[str, str]:
    """Logical id -> CodeUri or ContentUri, for every function and layer."""
    resources: dict[str, Any] = load_yaml(template.read_text())["Resources"]
    return {
        logical: str(properties.get("CodeUri", properties.get("ContentUri")))
        for logical, resource in resources.items()
        for properties in [resource.get("Properties", {})]
        if "CodeUri" in properties or "ContentUri" in properties
    }


def logical_ids() -> dict[str, str]:
    """Each function's and layer's logical id -> its name."""
    return {
        **{function_id(f.name): f.name for f in SPEC.functions},
        **{layer_id(layer.name): layer.name for layer in SPEC.layers},
    }


def test_the_cli_renders_against_the_source_folders_then_is_cached(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    build = tmp_path / "deep" / "build"
    monkeypatch.setattr(cli, "BUILD", build)
    assert cli.main(["render"]) == 0
    uris = code_uris(build / "template.yaml")
    sources = {item.name: (ROOT / item.source).resolve() for item in SPEC.buildables}
    named = logical_ids()
    assert set(uris) == set(named)
    assert {named[logical]: (build / uri).resolve() for logical, uri in uris.items()} == sources
    assert (build / "openapi.json").is_file()
    assert "template rendered" in capsys.readouterr().out

    stamp = (build / "template.yaml").stat().st_mtime_ns
    assert cli.main(["render"]) == 0
    assert "template cached" in capsys.readouterr().out
    assert (build / "template.yaml").stat().st_mtime_ns == stamp


def test_render_points_at_the_paths_it_is_given_and_follows_each_input(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "template.yaml"
    zips = {item.name: f"zips/{item.name}-0123.zip" for item in SPEC.buildables}
    render(SPEC, zips, "version-1", out)
    named = logical_ids()
    assert {named[logical]: uri for logical, uri in code_uris(out).items()} == zips
    assert "version-1" in out.read_text()
    capsys.readouterr()

    render(SPEC, zips, "version-1", out)
    assert "template cached" in capsys.readouterr().out
    render(SPEC, zips, "version-2", out)
    assert "template rendered" in capsys.readouterr().out
    moved = {**zips, SPEC.functions[0].name: "zips/moved.zip"}
    render(SPEC, moved, "version-2", out)
    assert "template rendered" in capsys.readouterr().out
    throttled = dataclasses.replace(SPEC, api=dataclasses.replace(SPEC.api, throttling_rate=7))
    render(throttled, moved, "version-2", out)
    assert "template rendered" in capsys.readouterr().out
