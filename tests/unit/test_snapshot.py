"""Golden snapshot of the rendered template. After an intended change, refresh it with
`make snapshot` and review the diff like code."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from template_gen.spec import SPEC
from template_gen.template import render_yaml

ROOT = Path(__file__).resolve().parents[2]
SNAPSHOT = ROOT / "tests" / "snapshots" / "template.yaml"


def test_rendered_template_matches_the_snapshot() -> None:
    rendered = render_yaml(SPEC)
    if os.environ.get("UPDATE_SNAPSHOTS") == "1":
        SNAPSHOT.write_text(rendered)
    assert SNAPSHOT.read_text() == rendered, "template changed: run `make snapshot` and review"


def test_rendering_is_byte_identical_across_processes_and_hash_seeds() -> None:
    code = "from template_gen.spec import SPEC; from template_gen.template import render_yaml;"
    code += "import sys; sys.stdout.write(render_yaml(SPEC))"
    outputs = {
        subprocess.run(
            [sys.executable, "-c", code],
            cwd=ROOT,
            env={**os.environ, "PYTHONHASHSEED": seed, "TZ": tz},
            capture_output=True,
            text=True,
            check=True,
            timeout=600,
        ).stdout
        for seed, tz in (("0", "UTC"), ("1", "Asia/Kolkata"), ("4242", "America/Los_Angeles"))
    }
    assert outputs == {render_yaml(SPEC)}
