"""Spec validation: every problem is found before rendering and named in one error."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

from template_gen.grants import ACTIONS
from template_gen.model import Access, Bucket, Resource, SecureParameter, Spec, Table
from template_gen.naming import (
    MAX_PROJECT_LENGTH,
    PROJECT_PATTERN,
    Names,
    PhysicalName,
)

METHODS = frozenset({"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"})
NAME_PATTERN = re.compile(r"^[a-z][a-z0-9-]*$")
_SEGMENT = r"([A-Za-z0-9._-]+|\{[A-Za-z_][A-Za-z0-9_]*\})"
PATH_PATTERN = re.compile(rf"^(/{_SEGMENT})+$")
PREFIX_PATTERN = re.compile(r"^[A-Za-z0-9!_.'()-]+(/[A-Za-z0-9!_.'()-]+)*/$")
ORIGIN_PATTERN = re.compile(r"^https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?$")
# HTTP APIs cut an integration off at 30 s; a longer function timeout would never be used.
MAX_API_TIMEOUT_S = 29
ALARM_SIGNALS = ("errors", "throttles", "duration-p99", "error-logs", "5xx-rate", "latency-p99")


class SpecError(ValueError):
    """The spec cannot be rendered. The message lists every problem found."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("invalid spec:\n" + "\n".join(f"  - {p}" for p in problems))


def validate_spec(spec: Spec) -> None:
    problems = [
        *_project(spec),
        *_unique_names(spec),
        *_functions(spec),
        *_routes(spec),
        *_relations(spec),
        *_origins(spec),
        *_name_lengths(spec),
    ]
    if problems:
        raise SpecError(problems)


def check_sources(spec: Spec, root: Path) -> None:
    """The I/O half of validation: every handler and layer folder exists under `root`."""
    problems = []
    for function in spec.functions:
        module = function.handler.rsplit(".", 1)[0].replace(".", "/") + ".py"
        if not (root / function.source).is_dir():
            problems.append(
                f"function '{function.name}': handler folder '{function.source}' does not exist"
            )
        elif not (root / function.source / module).is_file():
            problems.append(
                f"function '{function.name}': handler module '{function.source}/{module}'"
                " does not exist"
            )
        if function.fields and not (root / function.source / f"{function.fields}.py").is_file():
            problems.append(
                f"function '{function.name}': fields module '{function.source}/"
                f"{function.fields}.py' does not exist"
            )
    for layer in spec.layers:
        if not (root / layer.source).is_dir():
            problems.append(f"layer '{layer.name}': folder '{layer.source}' does not exist")
    if problems:
        raise SpecError(problems)


def _project(spec: Spec) -> Iterator[str]:
    if not PROJECT_PATTERN.match(spec.project):
        yield (
            f"project '{spec.project}': use lowercase letters, digits and hyphens, starting"
            " with a letter"
        )
    if len(spec.project) > MAX_PROJECT_LENGTH:
        yield (
            f"project '{spec.project}' has {len(spec.project)} characters, over the limit of"
            f" {MAX_PROJECT_LENGTH} that keeps bucket names within 63"
        )
    if not spec.environments:
        yield "environments: declare at least one"


def _unique_names(spec: Spec) -> Iterator[str]:
    resources: tuple[Resource, ...] = (
        *spec.tables,
        *spec.buckets,
        spec.access_log_bucket,
        *spec.parameters,
    )
    groups = {
        "function": [f.name for f in spec.functions],
        "layer": [layer.name for layer in spec.layers],
        "resource": [r.name for r in resources],
    }
    for kind, names in groups.items():
        for name in sorted({n for n in names if names.count(n) > 1}):
            yield f"{kind} '{name}' is declared more than once"
        for name in names:
            if not NAME_PATTERN.match(name):
                yield f"{kind} '{name}': use lowercase letters, digits and hyphens"


def _functions(spec: Spec) -> Iterator[str]:
    for function in spec.functions:
        if not 128 <= function.memory_mb <= 10240:
            yield (
                f"function '{function.name}': memory_mb {function.memory_mb} is outside 128..10240"
            )
        if not 1 <= function.timeout_s <= MAX_API_TIMEOUT_S:
            yield (
                f"function '{function.name}': timeout_s {function.timeout_s} is outside"
                f" 1..{MAX_API_TIMEOUT_S} (the HTTP API stops waiting at 30 s)"
            )
        if not function.routes:
            yield f"function '{function.name}' has no routes"
        known = {layer.name for layer in spec.layers}
        for layer in sorted(set(function.layers or ()) - known):
            yield (
                f"function '{function.name}': unknown layer '{layer}'"
                f" (known: {', '.join(sorted(known))})"
            )


def _routes(spec: Spec) -> Iterator[str]:
    owners: dict[str, str] = {}
    for function in spec.functions:
        for route in function.routes:
            if route.method not in METHODS:
                yield f"function '{function.name}': route '{route.key}' has an unknown method"
            if not PATH_PATTERN.match(route.path):
                yield f"function '{function.name}': route '{route.key}' has an invalid path"
            if route.key in owners:
                yield (
                    f"duplicate route '{route.key}' in functions '{owners[route.key]}'"
                    f" and '{function.name}'"
                )
            owners.setdefault(route.key, function.name)


def _relations(spec: Spec) -> Iterator[str]:
    known = {r.name: r for r in spec.resources}
    for function in spec.functions:
        seen = set()
        for relation in function.relations:
            where = f"function '{function.name}': relation to"
            if relation in seen:
                yield f"{where} '{relation.target}' ({relation.access.value}) is declared twice"
            seen.add(relation)
            resource = known.get(relation.target)
            if resource is None:
                yield (
                    f"{where} unknown resource '{relation.target}'"
                    f" (known: {', '.join(sorted(known))})"
                )
                continue
            if isinstance(resource, SecureParameter) and relation.access is Access.WRITE:
                yield (
                    f"{where} parameter '{relation.target}' cannot write: SecureStrings are"
                    " created by `make params`, never by a function"
                )
                continue
            row = ACTIONS.get((type(resource), relation.access))
            if row is None:
                yield (
                    f"{where} '{relation.target}' cannot {relation.access.value}: a"
                    f" {type(resource).__name__} takes {_accesses(type(resource))}"
                )
                continue
            unknown = sorted(set(relation.only) - set(row))
            if unknown:
                yield (
                    f"{where} '{relation.target}' ({relation.access.value}): only"
                    f" {', '.join(unknown)} is not among {', '.join(row)}"
                )
            if relation.index and not (
                isinstance(resource, Table)
                and relation.index in {index.name for index in resource.indexes}
            ):
                yield f"{where} '{relation.target}' has no index '{relation.index}'"
            if relation.prefix and not isinstance(resource, Bucket):
                yield f"{where} '{relation.target}' has a prefix, which only buckets take"
            if relation.prefix and not PREFIX_PATTERN.match(relation.prefix):
                yield (
                    f"{where} '{relation.target}': prefix '{relation.prefix}' must be a"
                    " key prefix ending in '/', without wildcards"
                )


def _accesses(kind: type) -> str:
    return " or ".join(access.value for (owner, access) in ACTIONS if owner is kind)


def _origins(spec: Spec) -> Iterator[str]:
    if not spec.api.default_origins:
        yield "api.default_origins: declare at least one origin"
    for origin in spec.api.default_origins:
        if "*" in origin:
            yield f"api.default_origins: '{origin}' is a wildcard; list the exact origins"
        elif not ORIGIN_PATTERN.match(origin):
            yield f"api.default_origins: '{origin}' is not an origin like https://app.example.com"


def _name_lengths(spec: Spec) -> Iterator[str]:
    for owner, name in spec_names(spec):
        length = name.worst_case_length(spec.environments)
        if length > name.kind.limit:
            yield (
                f"{owner}: {name.kind.label} name '{name.pattern}' can reach {length}"
                f" characters, over the limit of {name.kind.limit}"
            )


def spec_names(spec: Spec) -> Iterator[tuple[str, PhysicalName]]:
    """Every physical name that depends on a spec entry, with the entry that owns it."""
    names = Names(spec.project)
    longest_signal = max(ALARM_SIGNALS, key=len)
    for function in spec.functions:
        owner = f"function '{function.name}'"
        yield owner, names.function(function.name)
        yield owner, names.function_log_group(function.name)
        yield owner, names.role(function.name)
        yield owner, names.alarm("function", function.name, longest_signal)
    for layer in spec.layers:
        yield f"layer '{layer.name}'", names.layer(layer.name)
    for table in spec.tables:
        yield f"table '{table.name}'", names.table(table.name)
        yield f"table '{table.name}'", names.alarm("table", table.name, longest_signal)
    for bucket in (*spec.buckets, spec.access_log_bucket):
        yield f"bucket '{bucket.name}'", names.bucket(bucket.name)
    for parameter in spec.parameters:
        yield f"parameter '{parameter.name}'", names.parameter(parameter.name)
    yield "parameters key", names.parameters_key_alias()
    yield "api", names.api()
    yield "dashboard", names.dashboard()
    for backup in (names.backup_vault(), names.backup_plan(), names.backup_selection(),
                   names.backup_role(), names.backup_key_alias()):  # fmt: skip
        yield "backups", backup
