"""The emulator's state kept between runs: every moto backend in use, pickled when the emulator
stops and loaded when it starts, so a restarted `make local` finds its stacks and its data.

A snapshot is one file: a JSON header line, then the pickle. The header names what made it
(the snapshot format, Python, moto, the locked requirements and the emulator's own code); one
made by anything else is discarded with a message, never half-loaded. The emulator's code
counts because a rule it adds may live in the state: a bucket's CORS rules, say, are applied
when the stack is deployed, so a state from before that rule would never get them.

A few of moto's objects do not pickle as they are, and are rebuilt by `reducer_override`
instead: private and public keys (KMS keys, the user pool's signing key) by their DER bytes,
locks as new locks, weak-value dictionaries by their items, and a `defaultdict` whose factory
is a lambda by a copy of what the lambda returns.
"""

from __future__ import annotations

import copy
import functools
import hashlib
import importlib
import io
import json
import os
import pickle
import sys
import threading
import time
import weakref
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.types import (
    PrivateKeyTypes,
    PublicKeyTypes,
)

ROOT = Path(__file__).resolve().parents[2]
# Raised whenever what is pickled, or how, changes in a way an older snapshot cannot follow.
FORMAT = 1
MAGIC = "offline-emulator-state"
LOCK_TYPES = (type(threading.Lock()), type(threading.RLock()))


# The code whose behaviour a saved state may hold: the emulator and the AWS rules it applies.
EMULATOR_CODE = ("offline", "aws_semantics")


def emulator_code() -> str:
    digest = hashlib.sha256()
    for package in EMULATOR_CODE:
        for path in sorted((ROOT / package).rglob("*.py")):
            digest.update(path.relative_to(ROOT).as_posix().encode() + b"\0")
            digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def made_by() -> dict[str, Any]:
    """What a snapshot must have been made by to be loaded here."""
    requirements = ROOT / "requirements.txt"
    return {
        "magic": MAGIC,
        "format": FORMAT,
        "python": f"{sys.version_info.major}.{sys.version_info.minor}",
        "moto": metadata.version("moto"),
        "requirements": hashlib.sha256(requirements.read_bytes()).hexdigest()[:16]
        if requirements.is_file()
        else "",
        "emulator": emulator_code(),
    }


def _private_key(der: bytes) -> PrivateKeyTypes:
    return serialization.load_der_private_key(der, password=None)


def _public_key(der: bytes) -> PublicKeyTypes:
    return serialization.load_der_public_key(der)


def _weak_values(items: dict[Any, Any]) -> weakref.WeakValueDictionary[Any, Any]:
    return weakref.WeakValueDictionary(items)


def _defaultdict(kind: type[defaultdict[Any, Any]], factory: Any) -> defaultdict[Any, Any]:
    # A subclass's own __init__ may take other arguments (moto's ParameterDict does).
    made = kind.__new__(kind)
    defaultdict.__init__(made, factory)
    return made


def _new_lock(reentrant: bool) -> Any:
    return threading.RLock() if reentrant else threading.Lock()


class _Pickler(pickle.Pickler):
    def reducer_override(self, obj: Any) -> Any:
        if isinstance(obj, LOCK_TYPES):
            return _new_lock, (isinstance(obj, LOCK_TYPES[1]),)
        if isinstance(obj, weakref.WeakValueDictionary):
            return _weak_values, (dict(obj.items()),)
        if isinstance(obj, defaultdict):
            factory: Any = obj.default_factory
            if getattr(factory, "__name__", "") == "<lambda>":
                # A lambda cannot be pickled; a copy of a fresh value it returns does the same.
                factory = functools.partial(copy.deepcopy, factory())
            state = getattr(obj, "__dict__", None) or None
            return _defaultdict, (type(obj), factory), state, None, iter(obj.items())
        if type(obj).__module__.startswith("cryptography."):
            if hasattr(obj, "private_bytes"):
                return _private_key, (_private_der(obj),)
            if hasattr(obj, "public_bytes") and hasattr(obj, "verify"):
                return _public_key, (_public_der(obj),)
        return NotImplemented


def _private_der(obj: Any) -> bytes:
    return bytes(
        obj.private_bytes(
            serialization.Encoding.DER,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )


def _public_der(obj: Any) -> bytes:
    return bytes(
        obj.public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )


def _backend_dicts() -> Iterator[tuple[str, Any]]:
    """Each moto service in use, named "module:attribute" where its BackendDict lives."""
    from moto.core.base_backend import BackendDict

    instances: list[Any] = BackendDict._instances  # type: ignore[misc]
    for instance in list(instances):
        module = sys.modules[instance.backend.__module__]
        for attribute, value in vars(module).items():
            if value is instance:
                yield f"{module.__name__}:{attribute}", instance
                break


def capture() -> dict[str, dict[str, dict[str, Any]]]:
    """service → account → region → backend, for every service in use."""
    return {
        name: {account: dict(regions.items()) for account, regions in backends.items()}
        for name, backends in _backend_dicts()
    }


@dataclass
class Saved:
    path: Path
    services: int
    size: int
    seconds: float


def save(path: Path) -> Saved:
    """Write the state to `path` whole or not at all (a temporary file, then a rename)."""
    from moto.core.base_backend import backend_lock

    started = time.monotonic()
    buffer = io.BytesIO()
    buffer.write(json.dumps(made_by(), sort_keys=True).encode() + b"\n")
    with backend_lock:
        state = capture()
        _Pickler(buffer, protocol=pickle.HIGHEST_PROTOCOL).dump(state)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    partial.write_bytes(buffer.getvalue())
    os.replace(partial, path)
    return Saved(path, len(state), buffer.tell(), time.monotonic() - started)


@dataclass
class Loaded:
    """What `load` did: `services` restored, or `discarded` with why (None: nothing there)."""

    services: int = 0
    discarded: str | None = None
    seconds: float = 0.0


def load(path: Path) -> Loaded:
    """Put the snapshot at `path` into moto's backends; a snapshot made by something else,
    or one that does not load, is set aside (renamed `.discarded`) and the emulator starts
    empty."""
    if not path.is_file():
        return Loaded()
    started = time.monotonic()
    with path.open("rb") as stream:
        reason = _incompatibility(stream.readline())
        if reason is None:
            try:
                state = pickle.load(stream)
            except Exception as error:  # a truncated or damaged file: whatever it raises
                reason = f"it does not load ({type(error).__name__}: {error})"
    if reason is not None:
        os.replace(path, path.with_name(path.name + ".discarded"))
        return Loaded(discarded=reason)
    _install(state)
    return Loaded(len(state), seconds=time.monotonic() - started)


def _incompatibility(header: bytes) -> str | None:
    try:
        found = json.loads(header)
    except ValueError:
        return "it is not an emulator snapshot"
    if not isinstance(found, dict) or found.get("magic") != MAGIC:
        return "it is not an emulator snapshot"
    wanted = made_by()
    differing = [f"{key} {found.get(key)} (now {wanted[key]})"
                 for key in wanted if found.get(key) != wanted[key]]  # fmt: skip
    return f"it was made by another emulator: {', '.join(differing)}" if differing else None


def _install(state: dict[str, dict[str, dict[str, Any]]]) -> None:
    for name, accounts in state.items():
        module, attribute = name.split(":")
        backends = getattr(importlib.import_module(module), attribute)
        for account, regions in accounts.items():
            for region, backend in regions.items():
                dict.__setitem__(backends[account], region, backend)


def restore_or_start_empty(path: Path, say: Callable[[str], None]) -> Loaded:
    """`load`, with what it did said in one line."""
    loaded = load(path)
    if loaded.discarded:
        say(f"    the saved emulator state in {path} was set aside: {loaded.discarded};"
            " starting empty")  # fmt: skip
    elif loaded.services:
        say(f"    restored the emulator's state from {path} ({loaded.services} services,"
            f" {loaded.seconds:.1f}s)")  # fmt: skip
    return loaded
