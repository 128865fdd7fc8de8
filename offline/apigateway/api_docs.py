"""The API explorer `make local` serves at /docs: Swagger UI over /openapi.json, its files
read from node_modules/swagger-ui-dist (package-lock.json pins it), never from a CDN. Like
/openapi.json these paths are the local gateway's own, not the deployed API's: the gateway
answers them only where no route of the API does."""

from __future__ import annotations

from pathlib import Path

from offline.apigateway.payload import HttpResponse, gateway_error

ROOT = Path(__file__).resolve().parents[2]
SWAGGER_UI = ROOT / "node_modules" / "swagger-ui-dist"
PAGE = Path(__file__).with_name("api_docs_page")  # the page and its start-up script

DOCS_PATH = "/docs"
SCRIPT_PATH = "/docs/api-docs.js"
ASSETS_PATH = "/docs/swagger-ui/"

HTML = "text/html; charset=utf-8"
JAVASCRIPT = "text/javascript; charset=utf-8"
CSS = "text/css; charset=utf-8"
PNG = "image/png"

# The package's files the page loads, and no others: a request path is looked up whole in
# this table, never joined to a folder, so `..`, `%2e%2e` or any other file of node_modules
# is simply not found.
ASSETS = {
    "swagger-ui-bundle.js": JAVASCRIPT,
    "swagger-ui.css": CSS,
    "index.css": CSS,  # the package's page margins and background
    "favicon-32x32.png": PNG,
    "favicon-16x16.png": PNG,
}

# What Swagger UI needs and nothing more. Scripts come only from this gateway (the start-up
# script is a file for that reason). Styles too: no 'unsafe-inline', since Swagger UI sets its
# inline styles through the DOM (element.style), which a CSP does not govern, and adds no
# <style> element or `style` attribute in markup (checked in Chromium with every operation,
# tab and model expanded: no violation). Images include the stylesheet's data: URIs, and
# "Try it out" fetches this same origin; the validator badge is off (api-docs.js).
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "base-uri 'none'",
        "form-action 'none'",
        "frame-ancestors 'none'",
    ]
)

# Revalidated on every load, so that a `make install` that moves swagger-ui-dist, or an edited
# page, shows at the next reload; a local dev server has no reason to be cached.
SECURITY_HEADERS = [
    ("content-security-policy", CONTENT_SECURITY_POLICY),
    ("x-content-type-options", "nosniff"),
    ("cache-control", "no-cache"),
]

NOT_INSTALLED = (
    "The API explorer needs node_modules/swagger-ui-dist, which is not installed:"
    " run make install, then reload"
)


class ApiDocs:
    """The explorer's paths, each mapped to one file and its content type."""

    def __init__(self, swagger_ui: Path = SWAGGER_UI, page: Path = PAGE) -> None:
        self.swagger_ui = swagger_ui
        self.files = {
            DOCS_PATH: (page / "index.html", HTML),
            SCRIPT_PATH: (page / "api-docs.js", JAVASCRIPT),
            **{ASSETS_PATH + name: (swagger_ui / name, kind) for name, kind in ASSETS.items()},
        }

    def installed(self) -> bool:
        return all((self.swagger_ui / name).is_file() for name in ASSETS)

    def answer(self, path: str) -> HttpResponse | None:
        """GET `path`'s answer, or None when it is not one of the explorer's paths (the
        caller answers that with the API's 404). Read at each request, so that a
        `make install` run while the stack is up takes effect at once."""
        found = self.files.get(path)
        if found is None:
            return None
        file, content_type = found
        try:
            if not self.installed():
                raise FileNotFoundError(self.swagger_ui)
            body = file.read_bytes()
        except FileNotFoundError:
            # 503, not 404: the path is the explorer's, what it serves is missing here.
            unavailable = gateway_error(503, NOT_INSTALLED)
            unavailable.headers += SECURITY_HEADERS
            return unavailable
        return HttpResponse(200, [("content-type", content_type), *SECURITY_HEADERS], body)
