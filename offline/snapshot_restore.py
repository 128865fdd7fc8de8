"""`snapshot_restore_py`, the runtime hooks library of Lambda's Python managed runtimes
(https://pypi.org/project/snapshot-restore-py/), as a sandbox provides it to the handler.

A function whose SnapStart applies to published versions has its environment made from a
snapshot: Lambda runs the init code, the before-snapshot hooks in the reverse order of their
registration, takes the snapshot, and in each environment restored from it runs the
after-restore hooks in the order of registration
(https://docs.aws.amazon.com/lambda/latest/dg/snapstart-runtime-hooks-python.html). A sandbox
here is one such environment: it runs both, once, between the import and the first request.
Without SnapStart the hooks are registered and never run, as on Lambda.
"""

from __future__ import annotations

import sys
import types
from collections.abc import Callable
from typing import Any

Hook = tuple[Callable[..., Any], tuple[Any, ...], dict[str, Any]]
MODULE = "snapshot_restore_py"

_before: list[Hook] = []
_after: list[Hook] = []


def _register(hooks: list[Hook]) -> Callable[..., Any]:
    def register(func: Callable[..., Any], *args: Any, **kwargs: Any) -> Callable[..., Any]:
        hooks.append((func, args, kwargs))
        return func  # usable as a decorator, as the library's are

    return register


def install() -> None:
    """Make `import snapshot_restore_py` find this process's registries."""
    module = types.ModuleType(MODULE)
    module.register_before_snapshot = _register(_before)  # type: ignore[attr-defined]
    module.register_after_restore = _register(_after)  # type: ignore[attr-defined]
    sys.modules[MODULE] = module


def snapshot_then_restore() -> None:
    for func, args, kwargs in reversed(_before):
        func(*args, **kwargs)
    for func, args, kwargs in _after:
        func(*args, **kwargs)
