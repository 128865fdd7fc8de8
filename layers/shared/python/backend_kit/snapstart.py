"""SnapStart's runtime hooks: what environments restored from one snapshot must not share.

With SnapStart (prod), Lambda runs the init code once, when a version is published, and
starts every execution environment of that version from a snapshot of its memory, so
anything unique made at init is shared by all of them
(https://docs.aws.amazon.com/lambda/latest/dg/snapstart-uniqueness.html). So:

- before the snapshot, cached SecureString values are dropped: no secret is in it;
- after each restore, `random` is reseeded from the OS (botocore's retry jitter draws from
  it), the AWS session and its clients are dropped, so the next client() resolves this
  environment's credentials and opens its own connections, and the SecureStrings are
  fetched again on next use with a fresh age; then `rebuild` makes the handler's own objects
  again over the new clients.

`secrets`, `uuid4` and `os.urandom` read the OS's random source on each call: nothing to do.
The hooks come from `snapshot_restore_py`, which Lambda's Python runtimes include
(https://docs.aws.amazon.com/lambda/latest/dg/snapstart-runtime-hooks-python.html); where it
is missing (a test on this machine), nothing is registered. Powertools has no such hooks.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

from backend_kit import aws, secrets

# The hooks library the hooks were registered with: once per process on Lambda; a test that
# stands in a new library gets them registered again.
_armed: Any = None


def before_snapshot() -> None:
    secrets.forget()


def after_restore() -> None:
    random.seed()  # from os.urandom
    aws.renew()
    secrets.forget()


def arm(rebuild: Callable[[], None] | None = None) -> bool:
    """Register the hooks once, and `rebuild` (after them) on each call; False where the
    runtime has no hooks library. It runs at import: http.lambda_handler calls it, and a
    handler module that holds clients or SecureString getters in objects it makes at import
    calls it with the function that makes them (`wire` in functions/items/app.py)."""
    global _armed
    try:
        import snapshot_restore_py as library
    except ImportError:
        return False
    if _armed is not library:
        library.register_before_snapshot(before_snapshot)
        library.register_after_restore(after_restore)
        _armed = library
    if rebuild is not None:
        library.register_after_restore(rebuild)
    return True
