"""`make local WATCH=1` (offline/stack/watch.py): a saved handler change answers without a
restart, pushed the way `sam sync --code` pushes it (new code, a published version, `live`
moved); a change that does not build is one line in the log, and the old code keeps serving."""

from __future__ import annotations

import re
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from offline.stack.driver import ServeProcess
from tests.e2e.conftest import serving
from tests.integration.conftest import ROOT
from tools.project_copy import project_copy

pytestmark = pytest.mark.e2e

HANDLER = Path("functions") / "health" / "app.py"
SERVING = '"status": "ok"'
DEADLINE_S = 60


@pytest.fixture(scope="module")
def watched(built: None, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServeProcess]:
    """The local stack of a copy of the project (its files are edited here), watching."""
    work = tmp_path_factory.mktemp("watch")
    copy = project_copy(work / "backend-kit")
    shutil.copytree(ROOT / "build", copy / "build", symlinks=True)
    with serving(work, "us-east-1", root=copy, watch=True) as stack:
        yield stack


def status(stack: ServeProcess) -> str:
    reply = stack.request("GET", "/health")
    assert reply.status == 200, reply.body
    return str(reply.json["status"])


def edit(stack: ServeProcess, old: str, new: str) -> None:
    handler = stack.root / HANDLER
    source = handler.read_text()
    assert old in source
    handler.write_text(source.replace(old, new))


def wait_for(condition: str, check: object, stack: ServeProcess) -> None:
    deadline = time.monotonic() + DEADLINE_S
    while time.monotonic() < deadline:
        if callable(check) and check():
            return
        time.sleep(0.1)
    pytest.fail(f"{condition} not within {DEADLINE_S} s:\n{stack.log_tail()}")


def test_a_saved_handler_change_answers_without_a_restart(watched: ServeProcess) -> None:
    assert status(watched) == "ok"
    edit(watched, SERVING, '"status": "edited"')
    wait_for("the edited handler answering", lambda: status(watched) == "edited", watched)
    pushed = re.findall(r"watch: health \(version (\d+)\) live", watched.log_text())
    assert pushed, watched.log_tail()
    lambda_ = watched.client("lambda")
    name = next(
        f["FunctionName"]
        for f in lambda_.list_functions()["Functions"]
        if f["FunctionName"].endswith("-health")
    )
    alias = lambda_.get_alias(FunctionName=name, Name="live")
    assert alias["FunctionVersion"] == pushed[-1]  # live moved to the pushed version


def test_a_change_that_does_not_build_is_one_line_and_the_old_code_serves(
    watched: ServeProcess,
) -> None:
    before = status(watched)
    edit(watched, f'"status": "{before}"', f'"status": "{before}" ,,')
    line = "watch: build failed: function 'health': app.py is not valid Python 3.14"
    wait_for("the failed build reported", lambda: line in watched.log_text(), watched)
    assert status(watched) == before
    assert "Traceback" not in watched.log_text()
    edit(watched, f'"status": "{before}" ,,', '"status": "fixed"')
    wait_for("the fixed handler answering", lambda: status(watched) == "fixed", watched)


def test_a_layer_change_reaches_every_function_that_loads_it(watched: ServeProcess) -> None:
    shared = watched.root / "layers" / "shared" / "python" / "backend_kit" / "http.py"

    def pushes() -> list[str]:
        return re.findall(r"^watch: (.*users \(version.*) live in", watched.log_text(), re.M)

    before = len(pushes())
    shared.write_text(shared.read_text() + "# edited while make local watches\n")
    wait_for("the layer pushed", lambda: len(pushes()) > before, watched)
    assert "items (version" in pushes()[-1], pushes()[-1]  # every function loading it
    lambda_ = watched.client("lambda")
    users = next(
        f for f in lambda_.list_functions()["Functions"] if f["FunctionName"].endswith("-users")
    )
    versions = [int(layer["Arn"].rsplit(":", 1)[1]) for layer in users.get("Layers", [])]
    assert max(versions) >= 2, users.get("Layers")  # a new version of the shared layer
    assert status(watched) in {"ok", "edited", "fixed"}
