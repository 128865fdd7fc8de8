"""SnapStart's runtime hooks (backend_kit/snapstart.py) in the handlers. Importing a handler
module arms them; an environment restored from a snapshot then has its own AWS session and
clients, random state and SecureString values, and the snapshot holds no secret. A stand-in
of `snapshot_restore_py` records what registers with it, and the tests run the hooks as
Lambda does (https://docs.aws.amazon.com/lambda/latest/dg/snapstart-runtime-hooks-python.html)."""

from __future__ import annotations

import ast
import collections
import itertools
import random
import sys
import types
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from template_gen.spec import SPEC
from tests.handlers.conftest import Invoke, LambdaContext, Reply, new_user
from tests.handlers.helpers import call, create_item
from tests.handlers.stack import entry_point, load_function

ROOT = Path(__file__).resolve().parents[2]
Hook = tuple[Callable[..., Any], tuple[Any, ...], dict[str, Any]]
# Each import below is a new environment's init: its own module, apart from the stack's.
CONTAINERS = itertools.count(1000)
SHARED = "shared"
# Calls at import that leave a client or a SecureString getter in the module's objects.
HELD = frozenset({"client", "signing_key"})


def with_shared_layer() -> list[str]:
    return [f.name for f in SPEC.functions if SHARED in {x.name for x in SPEC.layers_of(f)}]


def without_shared_layer() -> list[str]:
    return [f.name for f in SPEC.functions if f.name not in with_shared_layer()]


class Hooks:
    """A `snapshot_restore_py`: the library's registration functions (usable as decorators),
    and what Lambda does with the registries."""

    def __init__(self) -> None:
        self.before: list[Hook] = []
        self.after: list[Hook] = []
        self.module = types.ModuleType("snapshot_restore_py")
        self.module.register_before_snapshot = self._register(self.before)  # type: ignore[attr-defined]
        self.module.register_after_restore = self._register(self.after)  # type: ignore[attr-defined]

    @staticmethod
    def _register(hooks: list[Hook]) -> Callable[..., Any]:
        def register(func: Callable[..., Any], *args: Any, **kwargs: Any) -> Callable[..., Any]:
            hooks.append((func, args, kwargs))
            return func

        return register

    def snapshot(self) -> None:
        for func, args, kwargs in reversed(self.before):
            func(*args, **kwargs)

    def restore(self) -> None:
        for func, args, kwargs in self.after:
            func(*args, **kwargs)


@pytest.fixture
def hooks(monkeypatch: pytest.MonkeyPatch) -> Iterator[Hooks]:
    recorded = Hooks()
    monkeypatch.setitem(sys.modules, "snapshot_restore_py", recorded.module)
    yield recorded


def init(name: str) -> types.ModuleType:
    """A new environment of `name`: its handler module imported afresh."""
    return load_function(name, container=next(CONTAINERS))


def invoker(module: types.ModuleType) -> Invoke:
    def invoke(function: str, event: dict[str, Any]) -> Reply:
        return Reply(entry_point(module, function)(event, LambdaContext()))

    return invoke


def source(name: str) -> str:
    (function,) = [f for f in SPEC.functions if f.name == name]
    return (ROOT / function.source / "app.py").read_text()


def rebuilt_names(module: types.ModuleType, rebuild: Callable[..., Any]) -> list[str]:
    """The module globals `rebuild` assigns (its `global` statement)."""
    tree = ast.parse(source(module.__name__.split("_handler_")[0]))
    (made,) = [
        n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == rebuild.__name__
    ]
    return [name for node in ast.walk(made) if isinstance(node, ast.Global) for name in node.names]


def test_every_handler_folder_is_a_function_of_the_spec() -> None:
    """So the tests below, which go by the spec, see every functions/*/app.py."""
    folders = {p.parent.relative_to(ROOT).as_posix() for p in ROOT.glob("functions/*/app.py")}
    assert folders == {f.source for f in SPEC.functions}


@pytest.mark.parametrize("name", with_shared_layer())
def test_importing_a_handler_arms_the_hooks_once(
    stack: dict[str, types.ModuleType], hooks: Hooks, name: str
) -> None:
    from backend_kit import snapstart

    module = init(name)
    assert [func for func, _, _ in hooks.before] == [snapstart.before_snapshot]
    after = [func for func, _, _ in hooks.after]
    assert after[0] is snapstart.after_restore and after.count(snapstart.after_restore) == 1
    # What the module makes at import from its clients or SecureStrings is made again, after
    # the layer's own hooks have renewed them.
    rebuilds = [f for f in after[1:] if getattr(f, "__module__", None) == module.__name__]
    if _at_import(ast.parse(source(name))) & (HELD | {"wire"}):
        assert len(rebuilds) == 1, after
        names = rebuilt_names(module, rebuilds[0])
        assert names
        held = {n: getattr(module, n) for n in names}
        hooks.snapshot()
        hooks.restore()
        assert all(getattr(module, n) is not held[n] for n in names), names


@pytest.mark.parametrize("name", without_shared_layer())
def test_a_handler_without_the_shared_layer_holds_nothing_to_refresh(name: str) -> None:
    """Such a handler cannot import the hooks; it must then make nothing a restored
    environment would share: no AWS client, no random state."""
    imported = set()
    for node in ast.walk(ast.parse(source(name))):
        if isinstance(node, ast.Import):
            imported |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            imported.add(node.module.split(".")[0])
    assert not imported & {"backend_kit", "boto3", "botocore", "random", "aws_lambda_powertools"}


def test_a_restored_environment_makes_its_own_session_clients_and_secrets(
    stack: dict[str, types.ModuleType], hooks: Hooks, aws_calls: collections.Counter
) -> None:
    from backend_kit import aws, secrets

    items = init("items")
    invoke = invoker(items)
    me = new_user()
    for _ in range(2):  # a page with a next cursor, which the key signs
        create_item(invoke, me)
    page = {"limit": "1"}
    call(invoke, "GET", "/items", me, query=page)  # the key is fetched and cached
    aws_calls.clear()
    call(invoke, "GET", "/items", me, query=page)
    assert aws_calls[("ssm", "GetParameter")] == 0  # cached

    def held() -> dict[str, Any]:
        session = aws._session()
        return {
            "session": session,
            "credentials": session.get_credentials(),
            "dynamodb": aws.client("dynamodb"),
            "ssm provider": secrets._provider(),
            "catalog": items.catalog,
            "cursors": items.cursors,
        }

    before = held()
    hooks.restore()  # the after-restore hooks alone, whatever the snapshot holds
    after = held()
    assert [k for k in before if after[k] is before[k]] == []
    assert items.catalog.dynamodb is aws.client("dynamodb")  # rebuilt over the new client

    aws_calls.clear()
    assert call(invoke, "GET", "/items", me, query=page).status == 200
    assert aws_calls[("ssm", "GetParameter")] == 1  # fetched again, with a fresh age
    call(invoke, "GET", "/items", me, query=page)
    assert aws_calls[("ssm", "GetParameter")] == 1  # and cached again


def test_environments_restored_from_one_snapshot_draw_different_random_numbers(
    stack: dict[str, types.ModuleType], hooks: Hooks
) -> None:
    init("items")
    snapshot = random.getstate()

    def first_draw(restore: bool) -> float:
        random.setstate(snapshot)  # a new environment, restored from the snapshot
        if restore:
            hooks.restore()
        return random.random()

    assert first_draw(restore=False) == first_draw(restore=False)  # what the hooks prevent
    assert first_draw(restore=True) != first_draw(restore=True)


def test_no_secret_is_in_the_snapshot(stack: dict[str, types.ModuleType], hooks: Hooks) -> None:
    from backend_kit import secrets

    items = init("items")
    invoke = invoker(items)
    me = new_user()
    for _ in range(2):
        create_item(invoke, me)
    call(invoke, "GET", "/items", me, query={"limit": "1"})
    cached = secrets._provider()
    assert cached.store  # the value and its expiry, cached
    hooks.snapshot()
    assert secrets._provider() is not cached
    assert not secrets._provider().store


def test_an_http_handler_is_armed_without_asking(hooks: Hooks) -> None:
    """A handler that makes its clients on use (docs/adding-a-function.md) calls no
    snapstart itself: its entry point arms the hooks."""
    from backend_kit import http, snapstart

    http.lambda_handler(http.create_app())
    assert [f for f, _, _ in hooks.before] == [snapstart.before_snapshot]
    assert [f for f, _, _ in hooks.after] == [snapstart.after_restore]


def test_without_the_runtime_library_nothing_is_registered(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from backend_kit import snapstart

    monkeypatch.setitem(sys.modules, "snapshot_restore_py", None)  # import fails, as here
    assert snapstart.arm() is False
    assert snapstart.arm(lambda: None) is False


def _calls(tree: ast.AST) -> set[str]:
    return {ast.unparse(node.func) for node in ast.walk(tree) if isinstance(node, ast.Call)}


def _at_import(tree: ast.Module) -> set[str]:
    """The calls a module makes when imported: outside its functions and classes."""
    top = [n for n in tree.body if not isinstance(n, ast.FunctionDef | ast.ClassDef)]
    return set().union(*(_calls(n) for n in top)) if top else set()


def clients_held(module: types.ModuleType) -> dict[str, Any]:
    """Each botocore client the module's objects hold, by where: a global, or an attribute of
    one (catalog.dynamodb)."""
    from botocore.client import BaseClient

    held: dict[str, Any] = {}
    for name, value in vars(module).items():
        if isinstance(value, types.ModuleType | type | types.FunctionType):
            continue
        inside = vars(value).items() if hasattr(value, "__dict__") else ()
        for where, thing in [(name, value), *((f"{name}.{k}", v) for k, v in inside)]:
            if isinstance(thing, BaseClient):
                held[where] = thing
    return held


def kept_after_restore(module: types.ModuleType, hooks: Hooks) -> list[str]:
    """Where the module still holds, after a snapshot and a restore, a client it held before."""
    before = clients_held(module)
    hooks.snapshot()
    hooks.restore()
    after = clients_held(module)
    return sorted(where for where, client in before.items() if after.get(where) is client)


@pytest.mark.parametrize("name", with_shared_layer())
def test_after_a_restore_no_handler_object_holds_a_client_of_the_snapshot(
    stack: dict[str, types.ModuleType], hooks: Hooks, name: str
) -> None:
    module = init(name)
    assert kept_after_restore(module, hooks) == []


def test_a_handler_holding_a_client_without_a_rebuild_is_caught(
    stack: dict[str, types.ModuleType], hooks: Hooks
) -> None:
    from backend_kit import aws, snapstart

    assert snapstart.arm()
    held = types.ModuleType("held")
    held.DB = aws.client("dynamodb")  # type: ignore[attr-defined]
    assert kept_after_restore(held, hooks) == ["DB"]
    items = init("items")
    assert clients_held(items)  # the check sees what a real handler holds
