"""build/openapi.json: a valid OpenAPI 3.1 document with exactly the template's routes, whose
request bodies are the handlers' own field rules."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from openapi_spec_validator import validate
from openapi_spec_validator.validation.exceptions import OpenAPIValidationError

from template_gen.model import Function, Route
from template_gen.openapi import CONTRACT, UNDESCRIBED, document
from template_gen.render import load_bodies, load_parameters
from template_gen.spec import SPEC
from tests.conftest import of_type

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def openapi() -> dict[str, Any]:
    return document(SPEC, load_bodies(SPEC, ROOT), load_parameters(ROOT))


def operations(doc: dict[str, Any]) -> set[str]:
    return {f"{method.upper()} {path}" for path, item in doc["paths"].items() for method in item}


def test_it_is_a_valid_openapi_31_document(openapi: dict[str, Any]) -> None:
    validate(openapi)
    broken = {**openapi, "paths": {"/x": {"get": {"responses": {"200": {}}}}}}
    with pytest.raises(OpenAPIValidationError):  # the validator does refuse a bad one
        validate(broken)


def test_its_operations_are_the_templates_routes_both_ways(
    openapi: dict[str, Any], resources: dict[str, Any]
) -> None:
    rendered = {
        f"{event['Properties']['Method']} {event['Properties']['Path']}"
        for function in of_type(resources, "AWS::Serverless::Function").values()
        for event in function["Properties"]["Events"].values()
        if event["Type"] == "HttpApi"
    }
    assert operations(openapi) == rendered
    assert set(CONTRACT) <= rendered  # the contract describes no route the template lacks


def test_every_route_taking_a_body_describes_it(openapi: dict[str, Any]) -> None:
    for path, item in openapi["paths"].items():
        for method, operation in item.items():
            if method in ("post", "patch") and path != "/health":
                schema = operation["requestBody"]["content"]["application/json"]["schema"]
                assert schema["type"] == "object" and schema["additionalProperties"] is False
    item = openapi["paths"]["/items"]["post"]["requestBody"]["content"]["application/json"]
    assert item["schema"]["required"] == ["name"]
    change = openapi["paths"]["/items/{id}"]["patch"]["requestBody"]["content"]["application/json"]
    assert change["schema"]["minProperties"] == 1 and "required" not in change["schema"]


def test_authorization_and_api_gateways_own_errors(openapi: dict[str, Any]) -> None:
    scheme = openapi["components"]["securitySchemes"]["CognitoJwt"]
    assert (scheme["type"], scheme["scheme"], scheme["bearerFormat"]) == ("http", "bearer", "JWT")
    health = openapi["paths"]["/health"]["get"]
    assert health["security"] == [] and "401" not in health["responses"]
    listing = openapi["paths"]["/items"]["get"]["responses"]
    assert listing["401"]["headers"]["WWW-Authenticate"]["required"] is True
    assert listing["401"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/GatewayError"
    }
    assert listing["503"]["headers"]["Retry-After"]["required"] is True


def test_the_item_lifecycle_is_linked_for_stateful_clients(openapi: dict[str, Any]) -> None:
    links = openapi["paths"]["/items"]["post"]["responses"]["201"]["links"]
    ids = {op["operationId"] for item in openapi["paths"].values() for op in item.values()}
    assert {link["operationId"] for link in links.values()} <= ids
    assert links["ChangeItem"]["parameters"]["header.If-Match"] == "$response.header.ETag"


def test_a_route_outside_the_contract_is_listed_as_not_described_yet() -> None:
    """A function just added to the spec has no contract row: the document still lists its
    routes, with what every route may answer, and says the rest is not described."""
    added = Function(name="added", source="functions/added", routes=(Route("GET", "/added"),))
    spec = replace(SPEC, functions=(*SPEC.functions, added))
    doc = document(spec, load_bodies(SPEC, ROOT), load_parameters(ROOT))
    validate(doc)
    responses = doc["paths"]["/added"]["get"]["responses"]
    assert responses["default"] == UNDESCRIBED["default"]
    assert {"401", "429", "500", "503"} <= set(responses)
    described = doc["paths"]["/items"]["get"]["responses"]
    assert "default" not in described and "200" in described
