"""Each function's resolver serves exactly the routes the spec gives it, so the template,
the API and the code cannot drift apart."""

from __future__ import annotations

import re
from types import ModuleType

from template_gen.spec import SPEC


def resolver_routes(module: ModuleType) -> set[str]:
    app = module.app
    routes = set()
    for route in [*app._static_routes, *app._dynamic_routes]:
        methods = route.method if isinstance(route.method, (list, tuple)) else [route.method]
        path = re.sub(r"<\w+>", "{id}", route.path)
        routes.update(f"{method.upper()} {path}" for method in methods)
    return routes


def test_resolvers_serve_exactly_the_spec_routes(stack: dict[str, ModuleType]) -> None:
    for function in SPEC.functions:
        if function.name == "health":
            continue  # a plain handler: one route, no resolver
        assert resolver_routes(stack[function.name]) == {r.key for r in function.routes}
