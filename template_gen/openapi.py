"""`document(spec, bodies, schemas)`: the API's OpenAPI 3.1 description, as a pure function.

Routes come from the spec, request bodies from the handlers' own field rules (each rule
states its JSON Schema), headers and query parameters from the handlers' own patterns
(backend_kit.validation.parameter_schemas), and what each route answers from the contract
below, which docs/api.md states in words. The errors API Gateway returns itself (the JWT
authorizer's 401, throttling, the payload quota, integration failures) keep its own shape,
`{"message": ...}`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from template_gen.model import Route, Spec

API_VERSION = "1.0.0"
SCHEME = "CognitoJwt"


def ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


TIMESTAMP = {"type": "string", "format": "date-time"}
ITEM_PROPERTIES = {
    "id": {"type": "string", "format": "uuid"},
    "name": {"type": "string"},
    "description": {"type": "string"},
    "price_cents": {"type": "integer", "minimum": 0},
    "tags": {"type": "array", "items": {"type": "string"}},
    "version": {"type": "integer", "minimum": 1},
    "created_at": TIMESTAMP,
    "updated_at": TIMESTAMP,
}
PUBLIC = {"id": {"type": "string"}, "name": {"type": "string"}, "created_at": TIMESTAMP}
PRIVATE = {
    **PUBLIC,
    "email": {"type": "string"},
    "version": {"type": "integer", "minimum": 1},
    "updated_at": TIMESTAMP,
}


def record(properties: dict[str, Any], required: list[str]) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": properties,
        "required": required,
        "additionalProperties": False,
    }


def page(item: dict[str, Any]) -> dict[str, Any]:
    return record(
        {"items": {"type": "array", "items": item}, "next_cursor": {"type": ["string", "null"]}},
        ["items", "next_cursor"],
    )


SCHEMAS: dict[str, Any] = {
    "Error": record(
        {
            "error": record(
                {
                    "code": {"type": "string"},
                    "message": {"type": "string"},
                    "request_id": {"type": "string"},
                    "details": {"type": "object", "additionalProperties": {"type": "string"}},
                },
                ["code", "message", "request_id"],
            )
        },
        ["error"],
    ),
    "GatewayError": record({"message": {"type": "string"}}, ["message"]),
    "Health": record(
        {"status": {"const": "ok"}, "version": {"type": "string"}}, ["status", "version"]
    ),
    "Item": record(ITEM_PROPERTIES, ["id", "name", "version", "created_at", "updated_at"]),
    "ItemPage": page(ref("Item")),
    "PublicProfile": record(PUBLIC, ["id", "name", "created_at"]),
    "PrivateProfile": record(PRIVATE, list(PRIVATE)),
    "ProfilePage": page(ref("PublicProfile")),
    "Upload": record(
        {
            "url": {"type": "string"},
            "fields": {"type": "object", "additionalProperties": {"type": "string"}},
            "key": {"type": "string"},
        },
        ["url", "fields", "key"],
    ),
}

HEADERS: dict[str, Any] = {
    "ETag": {
        "description": 'The record\'s version, strong: `"3"`. Send it back in If-Match.',
        "schema": {"type": "string", "pattern": '^"[0-9]+"$'},
    },
    "Location": {"description": "Where the new record is.", "schema": {"type": "string"}},
    "Retry-After": {"description": "Seconds to wait.", "schema": {"type": "string"}},
    "WWW-Authenticate": {
        "description": "Why the JWT authorizer refused the token (API Gateway's form).",
        "schema": {"type": "string"},
    },
}


def answer(description: str, schema: str | None = None, **headers: bool) -> dict[str, Any]:
    """One response; `headers` maps a header of HEADERS to whether it is always sent."""
    response: dict[str, Any] = {"description": description}
    if schema:
        response["content"] = {"application/json": {"schema": ref(schema)}}
    if headers:
        response["headers"] = {
            name.replace("_", "-"): {**HEADERS[name.replace("_", "-")], "required": required}
            for name, required in headers.items()
        }
    return response


def error(description: str) -> dict[str, Any]:
    return answer(description, "Error")


def gateway(description: str) -> dict[str, Any]:
    return answer(description + " (API Gateway's own answer)", "GatewayError")


# What every route may answer whatever it does: API Gateway's throttling and failed
# invocations, and the function's own unexpected and dependency errors. No 504: HTTP APIs cut
# an integration off with 503, and the spec keeps every function timeout below that.
EVERY_ROUTE = {
    "429": gateway("Throttled"),
    "500": {
        "description": "An unexpected error: the function's (Error), or its runtime's or a"
        " timeout (API Gateway's answer to a failed invocation)",
        "content": {"application/json": {"schema": {"anyOf": [ref("Error"), ref("GatewayError")]}}},
    },
    "503": answer("A dependency failed after retries", "Error", Retry_After=True),
}
AUTHORIZED = {"401": answer("No token, or a refused one", "GatewayError", WWW_Authenticate=True)}
WITH_BODY = {
    "400": error("Malformed or invalid input; `details` names each field"),
    "413": {
        "description": "The body is over 64 KiB (Error), or over API Gateway's 10 MB quota",
        "content": {"application/json": {"schema": {"anyOf": [ref("Error"), ref("GatewayError")]}}},
    },
    "415": error("The body is not JSON"),
}
WITH_VERSION = {
    "400": error("If-Match is not a version"),
    "412": error("The version moved on: read the record again"),
    "428": error("If-Match is required"),
}

# A route the contract has no row for yet, such as a function's just added to the spec: the
# document lists it, with what every route may answer, and says the rest is not described.
# The render step names each one (template_gen/render.py).
UNDESCRIBED = {"default": {"description": "Not described yet: this route has no row in the"
                           " contract (template_gen/openapi.py, docs/api.md)"}}  # fmt: skip

# The contract: what each route answers, besides EVERY_ROUTE (and AUTHORIZED).
CONTRACT: dict[str, dict[str, Any]] = {
    "GET /health": {"200": answer("Liveness and the build's content hash", "Health")},
    "POST /users": {
        "201": answer("Registered", "PrivateProfile", ETag=True, Location=True),
        "409": error("The caller is registered already, or the email is taken"),
        **WITH_BODY,
    },
    "GET /users": {
        "200": answer("A page of public profiles", "ProfilePage"),
        "400": error("A bad limit or cursor"),
    },
    "GET /users/{id}": {
        "200": {
            **answer("The profile: public, or private for the caller's own", ETag=False),
            "content": {
                "application/json": {
                    "schema": {"anyOf": [ref("PrivateProfile"), ref("PublicProfile")]}
                }
            },
        },
        "404": error("No such user"),
    },
    "PATCH /users/{id}": {
        "200": answer("Changed", "PrivateProfile", ETag=True),
        "403": error("Not the caller's profile"),
        "404": error("No such user"),
        "409": error("The email is taken"),
        **WITH_BODY,
        **WITH_VERSION,
    },
    "DELETE /users/{id}": {
        "204": answer("Deleted; the email is free again"),
        "403": error("Not the caller's profile"),
        "404": error("No such user"),
        **WITH_VERSION,
    },
    "POST /items": {
        "201": answer("Created", "Item", ETag=True, Location=True),
        "409": {
            **error("The Idempotency-Key was used with another body, or is in progress"),
            "headers": {"Retry-After": {**HEADERS["Retry-After"], "required": False}},
        },
        **WITH_BODY,
    },
    "GET /items": {
        "200": answer("A page of the caller's items", "ItemPage"),
        "400": error("A bad limit or cursor"),
    },
    "GET /items/{id}": {
        "200": answer("The item", "Item", ETag=True),
        "404": error("No such item of the caller's"),
    },
    "PATCH /items/{id}": {
        "200": answer("Changed", "Item", ETag=True),
        "404": error("No such item of the caller's"),
        **WITH_BODY,
        **WITH_VERSION,
    },
    "DELETE /items/{id}": {
        "204": answer("Deleted"),
        "404": error("No such item of the caller's"),
        **WITH_VERSION,
    },
    "POST /items/{id}/attachments": {
        "201": answer("A presigned POST: send `fields` and the file to `url`", "Upload"),
        "404": error("No such item of the caller's"),
        **WITH_BODY,
    },
}

ID = {"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}
# Its schema is the handlers' own pattern (document's `schemas`).
IF_MATCH = {
    "name": "If-Match",
    "in": "header",
    "required": True,
    "description": 'The version from the ETag, `"3"`; compared strongly, so `W/"3"` never matches',
}


def route_parameters(schemas: Mapping[str, dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """The query and header parameters of each route key besides its id and If-Match."""
    page = [
        {"name": "limit", "in": "query", "schema": schemas["limit"]},
        {"name": "cursor", "in": "query", "description": "next_cursor of the page before",
         "schema": {"type": "string"}},
    ]  # fmt: skip
    return {
        "GET /users": page,
        "GET /items": page,
        "POST /items": [
            {
                "name": "Idempotency-Key",
                "in": "header",
                "description": "Retries with the same key and body return the first result",
                "schema": schemas["Idempotency-Key"],
            }
        ],
    }


def operation_id(route: Route) -> str:
    words = [route.method.lower()] + [
        ("by_" + part[1:-1]) if part.startswith("{") else part
        for part in route.path.strip("/").split("/")
    ]
    return "_".join(words)


# Where one response leads: the stateful tests follow these.
ITEM_ID = {"id": "$response.body#/id"}
ITEM_VERSION = {**ITEM_ID, "header.If-Match": "$response.header.ETag"}
LINKS: dict[str, dict[str, dict[str, Any]]] = {
    "POST /items": {
        "GetItem": {"operationId": "get_items_by_id", "parameters": ITEM_ID},
        "ChangeItem": {"operationId": "patch_items_by_id", "parameters": ITEM_VERSION},
        "DeleteItem": {"operationId": "delete_items_by_id", "parameters": ITEM_VERSION},
        "AttachToItem": {"operationId": "post_items_by_id_attachments", "parameters": ITEM_ID},
    },
    "POST /users": {
        "GetUser": {"operationId": "get_users_by_id", "parameters": ITEM_ID},
        "ChangeUser": {"operationId": "patch_users_by_id", "parameters": ITEM_VERSION},
        "DeleteUser": {"operationId": "delete_users_by_id", "parameters": ITEM_VERSION},
    },
}


def operation(
    route: Route,
    bodies: Mapping[str, dict[str, Any]],
    schemas: Mapping[str, dict[str, Any]],
) -> dict[str, Any]:
    key = route.key
    own = CONTRACT.get(key, UNDESCRIBED)
    responses = {**own, **EVERY_ROUTE, **(AUTHORIZED if route.authorized else {})}
    if key in LINKS:
        success = next(status for status in responses if status.startswith("2"))
        responses[success] = {**responses[success], "links": LINKS[key]}
    parameters = ([ID] if "{id}" in route.path else []) + route_parameters(schemas).get(key, [])
    if route.method in ("PATCH", "DELETE") and "{id}" in route.path:
        parameters.append({**IF_MATCH, "schema": schemas["If-Match"]})
    described: dict[str, Any] = {
        "operationId": operation_id(route),
        "tags": [route.path.strip("/").split("/")[0]],
        "responses": dict(sorted(responses.items())),
    }
    if parameters:
        described["parameters"] = parameters
    if key in bodies:
        described["requestBody"] = {
            "required": True,  # validate() refuses a missing body, updates included
            "content": {"application/json": {"schema": bodies[key]}},
        }
    if not route.authorized:
        described["security"] = []
    return described


def document(
    spec: Spec, bodies: Mapping[str, dict[str, Any]], schemas: Mapping[str, dict[str, Any]]
) -> dict[str, Any]:
    """`bodies` maps a route key to the JSON Schema of its request body; `schemas` names the
    JSON Schema of each header and query parameter (backend_kit.validation)."""
    paths: dict[str, dict[str, Any]] = {}
    for function in spec.functions:
        for route in function.routes:
            paths.setdefault(route.path, {})[route.method.lower()] = operation(
                route, bodies, schemas
            )
    return {
        "openapi": "3.1.0",
        "info": {
            "title": f"{spec.project} API",
            "version": API_VERSION,
            "description": "Generated from template_gen/spec.py and the handlers' field rules"
            " by `make build`; docs/api.md states the same contract in words.",
        },
        "servers": [
            {"url": "http://127.0.0.1:3000", "description": "make local"},
            {
                "url": "https://{api}.execute-api.{region}.amazonaws.com",
                "description": "a deployed stack: the ApiUrl output",
                "variables": {"api": {"default": "api-id"}, "region": {"default": "us-east-1"}},
            },
        ],
        "security": [{SCHEME: []}],
        "paths": dict(sorted(paths.items())),
        "components": {
            "schemas": SCHEMAS,
            "securitySchemes": {
                SCHEME: {
                    "type": "http",
                    "scheme": "bearer",
                    "bearerFormat": "JWT",
                    "description": "An access token of the stack's Cognito user pool"
                    " (UserPoolId, UserPoolClientId outputs); `make token` locally",
                }
            },
        },
    }
