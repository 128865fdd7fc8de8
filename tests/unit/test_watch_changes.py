"""What the watcher of `make local WATCH=1` counts as a change (offline/stack/watch.py): a
file saved, added or removed under the watched folders, never the bytecode caches."""

from __future__ import annotations

import os
from pathlib import Path

from offline.stack.watch import changed, stamps


def tree(root: Path) -> Path:
    (root / "functions" / "health" / "__pycache__").mkdir(parents=True)
    (root / "functions" / "health" / "app.py").write_text("VERSION = 1\n")
    (root / "functions" / "health" / "__pycache__" / "app.cpython-311.pyc").write_bytes(b"x")
    return root


def test_a_saved_added_or_removed_file_is_a_change(tmp_path: Path) -> None:
    root = tree(tmp_path)
    before = stamps(root, ["functions"])
    app = root / "functions" / "health" / "app.py"
    app.write_text("VERSION = 22\n")
    added = root / "functions" / "health" / "extra.py"
    added.write_text("")
    assert changed(before, stamps(root, ["functions"])) == {app, added}
    added.unlink()
    assert changed(before, stamps(root, ["functions"])) == {app}


def test_a_same_size_save_is_seen_by_its_time(tmp_path: Path) -> None:
    root = tree(tmp_path)
    app = root / "functions" / "health" / "app.py"
    before = stamps(root, ["functions"])
    app.write_text("VERSION = 2\n")  # the same size
    os.utime(app, ns=(before[app][0] + 1_000_000, before[app][0] + 1_000_000))
    assert changed(before, stamps(root, ["functions"])) == {app}


def test_bytecode_caches_are_not_changes(tmp_path: Path) -> None:
    root = tree(tmp_path)
    before = stamps(root, ["functions"])
    cache = root / "functions" / "health" / "__pycache__" / "app.cpython-311.pyc"
    cache.write_bytes(b"recompiled")
    assert changed(before, stamps(root, ["functions"])) == set()
    assert all("__pycache__" not in p.parts for p in before)
