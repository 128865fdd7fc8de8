"""Zips that are identical to the byte for identical inputs.

Entries are sorted, carry one fixed timestamp, normalised Unix modes and no directory
entries, and are deflated at a fixed level. The bytes then depend only on the inputs and on
zlib's version, which the manifest records.
"""

from __future__ import annotations

import hashlib
import zipfile
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from artifacts.files import Entry

# The earliest time a zip can store; any fixed value would do.
FIXED_TIME = (1980, 1, 1, 0, 0, 0)
COMPRESS_LEVEL = 9
ZIP_FORMAT = f"v1:deflate-{COMPRESS_LEVEL}:unix-modes"
ZLIB_VERSION = zlib.ZLIB_RUNTIME_VERSION


@dataclass(frozen=True)
class ZipStats:
    zip_sha256: str
    zipped_bytes: int
    unzipped_bytes: int
    files: int


def write_zip(target: Path, entries: Iterable[Entry]) -> ZipStats:
    """Write atomically: a crash never leaves a half zip under its final, hashed name."""
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.partial")
    unzipped = files = 0
    with zipfile.ZipFile(partial, "w") as archive:
        for entry in entries:
            info = zipfile.ZipInfo(entry.arcname, date_time=FIXED_TIME)
            info.create_system = 3  # Unix, so external_attr carries the mode everywhere
            info.external_attr = (0o100000 | entry.mode) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            data = entry.source.read_bytes()
            archive.writestr(info, data, compresslevel=COMPRESS_LEVEL)
            unzipped += len(data)
            files += 1
    digest = hashlib.sha256(partial.read_bytes()).hexdigest()
    size = partial.stat().st_size
    partial.replace(target)
    return ZipStats(digest, size, unzipped, files)


def read_stats(path: Path) -> ZipStats:
    """The stats of a zip already built, for the manifest of a cached artifact."""
    with zipfile.ZipFile(path) as archive:
        infos = archive.infolist()
    return ZipStats(
        hashlib.sha256(path.read_bytes()).hexdigest(),
        path.stat().st_size,
        sum(info.file_size for info in infos),
        len(infos),
    )
