"""The emulator's saved state (offline/stack/emulator_state.py): moto's backends saved by one
process and loaded by the next, as a restarted `make local` does; and a snapshot made by
anything else set aside with a message."""

from __future__ import annotations

import io
import json
import pickle
import subprocess
import sys
import threading
import weakref
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

from offline.stack import emulator_state
from offline.stack.emulator_state import _Pickler

ROOT = Path(__file__).resolve().parents[2]
CHILD = "tests.unit.emulator_state_child"


class Held:
    """Something a weak-value index points at (moto's functions, in Lambda's index by ARN)."""


HELD = Held()


def child(command: str, path: Path, stdin: str = "") -> dict[str, Any]:
    run = [sys.executable, "-m", CHILD, command, str(path)]
    result = subprocess.run(run, cwd=ROOT, input=stdin, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, f"{' '.join(run)} failed:\n{result.stderr}"
    return dict(json.loads(result.stdout.strip().splitlines()[-1]))


def dumps(value: Any) -> bytes:
    buffer = io.BytesIO()
    _Pickler(buffer, protocol=pickle.HIGHEST_PROTOCOL).dump(value)
    return buffer.getvalue()


def test_a_new_process_answers_from_the_state_the_last_one_saved(tmp_path: Path) -> None:
    path = tmp_path / "emulator.snapshot"
    made = child("make", path)
    found = child("check", path, json.dumps(made))
    assert found["loaded"] == made["services"] > 0 and found["discarded"] is None
    # KMS: the same key material, both the symmetric key and the RSA key pair.
    assert found["decrypted"] == "kept across a restart"
    assert found["public_key"] == made["public_key"] and found["verified"] is True
    # Cognito signs in the same user; SSM keeps the value, its tags, and tags new parameters.
    assert found["signed_in"] is True
    assert found["parameter"] == "s3cret" and found["tags"] == [{"Key": "team", "Value": "a"}]
    assert found["new_tags"] == [{"Key": "k", "Value": "v"}]
    # Lambda's alias and its lookup by ARN (a weak-value index), DynamoDB's item, S3's object.
    assert found["alias"] == "1" and found["function_by_arn"] == "fn"
    assert found["item"] == {"id": {"S": "1"}, "name": {"S": "Lamp"}}
    assert found["object"] == "PNG"


@pytest.mark.parametrize(
    "value",
    [
        rsa.generate_private_key(public_exponent=65537, key_size=2048),
        ec.generate_private_key(ec.SECP256R1()),
        threading.Lock(),
        defaultdict(lambda: defaultdict(dict)),
        weakref.WeakValueDictionary({"a": HELD}),
    ],
    ids=["rsa key", "ec key", "lock", "defaultdict of a lambda", "weak-value index"],
)
def test_what_plain_pickle_refuses_is_pickled_by_the_reducers(value: Any) -> None:
    with pytest.raises((TypeError, pickle.PicklingError, AttributeError)):
        pickle.dumps(value)
    assert type(pickle.loads(dumps(value))).__name__ == type(value).__name__


def test_a_restored_key_signs_as_the_saved_one() -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    restored = pickle.loads(dumps(key))
    signature = restored.sign(b"m", padding.PKCS1v15(), hashes.SHA256())
    key.public_key().verify(signature, b"m", padding.PKCS1v15(), hashes.SHA256())  # raises if not


def test_a_restored_defaultdict_makes_the_same_defaults_and_keeps_its_subclass() -> None:
    from moto.ssm.models import ParameterDict

    tags: defaultdict[str, Any] = defaultdict(lambda: defaultdict(dict))
    tags["Parameter"]["/a"]["team"] = "x"
    restored = pickle.loads(dumps(tags))
    assert restored == tags and restored["Document"]["d"] == {}
    parameters: Any = ParameterDict("123456789012", "us-east-1")
    parameters["/a"].append("v1")
    back = pickle.loads(dumps(parameters))
    assert type(back) is ParameterDict and back["/a"] == ["v1"] and back["/b"] == []
    assert back.region_name == "us-east-1"


def test_a_weak_value_index_keeps_its_entries_while_they_are_held() -> None:
    held = Held()
    index: weakref.WeakValueDictionary[str, Held] = weakref.WeakValueDictionary({"a": held})
    both = pickle.loads(dumps((held, index)))
    assert both[1]["a"] is both[0]


def test_the_stack_resources_of_the_emulators_cloudformation_pickle_by_name() -> None:
    from offline.cloudformation.stack_resources import MODELS

    for model in MODELS.values():
        assert pickle.loads(pickle.dumps(model)) is model


def saved(path: Path, header: dict[str, Any], body: bytes = b"") -> Path:
    path.write_bytes(json.dumps(header).encode() + b"\n" + body)
    return path


@pytest.mark.parametrize("key", ["format", "python", "moto", "requirements", "emulator"])
def test_a_snapshot_made_by_anything_else_is_set_aside_with_a_message(
    tmp_path: Path, key: str
) -> None:
    header = {**emulator_state.made_by(), key: "other"}
    path = saved(tmp_path / "emulator.snapshot", header, pickle.dumps({}))
    lines: list[str] = []
    loaded = emulator_state.restore_or_start_empty(path, lines.append)
    assert loaded.services == 0 and loaded.discarded is not None
    assert f"{key} other" in loaded.discarded and "starting empty" in lines[0]
    assert not path.exists() and path.with_name("emulator.snapshot.discarded").is_file()


def test_the_same_header_loads(tmp_path: Path) -> None:
    path = saved(tmp_path / "emulator.snapshot", emulator_state.made_by(), pickle.dumps({}))
    assert emulator_state.load(path).discarded is None and path.is_file()


def test_an_edit_to_the_emulators_code_changes_what_a_snapshot_needs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rule = tmp_path / "offline" / "s3" / "cors.py"
    rule.parent.mkdir(parents=True)
    rule.write_text("RULES = 1\n")
    monkeypatch.setattr(emulator_state, "ROOT", tmp_path)
    before = emulator_state.emulator_code()
    rule.write_text("RULES = 2\n")
    assert emulator_state.emulator_code() != before


def test_a_damaged_snapshot_is_set_aside(tmp_path: Path) -> None:
    path = saved(tmp_path / "emulator.snapshot", emulator_state.made_by(), b"\x80\x05trunc")
    loaded = emulator_state.load(path)
    assert loaded.discarded is not None and "does not load" in loaded.discarded
    assert not path.exists()


def test_a_file_that_is_no_snapshot_is_set_aside(tmp_path: Path) -> None:
    path = tmp_path / "emulator.snapshot"
    path.write_text("hello\n")
    assert emulator_state.load(path).discarded == "it is not an emulator snapshot"


def test_no_snapshot_is_an_empty_start_said_by_nothing(tmp_path: Path) -> None:
    lines: list[str] = []
    loaded = emulator_state.restore_or_start_empty(tmp_path / "none", lines.append)
    assert (loaded.services, loaded.discarded, lines) == (0, None, [])
