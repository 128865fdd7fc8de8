"""Writing generated files: only when their content changes, and never half-written. The
renderer and the build both write through it; it imports nothing of either."""

from __future__ import annotations

from pathlib import Path


def write_if_changed(path: Path, content: str) -> bool:
    """Write only when the content differs, so a no-op build touches nothing."""
    if path.is_file() and path.read_text() == content:
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(content)
    tmp.replace(path)
    return True
