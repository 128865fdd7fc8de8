"""Typed declarations that the spec is written in.

Everything the template holds is derived from these frozen records: a function's role from
its relations, its environment from the same relations, routes from its route list.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

# The build version of a template rendered before any build.
UNBUILT = "unbuilt"
# Every function's environment names it as the spec does: Powertools' service name, which the
# local stack also finds a deployed function by.
SERVICE_NAME_VARIABLE = "POWERTOOLS_SERVICE_NAME"


class Access(Enum):
    READ = "read"
    QUERY = "query"
    WRITE = "write"


class KeyType(Enum):
    STRING = "S"
    NUMBER = "N"


@dataclass(frozen=True)
class Key:
    name: str
    type: KeyType = KeyType.STRING


@dataclass(frozen=True)
class Index:
    """A global secondary index. `projected` limits what the index exposes."""

    name: str
    partition_key: Key
    sort_key: Key | None = None
    projected: tuple[str, ...] | None = None  # None projects all attributes


@dataclass(frozen=True)
class Table:
    name: str
    partition_key: Key
    sort_key: Key | None = None
    indexes: tuple[Index, ...] = ()
    ttl_attribute: str | None = None
    purpose: str = ""


@dataclass(frozen=True)
class Bucket:
    name: str
    purpose: str = ""


@dataclass(frozen=True)
class SecureParameter:
    """A SecureString that `make params` creates; the template only references its name."""

    name: str
    purpose: str = ""


Resource = Table | Bucket | SecureParameter

# What a function reads each related resource's name from: the resource's name in upper case,
# hyphens as underscores, then its kind. A function related to the `orders` table reads
# os.environ["ORDERS_TABLE"]; to `cursor-signing-key`, CURSOR_SIGNING_KEY_PARAMETER (the
# parameter's name: its value is fetched at run time). template_gen/functions.py sets them.
ENVIRONMENT_SUFFIX: dict[type, str] = {
    Table: "TABLE",
    Bucket: "BUCKET",
    SecureParameter: "PARAMETER",
}


def environment_variable(resource: Resource) -> str:
    """`Table("orders")` -> `ORDERS_TABLE`, as the rule above says."""
    return f"{resource.name.upper().replace('-', '_')}_{ENVIRONMENT_SUFFIX[type(resource)]}"


@dataclass(frozen=True)
class Relation:
    """What a function may do to a resource. `prefix` narrows bucket access to a key prefix,
    `index` a table query to one index, and `only` the access's actions to those the
    function calls (grants.ACTIONS lists them)."""

    target: str
    access: Access
    prefix: str = ""
    index: str = ""
    only: tuple[str, ...] = ()


def reads(target: str, prefix: str = "") -> Relation:
    return Relation(target, Access.READ, prefix)


def queries(target: str, index: str = "") -> Relation:
    """Queries of a table, or of one of its indexes."""
    return Relation(target, Access.QUERY, index=index)


def writes(target: str, prefix: str = "", only: tuple[str, ...] = ()) -> Relation:
    return Relation(target, Access.WRITE, prefix, only=only)


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    authorized: bool = True

    @property
    def key(self) -> str:
        """The HTTP API route key, e.g. `GET /users/{id}`."""
        return f"{self.method} {self.path}"


@dataclass(frozen=True)
class Function:
    name: str
    source: str  # folder holding the handler module, relative to the repository root
    routes: tuple[Route, ...]
    relations: tuple[Relation, ...] = ()
    handler: str = "app.handler"
    memory_mb: int = 512
    timeout_s: int = 10
    description: str = ""
    # Gets BUILD_VERSION, the build's content hash, e.g. for GET /health.
    reports_build_version: bool = False
    # Names of the spec's layers the function loads; None loads every layer.
    layers: tuple[str, ...] | None = None
    # The module of the function's folder whose BODIES maps each route key that takes a body
    # to (field schema, partial): build/openapi.json describes the bodies from it.
    fields: str = ""


@dataclass(frozen=True)
class Layer:
    name: str
    source: str
    description: str = ""


# What the build zips, each from its source folder.
Buildable = Function | Layer


@dataclass(frozen=True)
class Api:
    """The HTTP API. `default_origins` is the AllowedOrigins parameter's default."""

    default_origins: tuple[str, ...]
    allowed_headers: tuple[str, ...] = ("authorization", "content-type")
    exposed_headers: tuple[str, ...] = ()
    cors_max_age_s: int = 600
    throttling_rate: int = 100
    throttling_burst: int = 200
    latency_alarm_ms: int = 2000
    error_rate_alarm: float = 0.01


@dataclass(frozen=True)
class Spec:
    project: str
    functions: tuple[Function, ...]
    tables: tuple[Table, ...]
    buckets: tuple[Bucket, ...]
    access_log_bucket: Bucket
    parameters: tuple[SecureParameter, ...]
    layers: tuple[Layer, ...]
    api: Api
    runtime: str = "python3.14"
    architecture: str = "arm64"
    environments: tuple[str, ...] = ("dev", "staging", "prod")

    @property
    def buildables(self) -> tuple[Buildable, ...]:
        """Every function, then every layer."""
        return (*self.functions, *self.layers)

    @property
    def resources(self) -> tuple[Resource, ...]:
        """What a relation may name: every table, bucket and parameter (the access-log
        bucket is the stack's own)."""
        return (*self.tables, *self.buckets, *self.parameters)

    def layers_of(self, function: Function) -> tuple[Layer, ...]:
        if function.layers is None:
            return self.layers
        return tuple(layer for layer in self.layers if layer.name in function.layers)

    def resource(self, name: str) -> Resource:
        for resource in self.resources:
            if resource.name == name:
                return resource
        raise KeyError(name)
