"""The build: normalised zips, content-hashed names, incremental rebuilds, limits."""

from __future__ import annotations

import dataclasses
import hashlib
import os
import shutil
import zipfile
from pathlib import Path

import pytest

from artifacts import manifest
from artifacts.builder import FOLDERS, Builder, BuildError, Limits, build_manifest
from artifacts.bytecode import MAGIC, Compiler, pyc_arcname
from artifacts.files import collect
from artifacts.zipper import FIXED_TIME, write_zip
from template_gen.spec import SPEC

ROOT = Path(__file__).resolve().parents[2]
# The deps layer needs pip and the registry; the reproducibility test builds it in full.
NO_DEPS = dataclasses.replace(SPEC, layers=tuple(x for x in SPEC.layers if x.name != "deps"))


def sources(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    for item in NO_DEPS.buildables:
        shutil.copytree(ROOT / item.source, root / item.source,
                        ignore=shutil.ignore_patterns("__pycache__"))  # fmt: skip
    return root


def build(
    root: Path,
    limits: Limits | None = None,
    lines: list[str] | None = None,
    compiler: Compiler | None = None,
) -> manifest.Manifest:
    """The manifest as build.py writes it, read back from the file."""
    log = lines.append if lines is not None else lambda line: None
    builder = Builder(NO_DEPS, root, root / "build", limits or Limits(), log, compiler)
    path = root / "build" / "manifest.json"
    manifest.write(path, build_manifest(NO_DEPS, builder.build()))
    return manifest.load(path)


def snapshot(folder: Path) -> dict[str, tuple[int, int]]:
    return {
        str(p.relative_to(folder)): (p.stat().st_mtime_ns, p.stat().st_ino)
        for p in sorted(folder.rglob("*"))
    }


def test_zip_entries_are_sorted_share_one_timestamp_and_drop_the_sources_bytecode(
    tmp_path: Path,
) -> None:
    folder = tmp_path / "fn"
    (folder / "pkg" / "__pycache__").mkdir(parents=True)
    (folder / "pkg" / "__pycache__" / "mod.cpython-311.pyc").write_bytes(b"\0")
    (folder / "zeta.py").write_text("z = 1\n")
    (folder / "app.py").write_text("a = 1\n")
    (folder / "pkg" / "mod.py").write_text("m = 1\n")
    (folder / "stale.pyc").write_bytes(b"\0")
    (folder / ".DS_Store").write_bytes(b"\0")
    (folder / "notes.txt~").write_text("backup")
    (folder / "run.sh").write_text("#!/bin/sh\n")
    (folder / "run.sh").chmod(0o700)
    (folder / "app.py").chmod(0o600)
    write_zip(tmp_path / "fn.zip", collect(folder))
    with zipfile.ZipFile(tmp_path / "fn.zip") as archive:
        infos = archive.infolist()
    names = [info.filename for info in infos]
    assert names == ["app.py", "pkg/mod.py", "run.sh", "zeta.py"]
    assert {info.date_time for info in infos} == {FIXED_TIME}
    modes = {info.filename: (info.external_attr >> 16) & 0o777 for info in infos}
    assert modes == {"app.py": 0o644, "pkg/mod.py": 0o644, "run.sh": 0o755, "zeta.py": 0o644}
    assert {info.compress_type for info in infos} == {zipfile.ZIP_DEFLATED}


def test_layer_content_sits_under_python(tmp_path: Path) -> None:
    built = build(sources(tmp_path))
    (shared,) = [a for a in built.artifacts if a.name == "shared"]
    with zipfile.ZipFile(tmp_path / "repo" / "build" / shared.path) as archive:
        assert all(name.startswith("python/backend_kit/") for name in archive.namelist())


def test_names_and_manifest_come_from_the_content(tmp_path: Path) -> None:
    root = sources(tmp_path)
    for artifact in build(root).artifacts:
        path = root / "build" / artifact.path
        folder = FOLDERS[artifact.kind]
        assert artifact.path == f"{folder}/{artifact.name}-{artifact.input_sha256[:16]}.zip"
        assert artifact.zip_sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
        assert artifact.zipped_bytes == path.stat().st_size
        with zipfile.ZipFile(path) as archive:
            assert artifact.files == len(archive.infolist())
            assert artifact.unzipped_bytes == sum(i.file_size for i in archive.infolist())


def test_a_change_to_one_function_changes_only_its_zip(tmp_path: Path) -> None:
    root = sources(tmp_path)
    before = {a.name: a for a in build(root).artifacts}
    app = root / "functions" / "items" / "app.py"
    app.write_text(app.read_text() + "\n# changed\n")
    after = {a.name: a for a in build(root).artifacts}
    changed = {name for name in before if before[name] != after[name]}
    assert changed == {"items"}
    assert not (root / "build" / before["items"].path).exists()  # the stale zip is gone
    assert (root / "build" / after["items"].path).is_file()


def test_mtimes_and_permissions_do_not_change_the_output(tmp_path: Path) -> None:
    root = sources(tmp_path)
    first = build(root)
    for path in (root / "functions").rglob("*.py"):
        os.utime(path, (1_000_000_000, 1_000_000_000))
        path.chmod(0o600)
    shutil.rmtree(root / "build")
    assert build(root) == first


def test_a_no_op_rebuild_touches_nothing(tmp_path: Path) -> None:
    root = sources(tmp_path)
    build(root)
    before = snapshot(root / "build")
    lines: list[str] = []
    build(root, lines=lines)
    assert snapshot(root / "build") == before
    assert len(lines) == 1 + len(NO_DEPS.functions) + len(NO_DEPS.layers)
    assert all(" cached " in line for line in lines[1:])


def test_a_zip_over_the_limit_fails_naming_it_and_its_size(tmp_path: Path) -> None:
    root = sources(tmp_path)
    (root / "functions" / "users" / "blob.bin").write_bytes(os.urandom(4096))
    with pytest.raises(BuildError, match=r"function 'users' is 0\.0\d* MB zipped, over the 0 MB"):
        build(root, Limits(max_zipped_bytes=2048))


def test_a_function_with_its_layers_over_the_unzipped_limit_fails(tmp_path: Path) -> None:
    root = sources(tmp_path)
    with pytest.raises(BuildError, match=r"function '\w+' with its layers is [\d.]+ MB unzipped"):
        build(root, Limits(max_unzipped_bytes=1000))


def test_the_build_version_follows_any_artifact(tmp_path: Path) -> None:
    root = sources(tmp_path)
    first = build(root).version
    assert build(root).version == first
    (root / "layers" / "shared" / "python" / "backend_kit" / "extra.py").write_text("x = 1\n")
    assert build(root).version != first


def test_every_source_ships_with_the_runtimes_bytecode_beside_it(tmp_path: Path) -> None:
    root = sources(tmp_path)
    for artifact in build(root).artifacts:
        with zipfile.ZipFile(root / "build" / artifact.path) as archive:
            names = set(archive.namelist())
            pycs = {name for name in names if name.endswith(".pyc")}
            expected = {pyc_arcname(name, "cpython-314") for name in names if name.endswith(".py")}
            assert expected and pycs == expected, artifact.name
            for pyc in pycs:
                assert int.from_bytes(archive.read(pyc)[:2], "little") == MAGIC["3.14"]


def test_a_change_compiles_only_what_changed(tmp_path: Path) -> None:
    root = sources(tmp_path)
    compiler = Compiler.pinned("3.14", cache=tmp_path / "cache")
    build(root, compiler=compiler)
    app = root / "functions" / "items" / "app.py"
    app.write_text(app.read_text() + "\n# changed\n")
    lines: list[str] = []
    build(root, lines=lines, compiler=compiler)
    assert [line for line in lines if "compiling" in line] == [
        "  compiling 1 sources to cpython-314 (pyodide 314.0.7)"
    ]


def test_our_own_code_that_python_3_14_cannot_compile_fails_the_build(tmp_path: Path) -> None:
    """A docstring with a lone surrogate compiles on 3.11, where the tests run, and not on 3.14,
    whose compiler dedents docstrings through UTF-8: the import would fail on Lambda."""
    root = sources(tmp_path)
    bad = root / "functions" / "users" / "notes.py"
    bad.write_text('def f():\n    """\\ud800"""\n')
    compile(bad.read_text(), str(bad), "exec")  # fine for the interpreter running the tests
    with pytest.raises(BuildError) as error:
        build(root)
    assert str(error.value).startswith("function 'users': notes.py is not valid Python 3.14:")
    assert "surrogates not allowed" in str(error.value)


def test_a_runtime_the_compiler_does_not_know_fails_the_build_in_one_line(tmp_path: Path) -> None:
    newer = dataclasses.replace(NO_DEPS, runtime="python3.15")
    with pytest.raises(BuildError, match=r"no bytecode compiler is known for python3\.15"):
        Builder(newer, sources(tmp_path), tmp_path / "build", log=lambda line: None)
