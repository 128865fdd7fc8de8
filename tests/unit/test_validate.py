"""A malformed spec fails before rendering, with a message that names the problem."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest

from template_gen.model import Function, Route, Spec, queries, reads, writes
from template_gen.spec import SPEC
from template_gen.template import build_template
from template_gen.validate import SpecError, check_sources, validate_spec

ROOT = Path(__file__).resolve().parents[2]

# A resource name the spec does not declare, whatever the spec holds.
UNKNOWN = "no-such-resource"
assert UNKNOWN not in {r.name for r in SPEC.resources}


def with_function(**changes: Any) -> Spec:
    """The real spec plus one function; `changes` are that function's fields."""
    extra = Function(name="extra", source="functions/extra", routes=(Route("GET", "/extra"),))
    return dataclasses.replace(
        SPEC, functions=(*SPEC.functions, dataclasses.replace(extra, **changes))
    )


def problems(spec: Spec) -> str:
    with pytest.raises(SpecError) as error:
        build_template(spec)
    return str(error.value)


def test_the_real_spec_is_valid() -> None:
    validate_spec(SPEC)
    check_sources(SPEC, ROOT)


def test_duplicate_route() -> None:
    message = problems(with_function(routes=(Route("GET", "/users/{id}"),)))
    assert "duplicate route 'GET /users/{id}' in functions 'users' and 'extra'" in message


def test_relation_to_an_unknown_table() -> None:
    message = problems(with_function(relations=(reads(UNKNOWN),)))
    assert f"function 'extra': relation to unknown resource '{UNKNOWN}'" in message


def test_an_unknown_layer_is_named() -> None:
    message = problems(with_function(layers=("shared", "vendored")))
    assert "function 'extra': unknown layer 'vendored' (known: deps, shared)" in message


def test_narrowing_to_an_action_outside_the_row_is_refused() -> None:
    message = problems(with_function(relations=(writes("items", only=("dynamodb:Scan",)),)))
    assert "'items' (write): only dynamodb:Scan is not among dynamodb:DeleteItem" in message


def test_a_query_of_a_missing_index_or_of_a_bucket_is_refused() -> None:
    message = problems(
        with_function(relations=(queries("users", index="by-email"), queries("assets")))
    )
    assert "relation to 'users' has no index 'by-email'" in message
    assert "'assets' cannot query: a Bucket takes read or write" in message


def test_writing_a_secure_parameter_is_refused() -> None:
    message = problems(with_function(relations=(writes("cursor-signing-key"),)))
    assert "parameter 'cursor-signing-key' cannot write" in message


def test_prefix_on_a_table_is_refused() -> None:
    message = problems(with_function(relations=(writes("items", prefix="x/"),)))
    assert "'items' has a prefix, which only buckets take" in message


def test_function_name_over_the_limit() -> None:
    message = problems(with_function(name="f" * 60))
    assert "Lambda function name 'backend-kit-${Environment}-" + "f" * 60 in message
    assert "over the limit of 64" in message


def test_project_over_its_limit() -> None:
    message = problems(dataclasses.replace(SPEC, project="a-very-long-project"))
    assert "project 'a-very-long-project' has 19 characters, over the limit of 12" in message


def test_wildcard_origin() -> None:
    api = dataclasses.replace(SPEC.api, default_origins=("https://app.example.com", "*"))
    message = problems(dataclasses.replace(SPEC, api=api))
    assert "api.default_origins: '*' is a wildcard" in message


def test_malformed_origin() -> None:
    api = dataclasses.replace(SPEC.api, default_origins=("app.example.com",))
    message = problems(dataclasses.replace(SPEC, api=api))
    assert "'app.example.com' is not an origin" in message


def test_timeout_beyond_the_api_limit() -> None:
    message = problems(with_function(timeout_s=60))
    assert "function 'extra': timeout_s 60 is outside 1..29" in message


def test_every_problem_is_reported_at_once() -> None:
    with pytest.raises(SpecError) as error:
        validate_spec(with_function(relations=(reads("nope"),), timeout_s=0))
    assert len(error.value.problems) == 2


def test_missing_handler_folder() -> None:
    spec = with_function(source="functions/does-not-exist")
    with pytest.raises(
        SpecError,
        match="function 'extra': handler folder 'functions/does-not-exist' does not exist",
    ):
        check_sources(spec, ROOT)


def test_missing_handler_module(tmp_path: Path) -> None:
    (tmp_path / "functions" / "extra").mkdir(parents=True)
    for item in SPEC.buildables:
        (tmp_path / item.source).mkdir(parents=True, exist_ok=True)
        (tmp_path / item.source / "app.py").touch()
    with pytest.raises(SpecError, match=r"handler module 'functions/extra/app\.py' does not exist"):
        check_sources(with_function(), tmp_path)


def test_cli_prints_the_problem_and_exits_2(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import template_gen.__main__ as cli

    monkeypatch.setattr(cli, "SPEC", with_function(relations=(reads(UNKNOWN),)))
    assert cli.main(["render"]) == 2
    assert f"relation to unknown resource '{UNKNOWN}'" in capsys.readouterr().err
