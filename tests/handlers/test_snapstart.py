"""SnapStart's runtime hooks (backend_kit/snapstart.py): an environment restored from a
snapshot gets its own clients, random state and SecureString values; no secret is in the
snapshot. The hooks run as Lambda runs them, through a stand-in of `snapshot_restore_py`."""

from __future__ import annotations

import ast
import collections
import random
import sys
import types
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.handlers.conftest import Invoke, new_user
from tests.handlers.helpers import call, create_item

FUNCTIONS = Path(__file__).resolve().parents[2] / "functions"
Hooks = dict[str, list[tuple[Callable[..., Any], tuple[Any, ...]]]]


@pytest.fixture
def hooks(monkeypatch: pytest.MonkeyPatch) -> Iterator[Hooks]:
    """A `snapshot_restore_py` that records what registers with it."""
    recorded: Hooks = {"before": [], "after": []}
    module = types.ModuleType("snapshot_restore_py")
    module.register_before_snapshot = lambda f, *a: recorded["before"].append((f, a))  # type: ignore[attr-defined]
    module.register_after_restore = lambda f, *a: recorded["after"].append((f, a))  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "snapshot_restore_py", module)
    yield recorded


def snapshot_and_restore(hooks: Hooks) -> None:
    for func, args in reversed(hooks["before"]):
        func(*args)
    for func, args in hooks["after"]:
        func(*args)


def test_a_restored_environment_makes_its_own_clients_secrets_and_random_state(
    stack: dict[str, types.ModuleType],
    invoke: Invoke,
    hooks: Hooks,
    aws_calls: collections.Counter,
) -> None:
    from backend_kit import aws, secrets, snapstart

    items = stack["items"]
    assert snapstart.arm(items.wire)
    me = new_user()
    for _ in range(2):  # a page with a next cursor, which the key signs
        create_item(invoke, me)
    call(invoke, "GET", "/items", me, query={"limit": "1"})  # the key is fetched and cached
    aws_calls.clear()
    call(invoke, "GET", "/items", me, query={"limit": "1"})
    assert aws_calls[("ssm", "GetParameter")] == 0  # cached

    before = (aws.client("dynamodb"), secrets._provider(), items.catalog, items.cursors)
    state = random.getstate()
    snapshot_and_restore(hooks)
    after = (aws.client("dynamodb"), secrets._provider(), items.catalog, items.cursors)
    for old, new in zip(before, after, strict=True):
        assert new is not old, type(old).__name__
    assert items.catalog.dynamodb is aws.client("dynamodb")
    assert random.getstate() != state

    aws_calls.clear()
    page = call(invoke, "GET", "/items", me, query={"limit": "1"})
    assert page.status == 200
    assert aws_calls[("ssm", "GetParameter")] == 1  # fetched again, with a fresh age


def test_no_secret_is_in_the_snapshot(
    stack: dict[str, types.ModuleType], invoke: Invoke, hooks: Hooks
) -> None:
    from backend_kit import secrets, snapstart

    assert snapstart.arm()
    me = new_user()
    for _ in range(2):
        create_item(invoke, me)
    call(invoke, "GET", "/items", me, query={"limit": "1"})
    cached = secrets._provider()
    assert cached.store  # the value and its expiry, cached
    for func, args in reversed(hooks["before"]):
        func(*args)
    assert secrets._provider() is not cached


def test_without_the_runtime_library_nothing_is_registered() -> None:
    from backend_kit import snapstart

    assert "snapshot_restore_py" not in sys.modules
    assert snapstart.arm() is False


def _calls(tree: ast.AST) -> set[str]:
    return {ast.unparse(node.func) for node in ast.walk(tree) if isinstance(node, ast.Call)}


def _at_import(tree: ast.Module) -> set[str]:
    """The calls a module makes when imported: outside its functions and classes."""
    top = [n for n in tree.body if not isinstance(n, ast.FunctionDef | ast.ClassDef)]
    return set().union(*(_calls(n) for n in top)) if top else set()


def arms_what_it_holds(source: str) -> bool:
    """Whether a handler module that makes clients or reads SecureStrings at import calls
    snapstart.arm with the function that makes them; one that makes them on use (client()
    is cached per environment and cleared on restore) needs nothing."""
    tree = ast.parse(source)
    if not _at_import(tree) & {"client", "signing_key", "wire"}:
        return True  # nothing held per environment (health)
    arms = [
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and ast.unparse(node.func) == "snapstart.arm"
    ]
    if len(arms) != 1 or len(arms[0].args) != 1 or not isinstance(arms[0].args[0], ast.Name):
        return False
    name = arms[0].args[0].id
    made = [n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == name]
    return bool(made) and bool(_calls(made[0]) & {"client", "signing_key"})


@pytest.mark.parametrize("app", sorted(FUNCTIONS.glob("*/app.py")), ids=lambda p: p.parent.name)
def test_every_handler_holding_clients_or_secrets_arms_the_hooks(app: Path) -> None:
    assert arms_what_it_holds(app.read_text()), app


def test_a_handler_holding_a_client_without_the_hooks_is_caught() -> None:
    held = "from backend_kit.aws import client\nDB = client('dynamodb')\n"
    assert not arms_what_it_holds(held)
    on_use = "from backend_kit.aws import client\ndef get():\n    return client('dynamodb')\n"
    assert arms_what_it_holds(on_use)
