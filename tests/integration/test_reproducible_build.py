"""Two builds in two fresh copies, differing in path depth, umask, mtimes, time zone, hash
seed and working directory, give byte-identical zips, manifest and template."""

from __future__ import annotations

import hashlib
import os
import random
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from artifacts.builder import Builder, BuildError
from artifacts.bytecode import pyc_arcname
from template_gen.spec import SPEC

ROOT = Path(__file__).resolve().parents[2]
COPIED = ("build.py", "artifacts", "template_gen", "functions", "layers", "package.json",
          "package-lock.json")  # fmt: skip

pytestmark = pytest.mark.integration


def fresh_copy(destination: Path, file_mode: int, dir_mode: int, seed: int) -> Path:
    destination.mkdir(parents=True)
    for name in COPIED:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, destination / name,
                            ignore=shutil.ignore_patterns("__pycache__"))  # fmt: skip
        else:
            shutil.copy2(source, destination / name)
    script = destination / "functions" / "health" / "warm.sh"
    script.write_text("#!/bin/sh\nexit 0\n")
    script.chmod(0o755)
    rng = random.Random(seed)
    for path in sorted(destination.rglob("*")):
        if path.is_dir():
            path.chmod(dir_mode)
        else:
            executable = path == script
            path.chmod((file_mode | 0o100) if executable else file_mode)
            stamp = rng.randint(0, 2_000_000_000)
            os.utime(path, (stamp, stamp))
    # The installed tools are shared, as .venv is; the bytecode cache is not, so each copy
    # compiles all of its pycs itself.
    (destination / "node_modules").symlink_to(ROOT / "node_modules")
    return destination


def run_build(root: Path, umask: int, tz: str, seed: str, cwd: Path) -> None:
    cache = root.parent / f"{root.name}-bytecode-cache"
    subprocess.run(
        [sys.executable, str(root / "build.py")],
        cwd=cwd,
        env={**os.environ, "TZ": tz, "PYTHONHASHSEED": seed, "BYTECODE_CACHE": str(cache)},
        preexec_fn=lambda: os.umask(umask),
        check=True,
        capture_output=True,
        timeout=600,
    )


def outputs(root: Path) -> dict[str, str]:
    build = root / "build"
    return {
        str(p.relative_to(build)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(build.rglob("*"))
        if p.is_file()
    }


def test_two_fresh_copies_build_byte_identical_outputs(tmp_path: Path) -> None:
    a = fresh_copy(tmp_path / "a" / "repo", 0o644, 0o755, seed=1)
    b = fresh_copy(tmp_path / "b" / "deeper" / "still" / "deeper" / "repo", 0o600, 0o700, seed=2)
    # Junk that only one copy has must not reach its zips.
    (b / "functions" / "users" / "__pycache__").mkdir()
    (b / "functions" / "users" / "__pycache__" / "app.cpython-311.pyc").write_bytes(b"\x00")
    (b / "functions" / "items" / ".DS_Store").write_bytes(b"\x00")
    run_build(a, 0o022, "UTC", "0", cwd=a)
    run_build(b, 0o077, "Pacific/Auckland", "12345", cwd=tmp_path)
    built_a, built_b = outputs(a), outputs(b)
    assert set(built_a) == set(built_b)
    assert {"manifest.json", "template.yaml"} <= set(built_a)
    assert len([p for p in built_a if p.endswith(".zip")]) == len(SPEC.functions) + len(SPEC.layers)
    assert built_a == built_b
    # Each copy compiled its bytecode itself, in its own compiler run, and every zip has it.
    assert (a.parent / "repo-bytecode-cache").is_dir() and (
        b.parent / "repo-bytecode-cache"
    ).is_dir()
    for archive in sorted((a / "build").rglob("*.zip")):
        with zipfile.ZipFile(archive) as zipped:
            names = set(zipped.namelist())
        sources = {n for n in names if n.endswith(".py")}
        assert sources and {pyc_arcname(n, "cpython-314") for n in sources} <= names, archive


def test_a_locked_package_without_a_wheel_for_the_target_fails_clearly(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    for item in SPEC.buildables:
        shutil.copytree(ROOT / item.source, root / item.source)
    # psycopg2 publishes only Windows wheels, so pip finds nothing for Linux on arm64.
    lock = root / "layers" / "deps" / "requirements.txt"
    lock.write_text(f"psycopg2==2.9.10 --hash=sha256:{'0' * 64}\n")
    with pytest.raises(BuildError) as error:
        Builder(SPEC, root, root / "build", log=lambda line: None).build()
    message = str(error.value)
    assert "layer 'deps': no wheel of psycopg2==2.9.10" in message
    assert "cp3.14 on manylinux2014_aarch64" in message


def mtimes(folder: Path) -> dict[str, int]:
    return {str(p.relative_to(folder)): p.stat().st_mtime_ns for p in sorted(folder.rglob("*"))}


def test_build_py_no_op_touches_nothing_and_a_change_touches_only_its_zip(
    tmp_path: Path,
) -> None:
    root = fresh_copy(tmp_path / "repo", 0o644, 0o755, seed=3)
    run_build(root, 0o022, "UTC", "0", cwd=root)
    before, stamps = outputs(root), mtimes(root / "build")
    result = subprocess.run([sys.executable, "build.py"], cwd=root, capture_output=True,
                            text=True, check=True, timeout=600)  # fmt: skip
    assert mtimes(root / "build") == stamps
    assert result.stdout.count(" cached ") == len(SPEC.functions) + len(SPEC.layers)
    assert "template cached" in result.stdout

    app = root / "functions" / "users" / "app.py"
    app.write_text(app.read_text() + "\n# changed\n")
    run_build(root, 0o022, "UTC", "0", cwd=root)
    after = outputs(root)
    changed = {p for p in before.keys() | after.keys() if before.get(p) != after.get(p)}
    users = {p for p in changed if p.startswith("functions/users-")}
    assert len(users) == 2  # the old zip went, the new one came
    assert changed - users == {"manifest.json", "template.yaml", ".template.yaml.inputs"}


def test_without_node_build_py_says_what_to_install_in_one_line(tmp_path: Path) -> None:
    """Only what must be compiled needs Node.js: the deps layer comes from this tree's build,
    and the rest must be compiled, with an empty bytecode cache and no node on PATH."""
    out = tmp_path / "build"
    (out / "layers").mkdir(parents=True)
    for deps in (ROOT / "build" / "layers").glob("deps-*.zip"):
        shutil.copy2(deps, out / "layers" / deps.name)
    bare = tmp_path / "bin"
    bare.mkdir()
    result = subprocess.run(
        [sys.executable, str(ROOT / "build.py"), "--out", str(out)],
        cwd=tmp_path,
        env={**os.environ, "PATH": str(bare), "BYTECODE_CACHE": str(tmp_path / "cache")},
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        "build failed: Node.js runs the bytecode compiler and is not on PATH: install Node.js"
        " and npm (Debian: apt-get install nodejs npm), then run make build"
    ]
