"""SnapStart's runtime hooks: what environments restored from one snapshot must not share.

With SnapStart (prod), Lambda runs the init code once, when a version is published, and
starts every execution environment of that version from a snapshot of its memory
(https://docs.aws.amazon.com/lambda/latest/dg/snapstart-uniqueness.html). So:

- no secret goes into the snapshot: cached SecureString values are dropped before it;
- each restored environment reseeds `random`, fetches the SecureStrings again (with a fresh
  age), and builds new AWS clients, whose credentials and connections belong to the
  environment they were made in; `rebuild` makes the handler's own objects again with them.

`secrets` and `uuid4` read the OS's random source on each call and need nothing.
The hooks come from `snapshot_restore_py`, which Lambda's Python runtimes include
(https://docs.aws.amazon.com/lambda/latest/dg/snapstart-runtime-hooks-python.html); where it
is missing (a test on this machine), nothing is registered.
"""

from __future__ import annotations

import random
from collections.abc import Callable

from backend_kit import aws, secrets


def forget_secrets() -> None:
    secrets.forget()


def fresh_environment() -> None:
    random.seed()
    aws.client.cache_clear()
    secrets.forget()


def arm(rebuild: Callable[[], None] | None = None) -> bool:
    """Register the hooks, `rebuild` last; False where the runtime has no hooks library."""
    try:
        from snapshot_restore_py import register_after_restore, register_before_snapshot
    except ImportError:
        return False
    register_before_snapshot(forget_secrets)
    register_after_restore(fresh_environment)
    if rebuild is not None:
        register_after_restore(rebuild)
    return True
