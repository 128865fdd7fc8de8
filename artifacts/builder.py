"""Plan, build (in parallel, skipping what is already built), check limits, write the manifest."""

from __future__ import annotations

import hashlib
import json
import shutil
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path

from artifacts.deps import LOCK_FILE, MissingWheel, Target, install, is_dependency_layer
from artifacts.files import collect, write_if_changed
from artifacts.inputs import input_hash
from artifacts.zipper import ZIP_FORMAT, ZLIB_VERSION, ZipStats, read_stats, write_zip
from template_gen.model import Spec

MIB = 1024 * 1024
KINDS = {"function": "functions", "layer": "layers"}
# Layer content must sit under python/ to land on sys.path at /opt/python.
LAYER_PREFIX = "python/"


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
    kind: str  # "function" or "layer"
    source: Path


@dataclass(frozen=True)
class Built:
    name: str
    kind: str
    path: str  # relative to the build folder, as the template there refers to it
    input_sha256: str
    zip_sha256: str
    zipped_bytes: int
    unzipped_bytes: int
    files: int


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
    for unit in ("B", "KiB", "MiB"):
        if size < 1024 or unit == "MiB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    raise AssertionError


class Builder:
    def __init__(
        self,
        spec: Spec,
        root: Path,
        out: Path,
        limits: Limits = Limits(),
        log: Callable[[str], None] = log_line,
    ) -> None:
        self.spec = spec
        self.root = root
        self.out = out
        self.limits = limits
        self.log = log
        self.target = Target.for_lambda(spec.runtime, spec.architecture)

    def _build_one(self, artifact: Artifact) -> Built:
        started = time.monotonic()
        dependency_layer = artifact.kind == "layer" and is_dependency_layer(artifact.source)
        if dependency_layer:
            lock = artifact.source / LOCK_FILE
            digest = input_hash((), lock.read_text(), self.target.describe())
        else:
            entries = collect(artifact.source)
            digest = input_hash(entries)
        relative = f"{KINDS[artifact.kind]}/{artifact.name}-{digest[:16]}.zip"
        target = self.out / relative
        if target.is_file():
            stats, state = read_stats(target), "cached"
        elif dependency_layer:
            stats, state = self._build_dependency_layer(artifact, target, digest), "built"
        else:
            stats, state = write_zip(target, entries), "built"
        self.log(
            f"  {artifact.kind:8} {artifact.name:10} {state:6} {human(stats.zipped_bytes):>10}"
            f"  {time.monotonic() - started:5.2f}s"
        )
        return Built(artifact.name, artifact.kind, relative, digest, **asdict(stats))

    def _build_dependency_layer(self, artifact: Artifact, target: Path, digest: str) -> ZipStats:
        work = self.out / ".work" / f"{artifact.name}-{digest[:16]}"
        shutil.rmtree(work, ignore_errors=True)
        try:
            install(artifact.source / LOCK_FILE, self.target, work)
            return write_zip(target, collect(work, LAYER_PREFIX))
        except MissingWheel as error:
            raise BuildError(f"layer '{artifact.name}': {error}") from None
        finally:
            shutil.rmtree(work, ignore_errors=True)

    def build(self, jobs: int | None = None) -> list[Built]:
        artifacts = plan(self.spec, self.root)
        self.log(f"building {len(artifacts)} artifacts for {self.target.describe()}")
        with ThreadPoolExecutor(max_workers=jobs) as pool:
            built = list(pool.map(self._build_one, artifacts))
        self._remove_stale(built)
        self._check_limits(built)
        return built

    def _remove_stale(self, built: list[Built]) -> None:
        keep = {self.out / b.path for b in built}
        for folder in KINDS.values():
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


def manifest_text(spec: Spec, built: list[Built]) -> str:
    target = Target.for_lambda(spec.runtime, spec.architecture)
    manifest = {
        "version": build_version(built),
        "format": ZIP_FORMAT,
        "zlib": ZLIB_VERSION,
        "target": {
            "runtime": spec.runtime,
            "architecture": spec.architecture,
            "platforms": list(target.platforms),
        },
        "artifacts": [asdict(b) for b in built],
    }
    return json.dumps(manifest, indent=2, sort_keys=True) + "\n"


def write_manifest(path: Path, spec: Spec, built: list[Built]) -> bool:
    return write_if_changed(path, manifest_text(spec, built))
