"""Patching moto in place, once per process: the emulator's modules install their fixes to
moto's models and handlers this one way, so installing twice never wraps a wrapper, and two
modules may each wrap the same method (each once)."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

Make = Callable[[Callable[..., Any]], Callable[..., Any]]


def wrap(owner: Any, name: str, make: Make) -> None:
    """Replace `owner.name` (a class's or a module's) with `make(original)`, marked `_offline`
    with the wrappers applied so far; left as it is when `make` is already among them. A
    classmethod stays one: `make` gets the bound original and returns the plain function."""
    original = getattr(owner, name)
    marked = getattr(original, "_offline", None)
    applied: frozenset[str] = marked if isinstance(marked, frozenset) else frozenset()
    key = f"{make.__module__}.{make.__qualname__}"
    if key in applied:
        return  # already installed in this process
    wrapped = make(original)
    wrapped._offline = applied | {key}  # type: ignore[attr-defined]
    is_classmethod = isinstance(inspect.getattr_static(owner, name), classmethod)
    setattr(owner, name, classmethod(wrapped) if is_classmethod else wrapped)
