"""Plan, stage (in parallel, skipping what is already built), compile the bytecode of all that
is new in one run, zip, check limits, write the manifest."""

from __future__ import annotations

import hashlib
import shutil
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path

from artifacts.bytecode import BytecodeError, Compiler, Source, pyc_arcname
from artifacts.deps import LOCK_FILE, MissingWheel, Target, install, is_dependency_layer
from artifacts.files import FILE_MODE, Entry, collect
from artifacts.inputs import input_hash
from artifacts.manifest import BuildTarget, Built, Kind, Manifest
from artifacts.zipper import ZIP_FORMAT, ZLIB_VERSION, read_stats, write_zip
from template_gen.model import Spec

MIB = 1024 * 1024
# The build folder's subfolder for each kind of artifact.
FOLDERS: dict[Kind, str] = {"function": "functions", "layer": "layers"}
# Layer content must sit under python/ to land on sys.path at /opt/python.
LAYER_PREFIX = "python/"
# Where Lambda unpacks each kind: a function's zip in /var/task, layers in /opt.
RUNTIME_ROOTS: dict[Kind, str] = {"function": "/var/task/", "layer": "/opt/"}


class BuildError(Exception):
    """The build cannot produce a valid artifact; the message names it and the figure."""


@dataclass(frozen=True)
class Limits:
    # Lambda's quotas: a zip uploaded directly, and a function with all its layers unzipped.
    max_zipped_bytes: int = 50 * MIB
    max_unzipped_bytes: int = 250 * MIB


@dataclass(frozen=True)
class Artifact:
    name: str
    kind: Kind
    source: Path


@dataclass(eq=False)
class Staged:
    """An artifact between planning and zipping: `entries` is None when its zip exists."""

    artifact: Artifact
    digest: str
    relative: str
    started: float
    entries: list[Entry] | None = None


_LOG_LOCK = threading.Lock()


def log_line(line: str) -> None:
    """One whole line per call, even from parallel builds."""
    with _LOG_LOCK:
        sys.stdout.write(line + "\n")
        sys.stdout.flush()


def plan(spec: Spec, root: Path) -> list[Artifact]:
    return [
        *(Artifact(f.name, "function", root / f.source) for f in spec.functions),
        *(Artifact(layer.name, "layer", root / layer.source) for layer in spec.layers),
    ]


def human(size: int) -> str:
    value = float(size)
    for unit in ("B", "KiB", "MiB"):
        if value < 1024 or unit == "MiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    raise AssertionError


class Builder:
    def __init__(
        self,
        spec: Spec,
        root: Path,
        out: Path,
        limits: Limits = Limits(),
        log: Callable[[str], None] = log_line,
        compiler: Compiler | None = None,
    ) -> None:
        self.spec = spec
        self.root = root
        self.out = out
        self.limits = limits
        self.log = log
        self.target = Target.for_lambda(spec.runtime, spec.architecture)
        try:
            self.compiler = compiler or Compiler.pinned(self.target.python_version)
        except BytecodeError as error:
            raise BuildError(str(error)) from None

    def _stage(self, artifact: Artifact) -> Staged:
        """The artifact's input hash and, unless its zip exists, its files (the deps layer
        installed for the target first)."""
        started = time.monotonic()
        dependency_layer = artifact.kind == "layer" and is_dependency_layer(artifact.source)
        compiler = self.compiler.identity()
        if dependency_layer:
            lock = artifact.source / LOCK_FILE
            digest = input_hash((), lock.read_text(), self.target.describe(), compiler)
        else:
            entries = collect(artifact.source)
            digest = input_hash(entries, compiler)
        relative = f"{FOLDERS[artifact.kind]}/{artifact.name}-{digest[:16]}.zip"
        staged = Staged(artifact, digest, relative, started)
        if (self.out / relative).is_file():
            return staged
        if dependency_layer:
            work = self.out / ".work" / f"{artifact.name}-{digest[:16]}"
            shutil.rmtree(work, ignore_errors=True)
            try:
                install(artifact.source / LOCK_FILE, self.target, work)
            except MissingWheel as error:
                raise BuildError(f"layer '{artifact.name}': {error}") from None
            entries = collect(work, LAYER_PREFIX)
        staged.entries = entries
        return staged

    def _compile(self, staged: list[Staged]) -> None:
        """Bytecode for every .py of every artifact to build, from one compiler run."""
        roots = RUNTIME_ROOTS
        sources = {
            item: [
                Source(entry.source, entry.arcname, roots[item.artifact.kind] + entry.arcname)
                for entry in item.entries
                if entry.arcname.endswith(".py")
            ]
            for item in staged
            if item.entries is not None
        }
        everything = [source for group in sources.values() for source in group]
        try:
            pycs, refused = self.compiler.compile(everything, self.log)
        except BytecodeError as error:
            raise BuildError(str(error)) from None
        version = self.compiler.python_version
        for item, group in sources.items():
            assert item.entries is not None
            artifact = item.artifact
            theirs = [source for source in group if source in refused]
            if theirs and not is_dependency_layer(artifact.source):
                raise BuildError(
                    f"{artifact.kind} '{artifact.name}': {theirs[0].arcname} is not valid"
                    f" Python {version}: {refused[theirs[0]]}"
                )
            if theirs:
                self.log(
                    f"  {artifact.kind:8} {artifact.name:10} {len(theirs)} files are not valid"
                    f" Python {version} and ship as source only"
                )
            tag = self.compiler.cache_tag
            compiled = [Entry(pycs[s], pyc_arcname(s.arcname, tag), FILE_MODE) for s in group
                        if s in pycs]  # fmt: skip
            item.entries = sorted([*item.entries, *compiled], key=lambda entry: entry.arcname)

    def _finish(self, item: Staged) -> Built:
        target = self.out / item.relative
        if item.entries is None:
            stats, state = read_stats(target), "cached"
        else:
            stats, state = write_zip(target, item.entries), "built"
        artifact = item.artifact
        self.log(
            f"  {artifact.kind:8} {artifact.name:10} {state:6} {human(stats.zipped_bytes):>10}"
            f"  {time.monotonic() - item.started:5.2f}s"
        )
        return Built(artifact.name, artifact.kind, item.relative, item.digest, **asdict(stats))

    def build(self, jobs: int | None = None) -> list[Built]:
        artifacts = plan(self.spec, self.root)
        self.log(f"building {len(artifacts)} artifacts for {self.target.describe()}")
        with ThreadPoolExecutor(max_workers=jobs) as pool:
            staged = list(pool.map(self._stage, artifacts))
            self._compile(staged)
            built = list(pool.map(self._finish, staged))
        self._remove_stale(built)
        self._check_limits(built)
        return built

    def _remove_stale(self, built: list[Built]) -> None:
        keep = {self.out / b.path for b in built}
        for folder in FOLDERS.values():
            for path in sorted((self.out / folder).glob("*")):
                if path not in keep and path.is_file():
                    path.unlink()
                    self.log(f"  removed stale {folder}/{path.name}")
        shutil.rmtree(self.out / ".work", ignore_errors=True)

    def _check_limits(self, built: list[Built]) -> None:
        for artifact in built:
            if artifact.zipped_bytes > self.limits.max_zipped_bytes:
                raise BuildError(
                    f"{artifact.kind} '{artifact.name}' is {artifact.zipped_bytes / MIB:.1f} MB"
                    f" zipped, over the {self.limits.max_zipped_bytes / MIB:.0f} MB limit"
                )
        layers = sum(b.unzipped_bytes for b in built if b.kind == "layer")
        for function in (b for b in built if b.kind == "function"):
            total = function.unzipped_bytes + layers
            if total > self.limits.max_unzipped_bytes:
                raise BuildError(
                    f"function '{function.name}' with its layers is {total / MIB:.1f} MB"
                    f" unzipped, over the {self.limits.max_unzipped_bytes / MIB:.0f} MB limit"
                )


def build_version(built: list[Built]) -> str:
    """One hash for the whole build: it changes when any artifact's inputs change."""
    ordered = sorted(built, key=lambda b: (b.kind, b.name))
    lines = "".join(f"{b.kind}/{b.name}:{b.input_sha256}\n" for b in ordered)
    return hashlib.sha256(lines.encode()).hexdigest()[:16]


def build_manifest(spec: Spec, built: list[Built]) -> Manifest:
    target = Target.for_lambda(spec.runtime, spec.architecture)
    return Manifest(
        version=build_version(built),
        format=ZIP_FORMAT,
        zlib=ZLIB_VERSION,
        target=BuildTarget(spec.runtime, spec.architecture, target.platforms),
        artifacts=tuple(built),
    )
