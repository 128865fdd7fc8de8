"""Bytecode for the Lambda runtime, compiled by the pinned pyodide under Node.js.

Lambda's /var/task and /opt are read-only, so a module shipped without bytecode is compiled
on every cold start. The build machine has no python3.14, so the compiler is pyodide: CPython
3.14 built for WebAssembly, an npm package pinned exactly in package-lock.json (pyc bytes
follow the exact CPython patch version). Each pyc is unchecked-hash (no source mtime in it)
and names the file where Lambda puts it, so tracebacks show real paths.

Compiled pycs are kept in a content-addressed cache (like pip's wheel cache), keyed by the
compiler, the source bytes and the path the pyc names, so a build starts the compiler only
for sources it has never compiled, and then once for all of them.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

TOOLS = Path(__file__).resolve().parents[1]
SCRIPT = Path(__file__).with_name("compile_bytecode.mjs")
PACKAGE = "pyodide"
# importlib.util.MAGIC_NUMBER per runtime (CPython's Include/internal/pycore_magic_number.h):
# a runtime bump without a matching compiler fails the build instead of shipping stale pycs.
MAGIC = {"3.14": 3627}
INSTALL_HINT = "install Node.js and npm (Debian: apt-get install nodejs npm), then run make build"


class BytecodeError(Exception):
    """The bytecode cannot be made; the message says what to do, in one line."""


@dataclass(frozen=True)
class Source:
    """One .py file of an artifact: where it is, and where Lambda will find it."""

    path: Path
    arcname: str  # in the zip, e.g. python/backend_kit/http.py
    location: str  # the same file on Lambda, e.g. /opt/python/backend_kit/http.py


def pyc_arcname(arcname: str, cache_tag: str) -> str:
    """PEP 3147: a/b.py is cached as a/__pycache__/b.<tag>.pyc."""
    path = PurePosixPath(arcname)
    return str(path.parent / "__pycache__" / f"{path.stem}.{cache_tag}.pyc").removeprefix("./")


def default_cache() -> Path:
    configured = os.environ.get("BYTECODE_CACHE")
    if configured:
        return Path(configured)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "backend-kit" / "bytecode"


@dataclass(frozen=True)
class Compiler:
    python_version: str  # the runtime's, e.g. "3.14"
    version: str  # pyodide's, exactly as locked
    integrity: str  # the lock's hash of the package
    package: Path  # node_modules/pyodide
    cache: Path

    @classmethod
    def pinned(
        cls, python_version: str, tools: Path = TOOLS, cache: Path | None = None
    ) -> Compiler:
        """The compiler package-lock.json pins; reading it starts nothing."""
        if python_version not in MAGIC:
            raise BytecodeError(
                f"no bytecode compiler is known for python{python_version}: pin a pyodide"
                f" built on CPython {python_version} in package.json and add its magic number"
            )
        lock = tools / "package-lock.json"
        try:
            locked = json.loads(lock.read_text())["packages"][f"node_modules/{PACKAGE}"]
        except (OSError, KeyError, ValueError):
            raise BytecodeError(f"{lock} does not pin {PACKAGE}: restore it from git") from None
        return cls(
            python_version,
            locked["version"],
            locked["integrity"],
            tools / "node_modules" / PACKAGE,
            cache or default_cache(),
        )

    @property
    def snapshots(self) -> Path:
        """Where the started compiler's memory snapshot is kept: with the installed tool, as
        it is made from it (npm ci starts it afresh)."""
        return self.package.parent / ".cache" / PACKAGE

    @property
    def cache_tag(self) -> str:
        return "cpython-" + self.python_version.replace(".", "")

    def identity(self) -> str:
        """What an artifact's input hash records of the compiler."""
        return f"bytecode:{PACKAGE}@{self.version}:{self.integrity}:{self.cache_tag}:unchecked"

    def _cached(self, source: Source) -> Path:
        digest = hashlib.sha256()
        for part in (self.identity().encode(), source.location.encode(), source.path.read_bytes()):
            digest.update(len(part).to_bytes(8, "big"))
            digest.update(part)
        name = digest.hexdigest()
        return self.cache / name[:2] / f"{name}.pyc"

    def compile(
        self, sources: Sequence[Source], log: Callable[[str], None]
    ) -> tuple[dict[Source, Path], dict[Source, str]]:
        """Each source's pyc (a file in the cache), and the sources that are not valid
        Python for the runtime, with the compiler's reason. The compiler runs at most once,
        and not at all when every source was compiled before."""
        pycs = {source: self._cached(source) for source in sources}
        failed = {
            source: refusal.read_text()
            for source, pyc in pycs.items()
            if (refusal := pyc.with_suffix(".refused")).is_file()
        }
        missing = [s for s, pyc in pycs.items() if s not in failed and not pyc.is_file()]
        if missing:
            failed |= self._run(missing, pycs, log)
        return {s: p for s, p in pycs.items() if s not in failed}, failed

    def _run(
        self, missing: list[Source], pycs: dict[Source, Path], log: Callable[[str], None]
    ) -> dict[Source, str]:
        node = shutil.which("node")
        if node is None:
            raise BytecodeError(
                f"Node.js runs the bytecode compiler and is not on PATH: {INSTALL_HINT}"
            )
        installed = self.package / "package.json"
        if not installed.is_file() or json.loads(installed.read_text())["version"] != self.version:
            raise BytecodeError(
                f"{PACKAGE} {self.version} is not installed in {self.package.parent}:"
                f" run `npm ci` in {self.package.parents[1]} (make build does)"
            )
        staging = self.cache / "partial" / f"{os.getpid()}"
        jobs = [(source, staging / f"{index}.pyc") for index, source in enumerate(missing)]
        files = [[str(s.path.resolve()), str(out.resolve()), s.location] for s, out in jobs]
        staging.mkdir(parents=True, exist_ok=True)
        log(f"  compiling {len(missing)} sources to {self.cache_tag} ({PACKAGE} {self.version})")
        try:
            result = subprocess.run(
                [node, str(SCRIPT), str(self.package.resolve()), str(self.snapshots.resolve())],
                input=json.dumps({"files": files}),
                capture_output=True,
                text=True,
            )
            if result.returncode != 0:
                raise BytecodeError(f"the bytecode compiler failed: {_last_line(result.stderr)}")
            answer = json.loads(result.stdout.strip().splitlines()[-1])
            self._check(answer)
            failed = {missing[i]: reason for i, reason in _failures(answer, files)}
            for source, out in jobs:
                target = pycs[source]
                target.parent.mkdir(parents=True, exist_ok=True)
                if source in failed:  # remembered, so it never restarts the compiler
                    out.write_text(failed[source])
                    target = target.with_suffix(".refused")
                out.replace(target)  # whole files only: a crash leaves no half pyc
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        return failed

    def _check(self, answer: dict) -> None:
        expected = MAGIC[self.python_version]
        if (
            answer["magic"] != expected
            or answer["cache_tag"] != self.cache_tag
            or not answer["version"].startswith(self.python_version + ".")
        ):
            raise BytecodeError(
                f"{PACKAGE} {self.version} is CPython {answer['version']} (magic"
                f" {answer['magic']}), not python{self.python_version} (magic {expected}):"
                " pin a matching pyodide in package.json"
            )


def _failures(answer: dict, files: list[list[str]]) -> list[tuple[int, str]]:
    index = {file[0]: i for i, file in enumerate(files)}
    return [(index[source], reason) for source, reason in answer["failed"]]


def _last_line(text: str) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[-1] if lines else "no output"
