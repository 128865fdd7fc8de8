from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
# The shared layer's package, importable as it is inside Lambda (/opt/python).
sys.path.insert(0, str(ROOT / "layers" / "shared" / "python"))


@pytest.fixture(scope="session")
def template() -> dict[str, Any]:
    from template_gen.spec import SPEC
    from template_gen.template import build_template

    return build_template(SPEC).to_dict()


@pytest.fixture(scope="session")
def resources(template: dict[str, Any]) -> dict[str, Any]:
    return template["Resources"]


@pytest.fixture(scope="session")
def expanded(template: dict[str, Any]) -> dict[str, Any]:
    from template_gen.expand import expand

    return expand(template)


def of_type(resources: dict[str, Any], type_: str) -> dict[str, dict[str, Any]]:
    return {name: r for name, r in resources.items() if r["Type"] == type_}
