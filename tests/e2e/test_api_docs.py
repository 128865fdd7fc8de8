"""The API explorer at /docs over real HTTP, against `python -m offline serve`: Swagger UI's
files from node_modules/swagger-ui-dist as they are, behind a strict Content-Security-Policy,
and nothing else of node_modules. (A browser drives the page in a test of its own.)"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from offline.apigateway.api_docs import ASSETS, SWAGGER_UI
from offline.stack.driver import Reply, ServeProcess

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
NOT_FOUND = {"message": "Not Found"}


@pytest.fixture(scope="module", autouse=True)
def installed() -> None:
    # `make install` puts it there (package-lock.json); without it /docs answers 503.
    assert (SWAGGER_UI / "swagger-ui-bundle.js").is_file(), "run make install"


def csp(reply: Reply) -> dict[str, str]:
    """The Content-Security-Policy's directives, by name."""
    policy = reply.headers["content-security-policy"]
    directives = (d.strip().partition(" ") for d in policy.split(";"))
    return {name: value for name, _, value in directives}


def test_the_page_loads_swagger_ui_from_this_gateway_under_a_strict_policy(
    local: ServeProcess,
) -> None:
    page = local.request("GET", "/docs")
    assert page.status == 200
    assert page.headers["content-type"] == "text/html; charset=utf-8"
    assert page.headers["x-content-type-options"] == "nosniff"
    assert page.headers["cache-control"] == "no-cache"
    policy = csp(page)
    assert policy["script-src"] == "'self'" and policy["style-src"] == "'self'"
    assert policy["connect-src"] == "'self'" and policy["default-src"] == "'none'"
    html = page.body.decode()
    loaded = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert set(loaded) == {"/docs/api-docs.js", *(f"/docs/swagger-ui/{name}" for name in ASSETS)}
    assert re.search(r"<script(?![^>]*\ssrc=)", html) is None, "an inline script"


def test_the_start_up_script_points_swagger_ui_at_the_description(local: ServeProcess) -> None:
    script = local.request("GET", "/docs/api-docs.js")
    assert script.status == 200
    assert script.headers["content-type"] == "text/javascript; charset=utf-8"
    assert script.headers["x-content-type-options"] == "nosniff"
    text = script.body.decode()
    assert 'url: "/openapi.json"' in text and "persistAuthorization: true" in text
    assert "validatorUrl: null" in text  # no call to an outside validator


def test_nothing_written_here_names_an_outside_url(local: ServeProcess) -> None:
    for path in ("/docs", "/docs/api-docs.js"):
        body = local.request("GET", path).body.decode()
        assert "http://" not in body and "https://" not in body, path


@pytest.mark.parametrize("name", sorted(ASSETS))
def test_each_asset_is_the_packages_file_byte_for_byte(local: ServeProcess, name: str) -> None:
    reply = local.request("GET", f"/docs/swagger-ui/{name}")
    assert reply.status == 200
    assert reply.headers["content-type"] == ASSETS[name]
    assert reply.headers["x-content-type-options"] == "nosniff"
    assert reply.body == (SWAGGER_UI / name).read_bytes()


@pytest.mark.parametrize(
    "path",
    [
        "/docs/swagger-ui/../../package.json",
        "/docs/swagger-ui/../swagger-ui-dist/package.json",
        "/docs/swagger-ui/%2e%2e/%2e%2e/package.json",
        "/docs/swagger-ui/..%2f..%2fpackage.json",
        "/docs/swagger-ui/swagger-initializer.js",
        "/docs/swagger-ui/swagger-ui-bundle.js.map",
        "/docs/swagger-ui/nothing.js",
        "/docs/swagger-ui/",
        "/docs/",
    ],
)
def test_any_other_path_is_the_apis_404(local: ServeProcess, path: str) -> None:
    reply = local.request("GET", path)
    assert (reply.status, reply.headers["content-type"]) == (404, "application/json")
    assert reply.json == NOT_FOUND


def test_only_get_is_served(local: ServeProcess) -> None:
    for method in ("POST", "PUT", "DELETE"):
        reply = local.request(method, "/docs")
        assert (reply.status, reply.json) == (404, NOT_FOUND), method


def test_the_explorer_is_not_part_of_the_api_description(local: ServeProcess) -> None:
    built = json.loads((ROOT / "build" / "openapi.json").read_text())
    served = local.request("GET", "/openapi.json").json
    for document in (built, served):
        assert not [p for p in document["paths"] if p.startswith("/docs")]


def test_try_it_out_calls_this_origin_with_the_token(local: ServeProcess, alice: str) -> None:
    """The page's first server is this gateway, the page's own origin: its calls are
    same-origin (`connect-src 'self'`), need no CORS, and carry "Authorize"'s bearer token.
    A browser sends Origin on a same-origin POST; the gateway serves it all the same."""
    served = local.request("GET", "/openapi.json").json
    assert served["servers"][0]["url"] == local.url
    assert served["components"]["securitySchemes"]["CognitoJwt"]["scheme"] == "bearer"
    same_origin = {"origin": local.url}
    created = local.request(
        "POST",
        "/items",
        token=alice,
        body={"name": "Docs lamp", "price_cents": 1},
        headers=same_origin,
    )
    assert created.status == 201, created.body
    listed = local.request("GET", "/items", token=alice)
    assert listed.status == 200
    assert local.request("GET", "/items", headers=same_origin).status == 401
