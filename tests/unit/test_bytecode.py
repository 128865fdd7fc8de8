"""The bytecode compiler: the pinned pyodide writes CPython 3.14 pycs that name Lambda's paths,
the same bytes every time, at most one compiler run per build, and one clear line when it
cannot run."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from artifacts.bytecode import MAGIC, BytecodeError, Compiler, Source, pyc_arcname

# A pyc's header (PEP 552): magic, flags, then the source hash for hash-based pycs.
UNCHECKED_HASH_FLAGS = 0b01


def source(folder: Path, name: str, text: str, location: str | None = None) -> Source:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return Source(path, name, location or f"/var/task/{name}")


def test_the_pyc_sits_in_pycache_under_the_runtimes_tag() -> None:
    assert pyc_arcname("app.py", "cpython-314") == "__pycache__/app.cpython-314.pyc"
    assert (
        pyc_arcname("python/backend_kit/http.py", "cpython-314")
        == "python/backend_kit/__pycache__/http.cpython-314.pyc"
    )


def test_the_compiler_is_the_one_the_lock_pins() -> None:
    compiler = Compiler.pinned("3.14")
    lock = json.loads((Path(__file__).resolve().parents[2] / "package-lock.json").read_text())
    assert compiler.version == lock["packages"]["node_modules/pyodide"]["version"]
    assert compiler.version.startswith("314.")  # pyodide's major follows CPython's minor
    assert compiler.version in compiler.identity() and "cpython-314" in compiler.identity()


def test_a_runtime_without_a_known_compiler_fails_the_build() -> None:
    with pytest.raises(BytecodeError, match=r"no bytecode compiler is known for python3\.15"):
        Compiler.pinned("3.15")


def test_pycs_are_3_14_unchecked_hash_name_lambdas_path_and_repeat_exactly(
    tmp_path: Path,
) -> None:
    first = Compiler.pinned("3.14", cache=tmp_path / "cache-a")
    second = Compiler.pinned("3.14", cache=tmp_path / "cache-b")
    sources = [
        source(tmp_path, "app.py", "import json\n\ndef handler(event, context):\n    return 1\n"),
        source(tmp_path, "pkg/mod.py", "X = {'a': (1, 2.5, None)}\nY = 'shared text'\n"),
        source(tmp_path, "broken.py", "def broken(:\n"),
    ]
    lines: list[str] = []
    pycs, refused = first.compile(sources, lines.append)
    again, _ = second.compile(list(reversed(sources)), lines.append)  # another order, process
    assert set(refused) == {sources[2]} and "invalid syntax" in refused[sources[2]]
    for good in sources[:2]:
        data = pycs[good].read_bytes()
        assert int.from_bytes(data[:2], "little") == MAGIC["3.14"] and data[2:4] == b"\r\n"
        assert int.from_bytes(data[4:8], "little") == UNCHECKED_HASH_FLAGS
        assert good.location.encode() in data  # co_filename, for tracebacks on Lambda
        assert str(tmp_path).encode() not in data  # nothing of the build machine
        assert data == again[good].read_bytes()
    assert sum("compiling" in line for line in lines) == 2  # one run each


def test_a_second_compile_of_the_same_sources_starts_nothing(tmp_path: Path) -> None:
    compiler = Compiler.pinned("3.14", cache=tmp_path / "cache")
    sources = [source(tmp_path, "a.py", "A = 1\n"), source(tmp_path, "b.py", "def b(:\n")]
    compiler.compile(sources, lambda line: None)
    lines: list[str] = []
    pycs, refused = compiler.compile(sources, lines.append)
    assert lines == [] and set(pycs) == {sources[0]} and set(refused) == {sources[1]}
    moved = Source(sources[0].path, "a.py", "/opt/python/a.py")  # another co_filename
    compiler.compile([moved], lines.append)
    assert len(lines) == 1


def test_without_node_the_build_says_what_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # no node on it
    compiler = Compiler.pinned("3.14", cache=tmp_path / "cache")
    with pytest.raises(BytecodeError) as error:
        compiler.compile([source(tmp_path, "a.py", "A = 1\n")], lambda line: None)
    message = str(error.value)
    assert "Node.js" in message and "apt-get install nodejs npm" in message
    assert "\n" not in message


def test_a_missing_or_other_pyodide_says_to_run_npm_ci(tmp_path: Path) -> None:
    tools = tmp_path / "tools"
    (tools / "node_modules" / "pyodide").mkdir(parents=True)
    lock = {"packages": {"node_modules/pyodide": {"version": "314.0.7", "integrity": "x"}}}
    (tools / "package-lock.json").write_text(json.dumps(lock))
    (tools / "node_modules" / "pyodide" / "package.json").write_text('{"version": "314.0.1"}')
    compiler = Compiler.pinned("3.14", tools=tools, cache=tmp_path / "cache")
    with pytest.raises(BytecodeError, match="run `npm ci`"):
        compiler.compile([source(tmp_path, "a.py", "A = 1\n")], lambda line: None)


def test_a_compiler_of_another_version_is_refused(tmp_path: Path) -> None:
    """The magic number the compiler reports must be the runtime's."""
    compiler = Compiler.pinned("3.14", cache=tmp_path / "cache")
    with pytest.raises(BytecodeError, match=r"not python3\.14"):
        compiler._check({"magic": 3571, "cache_tag": "cpython-313", "version": "3.13.2"})
    compiler._check({"magic": MAGIC["3.14"], "cache_tag": "cpython-314", "version": "3.14.2"})


def own_tools(tmp_path: Path) -> Path:
    """The installed compiler, with a snapshot folder of its own."""
    tools = tmp_path / "tools"
    (tools / "node_modules").mkdir(parents=True)
    (tools / "node_modules" / "pyodide").symlink_to(Compiler.pinned("3.14").package)
    shutil.copy2(Path(__file__).resolve().parents[2] / "package-lock.json", tools)
    return tools


def test_a_compiler_restored_from_its_snapshot_writes_the_same_pycs(tmp_path: Path) -> None:
    tools = own_tools(tmp_path)
    sources = [source(tmp_path, "app.py", "S = frozenset({'a', 'b', 'c'})\ndef f(): return 1\n")]
    plain = Compiler.pinned("3.14", tools=tools, cache=tmp_path / "plain")
    first, _ = plain.compile(sources, lambda line: None)
    (snapshot,) = plain.snapshots.glob("*.bin")  # made by that plain start
    restored = Compiler.pinned("3.14", tools=tools, cache=tmp_path / "restored")
    second, _ = restored.compile(sources, lambda line: None)
    assert first[sources[0]].read_bytes() == second[sources[0]].read_bytes()
    snapshot.write_bytes(b"not a snapshot")  # one that cannot be restored: start plainly
    third, _ = Compiler.pinned("3.14", tools=tools, cache=tmp_path / "third").compile(
        sources, lambda line: None
    )
    assert third[sources[0]].read_bytes() == first[sources[0]].read_bytes()
    assert snapshot.stat().st_size > 1_000_000  # and replaced
