"""events/ holds a v2 event per route and main error case; each gives its expected status."""

from __future__ import annotations

import json

from template_gen.spec import SPEC
from tests.handlers.conftest import Invoke
from tests.http_events import CASES, EVENTS, EXPECTED_STATUS, render


def test_event_files_match_the_cases() -> None:
    on_disk = {p.relative_to(EVENTS).as_posix(): p.read_text() for p in EVENTS.rglob("*.json")}
    expected = {
        f"{fn}/{case}.json": render(e) for fn, cases in CASES.items() for case, e in cases.items()
    }
    assert on_disk == expected, "run `python -m tests.http_events` to refresh events/"


def test_every_route_has_an_event() -> None:
    routes = {route.key: f.name for f in SPEC.functions for route in f.routes}
    covered = {e["routeKey"]: fn for fn, cases in CASES.items() for e in cases.values()}
    assert set(covered) == set(routes)
    for key, function in covered.items():
        assert routes[key] == function, key


def test_each_event_gets_its_expected_status(invoke: Invoke) -> None:
    for function, cases in CASES.items():
        for case in cases:
            event = json.loads((EVENTS / function / f"{case}.json").read_text())
            reply = invoke(function, event)
            assert reply.status == EXPECTED_STATUS[(function, case)], (function, case, reply.text)
