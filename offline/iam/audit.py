"""The audit log of the emulator's authorization: one JSON line per decision about a caller,
which build/iam-report.md is made from (offline/iam/report.py)."""

from __future__ import annotations

import json
import os
import threading
import uuid
from pathlib import Path
from typing import Any

from aws_semantics.policy import Decision
from offline.iam.callers import Caller
from offline.iam.calls import Check

AUDIT_DIRECTORY = "OFFLINE_AUDIT_DIR"
EXPECTED_DENIALS = "OFFLINE_AUDIT_EXPECTED_DENIALS"


class Audit:
    def __init__(self, directory: Path | None, expect_denials: bool = False) -> None:
        # Set by tests that provoke refusals on purpose; the report does not count those.
        self.expect_denials = expect_denials
        self._lock = threading.Lock()
        self._file = None
        if directory is not None:
            directory.mkdir(parents=True, exist_ok=True)
            self._file = (directory / f"audit-{os.getpid()}-{uuid.uuid4().hex[:8]}.jsonl").open(
                "a", encoding="utf-8"
            )

    def record(self, **entry: Any) -> None:
        if self._file is None:
            return
        with self._lock:
            line = {**entry, "expected_denials": self.expect_denials}
            self._file.write(json.dumps(line, sort_keys=True) + "\n")
            self._file.flush()

    def decision(self, caller: Caller, check: Check, decision: Decision) -> None:
        self.record(
            role=caller.role,
            caller=caller.arn,
            action=check.action,
            resource=check.resource,
            on_behalf_of=check.on_behalf_of,
            allowed=decision.allowed,
            reason=decision.reason,
            policy=decision.by.policy if decision.by else None,
            sid=decision.by.sid if decision.by else None,
        )

    @classmethod
    def from_environment(cls) -> Audit:
        directory = os.environ.get(AUDIT_DIRECTORY)
        expected = os.environ.get(EXPECTED_DENIALS) == "1"
        return cls(Path(directory) if directory else None, expected)
