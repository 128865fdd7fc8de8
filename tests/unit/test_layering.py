"""The layers only import downwards: template_gen renders a template from a spec and a
name -> path mapping, and artifacts (which builds the zips and writes the manifest) sits
above it. Imports are read from each module's syntax tree, so a comment or a string that
mentions a package does not count, and an import nested in a function does."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# Below each package, the packages it must never import.
# No package of the product imports the tests, where the AGPL-3.0 reference evaluator's
# client lives (tests/reference/).
FORBIDDEN = {
    "template_gen": ("artifacts", "tests"),
    "artifacts": ("tests",),
    "offline": ("tests",),
    "ops": ("tests",),
}
PRODUCT = ("offline", "template_gen", "artifacts", "ops", "functions", "layers", "build.py")
DYNAMIC_IMPORTS = {"import_module", "__import__"}


def imported(source: str, module: str) -> Iterator[str]:
    """Every module name `source` (the text of `module`, e.g. `template_gen.render`) imports,
    relative imports resolved; for `from x import y`, both `x` and `x.y`."""
    package = module.split(".")[:-1]
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            parent = ".".join([*base, *([node.module] if node.module else [])])
            if parent:
                yield parent
            yield from (f"{parent}.{alias.name}".lstrip(".") for alias in node.names)
        elif isinstance(node, ast.Call) and node.args:
            function = node.func
            name = function.id if isinstance(function, ast.Name) else getattr(function, "attr", "")
            first = node.args[0]
            if name in DYNAMIC_IMPORTS and isinstance(first, ast.Constant):
                yield str(first.value)


def within(name: str, package: str) -> bool:
    return name == package or name.startswith(f"{package}.")


def modules(package: str) -> list[tuple[str, Path]]:
    paths = sorted((ROOT / package).rglob("*.py"))
    return [(".".join(p.relative_to(ROOT).with_suffix("").parts), p) for p in paths]


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_no_module_imports_a_layer_above_its_own(package: str) -> None:
    found = modules(package)
    assert found, f"no modules under {package}/"
    offending = [
        f"{module} imports {name}"
        for module, path in found
        for name in sorted(set(imported(path.read_text(), module)))
        if any(within(name, above) for above in FORBIDDEN[package])
    ]
    assert not offending, f"{package}/ must not import {', '.join(FORBIDDEN[package])}: " + (
        "; ".join(offending)
    )


@pytest.mark.parametrize(
    "source",
    [
        "import artifacts.manifest",
        "from artifacts.files import collect",
        "from artifacts import manifest",
        "from .. import artifacts",
        "from ..artifacts.manifest import load",
        "def late():\n    import artifacts\n",
        "import importlib\nimportlib.import_module('artifacts.manifest')",
        "__import__('artifacts')",
    ],
)
def test_every_form_of_import_is_seen(source: str) -> None:
    names = set(imported(source, "template_gen.render"))
    assert any(within(name, "artifacts") for name in names), names


@pytest.mark.parametrize(
    "source",
    [
        "# artifacts is the layer above\n'artifacts'",
        "from template_gen import artifacts_free",
        "from . import model",
        "import artifactsx",
    ],
)
def test_mentions_and_lookalikes_are_not_imports(source: str) -> None:
    names = set(imported(source, "template_gen.render"))
    assert not any(within(name, "artifacts") for name in names), names


def test_the_reference_evaluator_is_a_test_tool_only() -> None:
    """@cloud-copilot/iam-simulate is AGPL-3.0: only the tests and their Node.js driver
    (tools/iam_simulate.mjs) may run it; no file of the product names it."""
    named = [
        str(path.relative_to(ROOT))
        for top in PRODUCT
        for path in ([ROOT / top] if top.endswith(".py") else sorted((ROOT / top).rglob("*")))
        if path.is_file()
        and path.suffix in (".py", ".mjs", ".js", ".json", ".toml")
        and "iam-simulate" in path.read_text(errors="replace")
    ]
    assert named == []
    assert "@cloud-copilot/iam-simulate" in (ROOT / "tools" / "iam_simulate.mjs").read_text()
