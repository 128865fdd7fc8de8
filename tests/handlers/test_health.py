"""GET /health: no auth, no dependencies, and the build's version."""

from __future__ import annotations

import json

import pytest

from tests.handlers.conftest import LambdaContext
from tests.handlers.stack import load_function
from tests.http_events import http_event


def test_health_reports_ok_and_the_build_version(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BUILD_VERSION", "0123456789abcdef")
    health = load_function("health", container=7)
    reply = health.handler(http_event("GET", "/health", caller=None), LambdaContext())
    assert reply["statusCode"] == 200
    assert json.loads(reply["body"]) == {"status": "ok", "version": "0123456789abcdef"}
