"""`snapshot_restore_py`, the runtime hooks library of Lambda's Python managed runtimes
(https://pypi.org/project/snapshot-restore-py/, github.com/aws/snapshot-restore-py), as a
sandbox provides it to the handler: the same four functions, the same registries of
`(func, args, kwargs)`.

A function whose SnapStart applies to published versions has its environments made from a
snapshot: Lambda runs the init code, the before-snapshot hooks in the reverse order of their
registration, takes the snapshot, and in each environment restored from it runs the
after-restore hooks in the order of registration, before its first invocation
(https://docs.aws.amazon.com/lambda/latest/dg/snapstart-runtime-hooks-python.html). A sandbox
here is one such environment, initialised on its own: it runs both, once, between the import
and the first request. Without SnapStart the hooks are registered and never run, as on Lambda.
"""

from __future__ import annotations

import sys
import types
from collections.abc import Callable
from typing import Any

Hook = tuple[Callable[..., Any], tuple[Any, ...], dict[str, Any]]
MODULE = "snapshot_restore_py"


def library() -> types.ModuleType:
    """A new `snapshot_restore_py` with empty registries."""
    before: list[Hook] = []
    after: list[Hook] = []

    def registering(hooks: list[Hook]) -> Callable[..., Any]:
        def register(func: Callable[..., Any], *args: Any, **kwargs: Any) -> Callable[..., Any]:
            hooks.append((func, args, kwargs))
            return func  # so it serves as a decorator too

        return register

    module = types.ModuleType(MODULE)
    module.__all__ = ["register_before_snapshot", "register_after_restore"]  # type: ignore[attr-defined]
    module.register_before_snapshot = registering(before)  # type: ignore[attr-defined]
    module.register_after_restore = registering(after)  # type: ignore[attr-defined]
    module.get_before_snapshot = lambda: before  # type: ignore[attr-defined]
    module.get_after_restore = lambda: after  # type: ignore[attr-defined]
    return module


def install() -> types.ModuleType:
    """Make `import snapshot_restore_py` find this process's registries, as the runtime's own
    import of it does before it imports the handler."""
    module = library()
    sys.modules[MODULE] = module
    return module


def snapshot_then_restore(module: types.ModuleType) -> None:
    """What one environment of a SnapStart version sees between its init and its first
    request: the before-snapshot hooks, last registered first, then the after-restore hooks."""
    for func, args, kwargs in reversed(module.get_before_snapshot()):
        func(*args, **kwargs)
    for func, args, kwargs in module.get_after_restore():
        func(*args, **kwargs)
