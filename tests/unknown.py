"""Names a test uses as unknown, made unknown by construction: a project that follows
"Adding a function" (docs/adding-a-function.md) with any name keeps them unknown, so a test
of a refusal never meets a real function, environment or table instead."""

from __future__ import annotations

from collections.abc import Iterable


def unknown(taken: Iterable[str], stem: str) -> str:
    """`stem`, or `stem` with the first number that makes it none of `taken`."""
    names = set(taken)
    return next(
        candidate
        for candidate in (stem, *(f"{stem}{n}" for n in range(2, len(names) + 3)))
        if candidate not in names
    )
