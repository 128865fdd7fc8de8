"""build/manifest.json: one typed model writes it and reads it back; a missing or malformed
file fails in one line that names the file and the field."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from artifacts import manifest
from artifacts.manifest import BuildTarget, Built, Manifest, ManifestError

SAMPLE = Manifest(
    version="0123456789abcdef",
    format="v1:deflate-9:unix-modes",
    zlib="1.3",
    target=BuildTarget("python3.14", "arm64", ("manylinux2014_aarch64", "manylinux_2_28_aarch64")),
    artifacts=(
        Built("users", "function", "functions/users-aaaa.zip", "a" * 64, "b" * 64, 10, 20, 2),
        Built("shared", "layer", "layers/shared-cccc.zip", "c" * 64, "d" * 64, 30, 40, 3),
    ),
)


def test_what_is_written_reads_back_equal_and_rewrites_nothing(tmp_path: Path) -> None:
    path = tmp_path / "build" / "manifest.json"
    assert manifest.write(path, SAMPLE) is True
    assert manifest.load(path) == SAMPLE
    stamp = path.stat().st_mtime_ns
    assert manifest.write(path, manifest.load(path)) is False
    assert path.stat().st_mtime_ns == stamp


def test_the_file_keeps_its_layout_and_field_names() -> None:
    """The names readers outside Python (and older checkouts) rely on; sorted keys, two-space
    indents and a final newline keep the bytes reproducible."""
    first, second = SAMPLE.artifacts
    expected = {
        "version": SAMPLE.version,
        "format": SAMPLE.format,
        "zlib": SAMPLE.zlib,
        "target": {
            "runtime": SAMPLE.target.runtime,
            "architecture": SAMPLE.target.architecture,
            "platforms": list(SAMPLE.target.platforms),
        },
        "artifacts": [
            {
                "name": built.name,
                "kind": built.kind,
                "path": built.path,
                "input_sha256": built.input_sha256,
                "zip_sha256": built.zip_sha256,
                "zipped_bytes": built.zipped_bytes,
                "unzipped_bytes": built.unzipped_bytes,
                "files": built.files,
            }
            for built in (first, second)
        ],
    }
    assert manifest.dumps(SAMPLE) == json.dumps(expected, indent=2, sort_keys=True) + "\n"


def test_paths_and_kinds() -> None:
    users, shared = SAMPLE.artifacts
    assert SAMPLE.paths() == {"users": users.path, "shared": shared.path}
    assert [b.name for b in SAMPLE.of_kind("layer")] == ["shared"]


def sample_data() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(manifest.dumps(SAMPLE))
    return data


def without(key: str) -> Callable[[dict[str, Any]], None]:
    return lambda data: data["artifacts"][1].pop(key)


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        (lambda data: data.pop("version"), "field 'version' is missing"),
        (without("zip_sha256"), "field 'artifacts[1].zip_sha256' is missing"),
        (
            lambda data: data["artifacts"][0].update(zipped_bytes="10"),
            "field 'artifacts[0].zipped_bytes' is a string, not a count",
        ),
        (
            lambda data: data["artifacts"][0].update(files=True),
            "field 'artifacts[0].files' is a boolean, not a count",
        ),
        (
            lambda data: data["artifacts"][0].update(kind="lambda"),
            "field 'artifacts[0].kind' is 'lambda', not 'function' or 'layer'",
        ),
        (
            lambda data: data["target"]["platforms"].append(3),
            "field 'target.platforms[2]' is the number 3, not a string",
        ),
        (lambda data: data.update(artifacts={}), "field 'artifacts' is an object, not a list"),
        (lambda data: data.update(target=None), "field 'target' is null, not an object"),
        (
            lambda data: data["artifacts"][1].update(sha1="x"),
            "field 'artifacts[1].sha1' is not a manifest field",
        ),
    ],
)
def test_a_malformed_manifest_names_the_file_and_the_field(
    tmp_path: Path, change: Callable[[dict[str, Any]], object], problem: str
) -> None:
    data = sample_data()
    change(data)
    path = tmp_path / "manifest.json"
    path.write_text(json.dumps(data))
    with pytest.raises(ManifestError) as error:
        manifest.load(path)
    assert str(error.value) == f"{path}: {problem}: run `make build`"


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        (None, "does not exist"),
        ("{", "is not valid JSON (Expecting property name enclosed in double quotes: line 1"),
        ("[]", " holds a list, not an object"),
    ],
)
def test_a_missing_or_unparsable_file_fails_in_one_line(
    tmp_path: Path, text: str | None, problem: str
) -> None:
    path = tmp_path / "manifest.json"
    if text is not None:
        path.write_text(text)
    with pytest.raises(ManifestError) as error:
        manifest.load(path)
    message = str(error.value)
    assert message.startswith(f"{path}") and problem in message
    assert "\n" not in message and message.endswith("run `make build`")
