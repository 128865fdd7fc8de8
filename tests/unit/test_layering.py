"""The layers only import downwards: template_gen renders a template from a spec and a
name -> path mapping, and artifacts (which builds the zips and writes the manifest) sits
above it. aws_semantics (AWS's own rules: policy evaluation, intrinsics) is below every
other package, so the deploy tooling (ops) and the emulator (offline) share it without ops
depending on the emulator. Inside offline, each room (one subpackage per AWS service it stands
in for) imports only the rooms below it. Imports are read from each module's syntax tree, so a
comment or a string that mentions a package does not count, and an import nested in a function
does."""

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
    "aws_semantics": ("template_gen", "artifacts", "ops", "offline", "tests"),
    "template_gen": ("artifacts", "ops", "offline", "tests"),
    "artifacts": ("ops", "offline", "tests"),
    "offline": ("tests",),
    "ops": ("offline", "tests"),
}
PRODUCT = (
    "aws_semantics", "offline", "template_gen", "artifacts", "ops", "functions", "layers",
    "build.py",
)  # fmt: skip
# Each room of the emulator and the rooms it may import. The command line and `make fuzz`
# (offline's own modules) sit above them all; no room imports them.
ROOMS: dict[str, tuple[str, ...]] = {
    "common": (),
    "iam": ("common",),
    "s3": ("common", "iam"),
    "dynamodb": ("common",),
    "cognito": ("common",),
    "backup": ("common",),
    "cloudformation": ("common", "iam", "s3"),
    "enforcement": ("common", "iam", "s3", "cloudformation"),
    "lambda_": ("common", "cloudformation"),
    "apigateway": ("common", "cloudformation", "lambda_"),
    "stack": (
        "common", "iam", "s3", "dynamodb", "cognito", "backup", "cloudformation", "enforcement",
        "lambda_", "apigateway",
    ),
}  # fmt: skip
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


def room_of(module: str) -> str | None:
    """`offline.iam.calls` -> `iam`; None for offline's own modules and for other packages."""
    parts = module.split(".")
    return parts[1] if parts[0] == "offline" and len(parts) > 2 else None


def room_violations(module: str, names: set[str]) -> list[str]:
    """The imports of `module` that reach a room above its own, or offline's own modules."""
    room = room_of(module)
    if room is None:
        return []
    allowed = {room, *ROOMS[room]}
    return [
        f"{module} imports {name}"
        for name in sorted(names)
        if within(name, "offline") and name != "offline"
        and (room_of(name) or name.split(".")[1]) not in allowed
    ]  # fmt: skip


def test_every_room_is_declared_and_says_what_it_models() -> None:
    rooms = sorted(p.parent.name for p in (ROOT / "offline").glob("*/__init__.py"))
    assert rooms == sorted(ROOMS), "declare each subpackage of offline/ in ROOMS"
    for room in rooms:
        docstring = ast.get_docstring(
            ast.parse((ROOT / "offline" / room / "__init__.py").read_text())
        )
        assert docstring, f"offline/{room}/__init__.py must say what the room models"


def test_each_room_imports_only_the_rooms_below_it() -> None:
    offending = [
        violation
        for module, path in modules("offline")
        for violation in room_violations(module, set(imported(path.read_text(), module)))
    ]
    assert not offending, "; ".join(offending)


@pytest.mark.parametrize(
    ("module", "source"),
    [
        ("offline.iam.calls", "from offline.cloudformation import engine"),
        ("offline.common.endpoint", "from offline.iam.policy import x"),
        ("offline.s3.post_policy", "from offline.fuzz import CONFIG"),
        (
            "offline.lambda_.sandbox_pool",
            "def late():\n    from offline.apigateway import gateway\n",
        ),
    ],
)
def test_an_import_upwards_is_found(module: str, source: str) -> None:
    assert room_violations(module, set(imported(source, module)))


def test_imports_downwards_and_within_a_room_pass() -> None:
    source = "from offline.iam import calls\nfrom offline.cloudformation import stack_role\n"
    assert room_violations("offline.enforcement.gate", set(imported(source, "x.y"))) == []
    assert room_violations("offline.fuzz", {"offline.stack.sign_in"}) == []


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
