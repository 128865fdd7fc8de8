"""What a cold start imports: Powertools' idempotency only on the first keyed create."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
IDEMPOTENCY = "aws_lambda_powertools.utilities.idempotency"


def imported_after(script: str) -> set[str]:
    """The modules a fresh interpreter holds after `script`, the shared layer on its path."""
    code = textwrap.dedent(script) + "\nimport sys\nprint('\\n'.join(sys.modules))\n"
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={"PYTHONPATH": str(ROOT / "layers" / "shared" / "python")},
        capture_output=True,
        text=True,
        check=True,
    )
    return set(result.stdout.split())


def test_an_unkeyed_create_never_imports_powertools_idempotency() -> None:
    modules = imported_after(
        """
        from types import SimpleNamespace
        from backend_kit.idempotency import IdempotentCreate

        create = IdempotentCreate(
            lambda caller, body: {"caller": caller, **body},
            key_prefix="test.create",
            table="unused",
            dynamodb=None,
        )
        app = SimpleNamespace(current_event=SimpleNamespace(headers={}))
        assert create(app, "alice", {"name": "Lamp"}) == {"caller": "alice", "name": "Lamp"}
        """
    )
    assert "backend_kit.idempotency" in modules  # the script ran
    assert not {name for name in modules if name.startswith(IDEMPOTENCY)}
