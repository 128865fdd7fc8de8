"""Every route of the spec is rendered for its own function, the contract describes only
the spec's routes, and only the routes the spec marks open skip the authorizer."""

from __future__ import annotations

import re
from typing import Any

from template_gen.naming import function_id
from template_gen.openapi import CONTRACT
from template_gen.spec import SPEC
from tests.conftest import of_type

# Route key -> the logical id of the function the spec gives it.
ROUTES = {route.key: function_id(f.name) for f in SPEC.functions for route in f.routes}
OPEN = {route.key for f in SPEC.functions for route in f.routes if not route.authorized}
# A route without a token is a security decision: opening one is a reviewed edit here.
INTENDED_OPEN = {"GET /health"}


def rendered_routes(resources: dict[str, Any]) -> dict[str, tuple[str, dict[str, Any]]]:
    routes = {}
    for logical, function in of_type(resources, "AWS::Serverless::Function").items():
        for event in function["Properties"]["Events"].values():
            assert event["Type"] == "HttpApi"
            p = event["Properties"]
            # Plain strings: a route table keyed by an unresolved value cannot match requests.
            assert isinstance(p["Method"], str) and isinstance(p["Path"], str)
            key = f"{p['Method']} {p['Path']}"
            assert key not in routes, f"{key} declared twice"
            routes[key] = (logical, p)
    return routes


def test_the_template_serves_exactly_the_spec_routes(resources: dict[str, Any]) -> None:
    routes = rendered_routes(resources)
    assert {key: logical for key, (logical, _) in routes.items()} == ROUTES


def test_the_contract_describes_only_routes_the_spec_has() -> None:
    """The contract (template_gen.openapi, which docs/api.md states in words) is a deliberate,
    hand-written copy: a row for a route the spec dropped is stale. A route without a row
    (a function just added) is listed as undescribed (test_openapi.py)."""
    assert set(CONTRACT) <= set(ROUTES)


def test_only_the_open_routes_skip_the_authorizer(resources: dict[str, Any]) -> None:
    assert OPEN == INTENDED_OPEN
    for key, (_, properties) in rendered_routes(resources).items():
        assert properties["ApiId"] == {"Ref": "HttpApi"}
        assert properties["PayloadFormatVersion"] == "2.0"
        if key in OPEN:
            assert properties["Auth"] == {"Authorizer": "NONE"}
        else:
            assert "Auth" not in properties  # the API's DefaultAuthorizer applies


def test_expanded_integrations_point_at_the_declared_functions(expanded: dict[str, Any]) -> None:
    body = expanded["Resources"]["HttpApi"]["Properties"]["Body"]
    seen = {}
    for path, operations in body["paths"].items():
        for method, operation in operations.items():
            if method == "x-amazon-apigateway-any-method":
                continue
            uri = operation["x-amazon-apigateway-integration"]["uri"]["Fn::Sub"]
            # Routes call the `live` alias, so CodeDeploy can shift their traffic.
            (alias,) = re.findall(r"\$\{(\w+)\}/invocations", uri)
            target = expanded["Resources"][alias]
            assert target["Type"] == "AWS::Lambda::Alias" and target["Properties"]["Name"] == "live"
            seen[f"{method.upper()} {path}"] = target["Properties"]["FunctionName"]["Ref"]
            security = operation.get("security")
            if f"{method.upper()} {path}" in OPEN:
                assert security == [{"NONE": []}]  # SAM's marker for an open route
            else:
                assert security == [{"CognitoJwt": []}], (method, path)
    assert seen == ROUTES


def test_invoke_permissions_are_scoped_to_this_api(expanded: dict[str, Any]) -> None:
    permissions = of_type(expanded["Resources"], "AWS::Lambda::Permission")
    assert len(permissions) == len(ROUTES)
    for permission in permissions.values():
        p = permission["Properties"]
        assert p["Principal"] == "apigateway.amazonaws.com"
        pattern, variables = p["SourceArn"]["Fn::Sub"]
        assert pattern.startswith("arn:${AWS::Partition}:execute-api:${AWS::Region}:")
        assert variables["__ApiId__"] == {"Ref": "HttpApi"}
