"""`make local` stopped and started again: the emulator's state comes back (users, items,
uploads, the signing key of the user pool), the deploy is skipped when the build is the one
deployed, runs when anything changed, and FRESH=1 starts from nothing."""

from __future__ import annotations

import json
import urllib.request
from pathlib import Path

import pytest

from offline.stack.driver import ServeProcess
from template_gen.spec import SPEC
from tests.e2e.conftest import ORIGINS, multipart, serving
from tests.e2e.test_local_stack import claims, register

pytestmark = pytest.mark.e2e

REGION = "us-east-1"
DEPLOY_LINE = "sam deploy --config-env"  # offline/stack/deploy.py's step
OTHER_ORIGIN = "https://other.example.com"
STACK = f"{SPEC.project}-dev"


def upload(stack: ServeProcess, token: str, item_id: str, content: bytes) -> str:
    """Through the presigned POST, as a page uploads; the object's key."""
    grant = stack.request(
        "POST",
        f"/items/{item_id}/attachments",
        token=token,
        body={"filename": "frame.png", "content_type": "image/png", "size": len(content)},
    )
    assert grant.status == 201, grant.body
    body, content_type = multipart(grant.json["fields"], "frame.png", content)
    request = urllib.request.Request(
        grant.json["url"], data=body, method="POST", headers={"content-type": content_type}
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status in (200, 201, 204)
    return str(grant.json["key"])


def uploaded(stack: ServeProcess, key: str) -> bytes:
    bucket = json.loads(stack.state.read_text())["physical_ids"]["AssetsBucket"]
    answer = stack.client("s3").get_object(Bucket=bucket, Key=key)
    return bytes(answer["Body"].read())


def test_a_restart_finds_its_data_and_deploys_only_what_changed(
    built: None, tmp_path: Path
) -> None:
    content = b"\x89PNG\r\n\x1a\n" + b"1" * 64
    # FRESH=1 over a state left behind: it is removed, not loaded nor set aside.
    left = tmp_path / f"local-{REGION}"
    left.mkdir()
    (left / "emulator.snapshot").write_text("left behind\n")
    record = left / "deployed" / REGION / f"{STACK}.json"
    record.parent.mkdir(parents=True)
    record.write_text("{}\n")
    with serving(tmp_path, REGION, fresh=True) as first:
        token = first.token("alice")
        profile = register(first, token)
        item = first.request("POST", "/items", token=token, body={"name": "Lamp"}).json
        key = upload(first, token, item["id"], content)
    log = first.log_text()
    assert "FRESH=1" in log and DEPLOY_LINE in log and "set aside" not in log
    assert not (left / "emulator.snapshot.discarded").exists()
    assert json.loads(record.read_text())["stack"] == STACK  # this deploy's record

    with serving(tmp_path, REGION) as warm:
        log = warm.log_text()
        assert "restored the emulator's state" in log and "warm start" in log
        assert DEPLOY_LINE not in log, "the unchanged build was deployed again"
        # The token of the run before still verifies: the pool's signing key came back too.
        assert warm.request("GET", f"/items/{item['id']}", token=token).json == item
        assert warm.request("GET", f"/users/{claims(token)['sub']}", token=token).json == profile
        assert uploaded(warm, key) == content
        assert claims(warm.token("alice"))["sub"] == claims(token)["sub"]

    with serving(tmp_path, REGION, origins=f"{ORIGINS},{OTHER_ORIGIN}") as changed:
        log = changed.log_text()
        assert "deploying: the allowed origins changed" in log and DEPLOY_LINE in log
        preflight = changed.request(
            "OPTIONS", "/items",
            headers={"origin": OTHER_ORIGIN, "access-control-request-method": "POST"},
        )  # fmt: skip
        assert preflight.headers.get("access-control-allow-origin") == OTHER_ORIGIN
        assert changed.request("GET", f"/items/{item['id']}", token=token).json == item
