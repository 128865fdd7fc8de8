"""Each function's handler serves exactly the routes the spec gives it, so the template, the
API and the code cannot drift apart. Checked by resolving requests through the handler, as
API Gateway sends them: a route the spec gives is routed, any other is the contract's
not_found for a route."""

from __future__ import annotations

from types import ModuleType

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver

from template_gen.model import Function, Route, Spec
from template_gen.spec import SPEC
from tests.handlers.conftest import Invoke
from tests.handlers.helpers import unrouted
from tests.http_events import route_event

METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")


def not_given(function: Function, spec: Spec = SPEC) -> list[Route]:
    """Requests the spec does not give `function`: its own paths with the other methods, and
    every other function's paths with every method."""
    given = {route.key for route in function.routes}
    paths = {route.path for other in spec.functions for route in other.routes}
    return [
        Route(method, path)
        for path in sorted(paths)
        for method in METHODS
        if f"{method} {path}" not in given
    ]


def test_every_route_of_the_spec_is_routed(invoke: Invoke) -> None:
    for function in SPEC.functions:
        for route in function.routes:
            reply = invoke(function.name, route_event(route))
            assert reply.status < 500, (function.name, route.key, reply.text)
            assert not unrouted(reply), (function.name, route.key)


def test_no_other_request_is_routed(invoke: Invoke, stack: dict[str, ModuleType]) -> None:
    checked = 0
    for function in SPEC.functions:
        # A plain handler (health: the standard library only) answers whatever it is sent;
        # only a function with the contract's resolver has routes to check.
        if not isinstance(getattr(stack[function.name], "app", None), APIGatewayHttpResolver):
            continue
        for route in not_given(function):
            reply = invoke(function.name, route_event(route))
            assert unrouted(reply), (function.name, route.key, reply.status, reply.text)
            checked += 1
    assert checked  # some function has a resolver: the loop checked something


def test_the_requests_not_given_leave_out_exactly_the_functions_routes() -> None:
    for function in SPEC.functions:
        keys = {route.key for route in not_given(function)}
        assert not keys & {route.key for route in function.routes}
        others = {route.key for f in SPEC.functions if f != function for route in f.routes}
        assert others <= keys
