"""Progress lines for long steps: what is happening, then how long it took."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager


def say(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


@contextmanager
def step(what: str) -> Iterator[None]:
    started = time.monotonic()
    say(f"  {what} ...")
    yield
    say(f"  {what}: done in {time.monotonic() - started:.1f}s")
