"""The HTTP API as the deployed template defines it: routes, authorizer and CORS, read from
the expanded OpenAPI body. There is no second list of routes."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from offline.cloudformation.deployed_stack import DeployedStack

INTEGRATION = "x-amazon-apigateway-integration"
CORS = "x-amazon-apigateway-cors"
OPEN = "NONE"  # SAM's marker for a route without an authorizer


@dataclass(frozen=True)
class Route:
    method: str
    path: str  # the route key's path, e.g. /items/{id}
    function: str  # logical id of the integrated function
    authorizer: str | None
    payload_version: str
    pattern: re.Pattern

    @property
    def key(self) -> str:
        return f"{self.method} {self.path}"

    def match(self, method: str, path: str) -> dict[str, str] | None:
        if method != self.method:
            return None
        found = self.pattern.fullmatch(path)
        return found.groupdict() if found else None

    @property
    def specificity(self) -> tuple[int, int]:
        """Literal segments beat parameters, as API Gateway picks the most specific route."""
        return (self.path.count("{"), -len(self.path))


@dataclass(frozen=True)
class Authorizer:
    name: str
    issuer: str
    audience: tuple[str, ...]
    identity_header: str


@dataclass(frozen=True)
class Cors:
    origins: tuple[str, ...]
    methods: tuple[str, ...]
    headers: tuple[str, ...]
    expose: tuple[str, ...]
    max_age: int
    credentials: bool

    def allows(self, origin: str | None) -> bool:
        return origin is not None and (origin in self.origins or "*" in self.origins)


@dataclass(frozen=True)
class HttpApi:
    routes: tuple[Route, ...]
    authorizers: dict[str, Authorizer]
    cors: Cors | None

    def find(self, method: str, path: str) -> tuple[Route, dict[str, str]] | None:
        matches = [(r, p) for r in self.routes if (p := r.match(method, path)) is not None]
        return min(matches, key=lambda m: m[0].specificity) if matches else None


def _pattern(path: str) -> re.Pattern:
    parts = re.split(r"(\{[^}]+\})", path)
    regex = "".join(
        f"(?P<{p[1:-1].rstrip('+')}>.+)"
        if p.endswith("+}")
        else f"(?P<{p[1:-1]}>[^/]+)"
        if p.startswith("{")
        else re.escape(p)
        for p in parts
    )
    return re.compile(regex)


def _function(integration: dict[str, Any], resources: dict[str, Any]) -> str:
    """The function a route invokes: `${Fn.Arn}`, or `${FnAliaslive}` for its alias."""
    uri = integration["uri"]["Fn::Sub"]
    uri = uri if isinstance(uri, str) else uri[0]
    (logical,) = re.findall(r"\$\{(\w+)(?:\.Arn)?\}", uri)
    if resources[logical]["Type"] == "AWS::Lambda::Alias":
        return str(resources[logical]["Properties"]["FunctionName"]["Ref"])
    return logical


def load(stack: DeployedStack, api_logical_id: str = "HttpApi") -> HttpApi:
    resources = stack.template["Resources"]
    body = resources[api_logical_id]["Properties"]["Body"]
    routes = []
    for path, operations in body["paths"].items():
        for method, operation in operations.items():
            integration = operation[INTEGRATION]
            security = operation.get("security") or [{OPEN: []}]
            (authorizer,) = security[0]
            routes.append(
                Route(
                    method=method.upper(),
                    path=path,
                    function=_function(integration, resources),
                    authorizer=None if authorizer == OPEN else authorizer,
                    payload_version=integration.get("payloadFormatVersion", "2.0"),
                    pattern=_pattern(path),
                )
            )
    authorizers = {}
    for name, scheme in body.get("components", {}).get("securitySchemes", {}).items():
        config = scheme["x-amazon-apigateway-authorizer"]
        jwt = stack.resolve(config["jwtConfiguration"])
        header = config["identitySource"].removeprefix("$request.header.")
        authorizers[name] = Authorizer(name, jwt["issuer"], tuple(jwt["audience"]), header.lower())
    cors = None
    if CORS in body:
        c = stack.resolve(body[CORS])
        origins = c.get("allowOrigins", [])
        cors = Cors(
            origins=tuple([origins] if isinstance(origins, str) else origins),
            methods=tuple(m.upper() for m in c.get("allowMethods", [])),
            headers=tuple(h.lower() for h in c.get("allowHeaders", [])),
            expose=tuple(c.get("exposeHeaders", [])),
            max_age=int(c.get("maxAge", 0)),
            credentials=bool(c.get("allowCredentials", False)),
        )
    return HttpApi(tuple(routes), authorizers, cors)
