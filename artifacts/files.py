"""Which files an artifact holds, and how their modes are normalised."""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path

# Never shipped from a source folder: this machine's bytecode (the build adds the runtime's
# own, artifacts/bytecode.py), caches, editor and OS droppings.
JUNK_DIRS = frozenset({"__pycache__", ".pytest_cache", ".mypy_cache", ".ruff_cache", ".idea",
                       ".vscode", ".git", ".hg", ".svn", ".aws-sam"})  # fmt: skip
JUNK_NAMES = frozenset({".DS_Store", "Thumbs.db", "desktop.ini", ".gitignore"})
JUNK_SUFFIXES = (".pyc", ".pyo", ".swp", ".swo", ".orig", ".rej", "~")

FILE_MODE = 0o644
EXECUTABLE_MODE = 0o755


@dataclass(frozen=True)
class Entry:
    """One file of an artifact: where it comes from and where it goes in the zip."""

    source: Path
    arcname: str
    mode: int


def normalised_mode(path: Path) -> int:
    """0755 if anyone may execute the file, else 0644: umask and owner do not leak."""
    return EXECUTABLE_MODE if path.stat().st_mode & 0o111 else FILE_MODE


def is_junk(relative: Path) -> bool:
    if any(part in JUNK_DIRS for part in relative.parts[:-1]):
        return True
    name = relative.name
    return name in JUNK_NAMES or name.endswith(JUNK_SUFFIXES) or name.startswith("._")


def collect(folder: Path, prefix: str = "") -> list[Entry]:
    """Every regular file under `folder`, junk dropped, sorted by its name in the zip."""
    entries = []
    for dirpath, dirnames, filenames in os.walk(folder):
        dirnames[:] = [d for d in dirnames if d not in JUNK_DIRS]
        for filename in filenames:
            path = Path(dirpath) / filename
            relative = path.relative_to(folder)
            if is_junk(relative) or not stat.S_ISREG(path.lstat().st_mode):
                continue
            arcname = prefix + relative.as_posix()
            entries.append(Entry(path, arcname, normalised_mode(path)))
    return sorted(entries, key=lambda entry: entry.arcname)
