"""The API explorer's paths (offline/apigateway/api_docs.py): an allow-list of whole paths, so
nothing but the named files of node_modules/swagger-ui-dist is ever read; a clear 503 without
the package; and the gateway's own paths give way to any route the API declares."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from offline.apigateway.api_docs import (
    ASSETS,
    ASSETS_PATH,
    DOCS_PATH,
    PAGE,
    SCRIPT_PATH,
    SWAGGER_UI,
    ApiDocs,
)
from offline.apigateway.gateway import Gateway
from offline.apigateway.http_api import HttpApi, Route, _pattern
from offline.apigateway.payload import HttpRequest

DOCUMENT = {"openapi": "3.1.0", "info": {"title": "t", "version": "1"}, "paths": {}}


def fake_swagger_ui(folder: Path) -> Path:
    """A stand-in for the package: each allowed file, plus files the explorer must not serve."""
    for name in ASSETS:
        (folder / name).write_bytes(f"asset {name}".encode())
    (folder / "swagger-initializer.js").write_text("a file of the package the page does not use")
    (folder / "swagger-ui-bundle.js.map").write_text("{}")
    (folder.parent.parent / "package.json").write_text("{}")  # what ../../ would reach
    return folder


@pytest.fixture
def docs(tmp_path: Path) -> ApiDocs:
    folder = tmp_path / "node_modules" / "swagger-ui-dist"
    folder.mkdir(parents=True)
    return ApiDocs(fake_swagger_ui(folder))


def test_each_allowed_path_serves_its_file_with_its_type(docs: ApiDocs) -> None:
    for name, content_type in ASSETS.items():
        response = docs.answer(ASSETS_PATH + name)
        assert response is not None and response.status == 200, name
        assert response.body == f"asset {name}".encode()
        assert dict(response.headers)["content-type"] == content_type
    page = docs.answer(DOCS_PATH)
    assert page is not None and page.body == (PAGE / "index.html").read_bytes()
    assert dict(page.headers)["content-type"] == "text/html; charset=utf-8"
    script = docs.answer(SCRIPT_PATH)
    assert script is not None and script.body == (PAGE / "api-docs.js").read_bytes()


@pytest.mark.parametrize(
    "path",
    [
        "/docs/swagger-ui/../../package.json",
        "/docs/swagger-ui/..%2F..%2Fpackage.json",
        "/docs/swagger-ui/%2e%2e/package.json",
        "/docs/swagger-ui//swagger-ui.css",
        "/docs/swagger-ui/./swagger-ui.css",
        "/docs/swagger-ui/swagger-ui.css/",
        "/docs/swagger-ui/swagger-initializer.js",  # in the package, not on the list
        "/docs/swagger-ui/swagger-ui-bundle.js.map",
        "/docs/swagger-ui/SWAGGER-UI.CSS",
        "/docs/swagger-ui/",
        "/docs/swagger-ui",
        "/docs/",
        "/docs/index.html",
        "/docs/swagger-ui/api-docs.js",
        "/docs/swagger-ui/index.html",
        "/docs/swagger-ui/%2Fetc%2Fpasswd",
        "/docs/swagger-ui//etc/passwd",
    ],
)
def test_any_other_path_is_none_of_the_explorers(docs: ApiDocs, path: str) -> None:
    assert docs.answer(path) is None


def test_every_file_on_the_list_is_in_the_package_or_beside_the_module() -> None:
    for file, _ in ApiDocs().files.values():
        assert file.parent in (SWAGGER_UI, PAGE), file
    assert sorted(ApiDocs().files) == sorted(
        [DOCS_PATH, SCRIPT_PATH, *(ASSETS_PATH + name for name in ASSETS)]
    )


def test_the_page_and_its_script_name_no_outside_url() -> None:
    for name in ("index.html", "api-docs.js"):
        text = (PAGE / name).read_text()
        assert "http://" not in text and "https://" not in text and "//cdn" not in text, name
    page = (PAGE / "index.html").read_text()
    assert "<script>" not in page  # no inline script: the CSP says script-src 'self'
    for path in [SCRIPT_PATH, *(ASSETS_PATH + n for n in ASSETS if not n.startswith("index"))]:
        assert f'"{path}"' in page, path


def test_without_the_package_each_path_says_to_run_make_install(tmp_path: Path) -> None:
    docs = ApiDocs(tmp_path / "node_modules" / "swagger-ui-dist")
    for path in (DOCS_PATH, SCRIPT_PATH, ASSETS_PATH + "swagger-ui-bundle.js"):
        response = docs.answer(path)
        assert response is not None and response.status == 503, path
        assert dict(response.headers)["content-type"] == "application/json"
        assert "make install" in json.loads(response.body)["message"]
    assert docs.answer("/docs/swagger-ui/../../package.json") is None


def test_a_half_installed_package_is_not_installed(docs: ApiDocs) -> None:
    (docs.swagger_ui / "swagger-ui.css").unlink()
    response = docs.answer(DOCS_PATH)
    assert response is not None and response.status == 503


class Function:
    """A deployed function that answers every invocation: proof the route was taken."""

    config = SimpleNamespace(timeout_s=3)

    def invoke(self, event: dict[str, Any], timeout_s: float) -> dict[str, Any]:
        return {"statusCode": 200, "body": f"the API's {event['routeKey']}"}


def gateway(
    docs: ApiDocs, routes: tuple[Route, ...] = (), document: dict[str, Any] | None = DOCUMENT
) -> Gateway:
    functions = SimpleNamespace(by_logical_id={"Api": Function()})
    return Gateway(HttpApi(routes, {}, None), {}, functions, "api-1", document, docs)  # type: ignore[arg-type]


def get(gateway: Gateway, path: str, method: str = "GET") -> tuple[int, str, bytes]:
    request = HttpRequest(method, path, "", [], b"", "127.0.0.1", "127.0.0.1:3000")
    response, key = gateway.handle(request)
    return response.status, key, response.body


def test_the_gateway_serves_the_explorer_and_404s_the_rest(docs: ApiDocs) -> None:
    assert get(gateway(docs), "/docs")[:2] == (200, "GET /docs")
    assert get(gateway(docs), "/docs/swagger-ui/swagger-ui.css")[0] == 200
    assert get(gateway(docs), "/openapi.json")[:2] == (200, "GET /openapi.json")
    not_found = (404, "-", b'{"message": "Not Found"}')
    assert get(gateway(docs), "/docs/swagger-ui/../../package.json") == not_found
    assert get(gateway(docs), "/docs", method="POST") == not_found


@pytest.mark.parametrize("declared", ["/docs", "/openapi.json", "/{proxy+}"])
def test_a_route_the_api_declares_wins_over_the_gateways_own(docs: ApiDocs, declared: str) -> None:
    """Neither /docs nor /openapi.json is the deployed API's: were the spec ever to declare
    one (or a greedy route that matches it), API Gateway would route it to its function, so
    the local gateway does too."""
    route = Route("GET", declared, "Api", None, "2.0", _pattern(declared))
    for path in ("/docs", "/openapi.json"):
        status, key, body = get(gateway(docs, (route,)), path)
        if route.match("GET", path) is None:
            assert key == f"GET {path}", path  # the gateway's own
        else:
            assert (status, key, body) == (200, route.key, f"the API's {route.key}".encode())


def test_no_explorer_without_the_description(docs: ApiDocs) -> None:
    """The page shows /openapi.json; without build/openapi.json there is nothing to show."""
    assert get(gateway(docs, document=None), "/docs")[:2] == (404, "-")
