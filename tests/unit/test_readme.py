"""The README's architecture diagram is generated from the spec and must not go stale."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from template_gen.diagram import mermaid, replace_block
from template_gen.model import Function, Route, reads
from template_gen.spec import SPEC

README = Path(__file__).resolve().parents[2] / "README.md"


def test_readme_diagram_is_current() -> None:
    current = README.read_text()
    assert replace_block(current, mermaid(SPEC)) == current, "run `make readme`"


def test_diagram_shows_every_function_route_and_relation() -> None:
    diagram = mermaid(SPEC)
    for function in SPEC.functions:
        assert f"fn_{function.name}[λ {function.name}]" in diagram
        for route in function.routes:
            assert route.key in diagram
    assert "fn_items -->|write items/*| bucket_assets" in diagram
    assert "fn_users -->|read/query/write| table_users" in diagram
    assert "fn_users -->|read| secureparameter_cursor_signing_key" in diagram


def test_a_spec_change_changes_the_diagram() -> None:
    reporter = Function(
        name="reports",
        source="functions/reports",
        routes=(Route("GET", "/reports"),),
        relations=(reads("items"),),
    )
    changed = dataclasses.replace(SPEC, functions=(*SPEC.functions, reporter))
    assert replace_block(README.read_text(), mermaid(changed)) != README.read_text()
    assert "fn_reports -->|read| table_items" in mermaid(changed)
