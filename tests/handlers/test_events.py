"""events/ holds a v2 event per route and main error case: the written ones give their
expected status, and the one made for a route no case was written for is at least routed."""

from __future__ import annotations

import json

from template_gen.spec import SPEC
from tests.handlers.conftest import Invoke
from tests.handlers.helpers import unrouted
from tests.http_events import CASES, EVENTS, EXPECTED_STATUS, WRITTEN, render


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


def test_every_written_case_has_its_expected_status() -> None:
    written = {(function, case) for function, cases in WRITTEN.items() for case in cases}
    assert set(EXPECTED_STATUS) == written


def test_each_event_gets_its_expected_status(invoke: Invoke) -> None:
    for function, cases in CASES.items():
        for case in cases:
            event = json.loads((EVENTS / function / f"{case}.json").read_text())
            reply = invoke(function, event)
            expected = EXPECTED_STATUS.get((function, case))
            if expected is None:  # made for a route: whatever it answers, it is routed
                assert reply.status < 500 and not unrouted(reply), (function, case, reply.text)
            else:
                assert reply.status == expected, (function, case, reply.text)
