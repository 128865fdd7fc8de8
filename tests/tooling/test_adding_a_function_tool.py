"""tools/adding_a_function.py (make try-adding-a-function) applies the page as written, and a
page or spec it cannot apply is named in one line, not a traceback."""

from __future__ import annotations

import ast
import shutil
from pathlib import Path

import pytest

from tools.adding_a_function import (
    PAGE,
    ROOT,
    StepFailed,
    add_to_spec,
    apply,
    blocks,
    declared_names,
    followed,
)


def project_spec(tmp_path: Path) -> Path:
    (tmp_path / "template_gen").mkdir()
    return Path(shutil.copy(ROOT / "template_gen" / "spec.py", tmp_path / "template_gen"))


def test_the_page_applies_to_the_spec_and_adds_its_files(tmp_path: Path) -> None:
    page = PAGE.read_text()
    taken = followed(project_spec(tmp_path).read_text(), page)
    if taken:  # make try-adding-a-function's copy: checked on the project without them
        pytest.skip(f"the spec already declares {', '.join(taken)}: the page was followed")
    commands = apply(tmp_path, page)
    spec = (tmp_path / "template_gen" / "spec.py").read_text()
    tree = ast.parse(spec)  # still Python
    calls = [n for n in ast.walk(tree) if isinstance(n, ast.Call)]
    names = {k.value.value for c in calls for k in c.keywords if k.arg == "name"
             if isinstance(k.value, ast.Constant)}  # fmt: skip
    assert "orders" in names
    assert ", ORDERS)," in spec
    created = {t for t in blocks(page) if "/" in t and not t.startswith("template_gen/")}
    assert created and all((tmp_path / title).is_file() for title in created)
    assert commands[-1] == "make test"


def test_a_page_without_its_commands_is_named() -> None:
    page = PAGE.read_text().replace('title="then"', 'title="afterwards"')
    with pytest.raises(StepFailed, match="no code block titled then"):
        blocks(page)


def test_a_spec_it_cannot_find_its_place_in_is_named() -> None:
    with pytest.raises(StepFailed, match="no single `SPEC = Spec\\(`"):
        add_to_spec("SPEC = make_spec()\n", blocks(PAGE.read_text()))


def test_the_page_declares_its_example_and_a_second_application_is_refused(
    tmp_path: Path,
) -> None:
    assert declared_names(blocks(PAGE.read_text())) == {"orders"}
    spec = project_spec(tmp_path)
    if not followed(spec.read_text(), PAGE.read_text()):
        apply(tmp_path, PAGE.read_text())
    with pytest.raises(StepFailed, match=r"template_gen/spec\.py already declares orders"):
        apply(tmp_path, PAGE.read_text())
