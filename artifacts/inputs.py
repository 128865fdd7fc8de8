"""Input hashes: what an artifact is built from, so its name changes exactly when it must."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

from artifacts.files import Entry
from artifacts.zipper import ZIP_FORMAT


def input_hash(entries: Iterable[Entry], *settings: str) -> str:
    """sha256 over the zip format, any build settings, then each file's name, normalised mode
    and content, length-prefixed so no two different inputs can run together."""
    digest = hashlib.sha256()

    def add(data: bytes) -> None:
        digest.update(len(data).to_bytes(8, "big"))
        digest.update(data)

    add(ZIP_FORMAT.encode())
    for setting in settings:
        add(setting.encode())
    for entry in entries:
        add(entry.arcname.encode())
        add(f"{entry.mode:o}".encode())
        add(entry.source.read_bytes())
    return digest.hexdigest()
