"""build/manifest.json: what a build made, as one typed model that both writes the file and
reads it back, so the writer and its readers cannot drift apart."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Literal, TypeVar, get_args

from template_gen.outputs import write_if_changed

Kind = Literal["function", "layer"]
KINDS: tuple[Kind, ...] = get_args(Kind)
# What fixes any missing or malformed manifest.
FIX = "run `make build`"
T = TypeVar("T")


class ManifestError(Exception):
    """The manifest is missing or malformed; one line naming the file and the field."""


@dataclass(frozen=True)
class Built:
    """One built artifact: a function's or a layer's zip."""

    name: str
    kind: Kind
    path: str  # relative to the build folder, as the template there refers to it
    input_sha256: str
    zip_sha256: str
    zipped_bytes: int
    unzipped_bytes: int
    files: int


@dataclass(frozen=True)
class BuildTarget:
    """The Lambda runtime the artifacts were built for."""

    runtime: str
    architecture: str
    platforms: tuple[str, ...]  # the wheel platform tags the deps layer was installed for


@dataclass(frozen=True)
class Manifest:
    version: str  # the build version: one hash over every artifact's inputs
    format: str  # the zip format (artifacts/zipper.py)
    zlib: str  # zlib's version, the one thing outside the sources the zips depend on
    target: BuildTarget
    artifacts: tuple[Built, ...]

    def paths(self) -> dict[str, str]:
        """Each artifact's name -> its zip, relative to the build folder."""
        return {artifact.name: artifact.path for artifact in self.artifacts}

    def of_kind(self, kind: Kind) -> tuple[Built, ...]:
        return tuple(artifact for artifact in self.artifacts if artifact.kind == kind)


def dumps(manifest: Manifest) -> str:
    """The file's text: sorted keys, two-space indents, one final newline."""
    return json.dumps(asdict(manifest), indent=2, sort_keys=True) + "\n"


def write(path: Path, manifest: Manifest) -> bool:
    """Write only when the text differs (a no-op build touches nothing); True if written."""
    return write_if_changed(path, dumps(manifest))


def load(path: Path) -> Manifest:
    """The manifest at `path`; ManifestError names the file and the field that is wrong."""
    try:
        text = path.read_text()
    except FileNotFoundError:
        raise ManifestError(f"{path} does not exist: {FIX}") from None
    except (OSError, UnicodeDecodeError) as error:
        raise ManifestError(f"{path} cannot be read ({error}): {FIX}") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise ManifestError(f"{path} is not valid JSON ({error}): {FIX}") from None
    return _manifest(_Object(data, path, ""))


def _manifest(item: _Object) -> Manifest:
    target = item.object("target")
    return item.done(
        Manifest(
            version=item.text("version"),
            format=item.text("format"),
            zlib=item.text("zlib"),
            target=target.done(
                BuildTarget(
                    runtime=target.text("runtime"),
                    architecture=target.text("architecture"),
                    platforms=target.texts("platforms"),
                )
            ),
            artifacts=tuple(_built(artifact) for artifact in item.objects("artifacts")),
        )
    )


def _built(item: _Object) -> Built:
    return item.done(
        Built(
            name=item.text("name"),
            kind=item.kind("kind"),
            path=item.text("path"),
            input_sha256=item.text("input_sha256"),
            zip_sha256=item.text("zip_sha256"),
            zipped_bytes=item.count("zipped_bytes"),
            unzipped_bytes=item.count("unzipped_bytes"),
            files=item.count("files"),
        )
    )


class _Object:
    """One JSON object of the manifest, read field by field; `where` names it in errors."""

    def __init__(self, data: object, path: Path, where: str) -> None:
        self.path = path
        self.where = where
        if not isinstance(data, dict):
            if not where:
                raise ManifestError(f"{path} holds {_kind_of(data)}, not an object: {FIX}")
            raise self._error(where, f"is {_kind_of(data)}, not an object")
        self.data: dict[str, object] = data
        self.read: set[str] = set()

    def _error(self, field: str, problem: str) -> ManifestError:
        return ManifestError(f"{self.path}: field '{field}' {problem}: {FIX}")

    def _field(self, name: str) -> str:
        return f"{self.where}.{name}" if self.where else name

    def _get(self, name: str) -> object:
        if name not in self.data:
            raise self._error(self._field(name), "is missing")
        self.read.add(name)
        return self.data[name]

    def text(self, name: str) -> str:
        value = self._get(name)
        if not isinstance(value, str):
            raise self._error(self._field(name), f"is {_kind_of(value)}, not a string")
        return value

    def count(self, name: str) -> int:
        value = self._get(name)
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise self._error(self._field(name), f"is {_kind_of(value)}, not a count")
        return value

    def kind(self, name: str) -> Kind:
        value = self.text(name)
        if value not in KINDS:
            expected = " or ".join(repr(kind) for kind in KINDS)
            raise self._error(self._field(name), f"is {value!r}, not {expected}")
        return value

    def _list(self, name: str) -> list[object]:
        value = self._get(name)
        if not isinstance(value, list):
            raise self._error(self._field(name), f"is {_kind_of(value)}, not a list")
        return value

    def texts(self, name: str) -> tuple[str, ...]:
        texts = []
        for index, value in enumerate(self._list(name)):
            if not isinstance(value, str):
                where = f"{self._field(name)}[{index}]"
                raise self._error(where, f"is {_kind_of(value)}, not a string")
            texts.append(value)
        return tuple(texts)

    def object(self, name: str) -> _Object:
        return _Object(self._get(name), self.path, self._field(name))

    def objects(self, name: str) -> list[_Object]:
        field = self._field(name)
        return [_Object(v, self.path, f"{field}[{i}]") for i, v in enumerate(self._list(name))]

    def done(self, value: T) -> T:
        """`value`, once every field of this object was read: an unknown one is an error."""
        unknown = sorted(set(self.data) - self.read)
        if unknown:
            raise self._error(self._field(unknown[0]), "is not a manifest field")
        return value


def _kind_of(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return f"the number {value}"
    if isinstance(value, str):
        return "a string"
    return "a list" if isinstance(value, list) else "an object"
