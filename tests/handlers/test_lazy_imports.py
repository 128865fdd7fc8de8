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
        timeout=600,
    )
    return set(result.stdout.split())


def test_an_unkeyed_create_never_imports_powertools_idempotency() -> None:
    # The real items handler, in the test stack, so an import anywhere on its path counts.
    modules = imported_after(
        """
        from tests.handlers.conftest import LambdaContext
        from tests.handlers.stack import entry_point, running
        from tests.http_events import http_event

        event = http_event("POST", "/items", body={"name": "Lamp"})
        with running() as functions:
            reply = entry_point(functions["items"], "items")(event, LambdaContext())
        assert reply["statusCode"] == 201, reply
        """
    )
    assert "backend_kit.idempotency" in modules  # the script ran
    assert not {name for name in modules if name.startswith(IDEMPOTENCY)}
