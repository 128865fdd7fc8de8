"""The local HTTP API: routes, JWT authorizer, CORS and limits from the template, the real
handlers behind it."""

from __future__ import annotations

import json
import sys
import threading
import time
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from offline.apigateway.api_docs import ApiDocs
from offline.apigateway.authorizer import JwtVerifier, Unauthorized, as_passed_through
from offline.apigateway.http_api import HttpApi
from offline.apigateway.payload import (
    HttpRequest,
    HttpResponse,
    build_event,
    gateway_error,
    map_response,
)
from offline.lambda_.sandbox_pool import InvocationError, InvocationTimeout, SandboxPool

# HTTP API quotas: the request payload, and how long an integration may take.
MAX_PAYLOAD_BYTES = 10 * 1024 * 1024
INTEGRATION_TIMEOUT_S = 30


# Served by the local gateway only, beside the API: the description build/openapi.json, and
# the API explorer over it at /docs (api_docs.py). Neither is a route of the deployed API, so
# each answers only where no route of the API matches: a route the spec declares wins.
OPENAPI_PATH = "/openapi.json"


class Gateway:
    def __init__(
        self,
        api: HttpApi,
        verifiers: dict[str, JwtVerifier],
        sandboxes: SandboxPool,
        api_id: str,
        openapi: dict[str, Any] | None = None,
        api_docs: ApiDocs | None = None,
    ) -> None:
        self.api = api
        self.verifiers = verifiers
        self.sandboxes = sandboxes
        self.api_id = api_id
        self.openapi = openapi
        self.api_docs = api_docs or ApiDocs()
        self._log_lock = threading.Lock()

    def description(self, request: HttpRequest) -> HttpResponse:
        """build/openapi.json, with this gateway as its first server, for any OpenAPI client."""
        document = dict(self.openapi or {})
        document["servers"] = [
            {"url": f"http://{request.host}", "description": "this make local"},
            *document.get("servers", [])[1:],
        ]
        body = json.dumps(document, indent=2, sort_keys=True).encode()
        return HttpResponse(200, [("content-type", "application/json")], body)

    def handle(self, request: HttpRequest) -> tuple[HttpResponse, str]:
        """The response, and the route key (for the access log)."""
        origin = _header(request, "origin")
        if len(request.body) > MAX_PAYLOAD_BYTES:
            return gateway_error(413, "Request Entity Too Large"), "-"
        path = request.raw_path
        if (
            request.method == "OPTIONS"
            and self.api.cors
            and _header(request, "access-control-request-method")
        ):
            return self._preflight(request, origin), "OPTIONS (CORS)"
        found = self.api.find(request.method, path)
        if found is None:
            own = self._own(request)
            if own is not None:
                return self._cors(own, origin), f"GET {path}"
            return self._cors(gateway_error(404, "Not Found"), origin), "-"
        route, path_parameters = found
        claims = None
        if route.authorizer:
            verifier = self.verifiers[route.authorizer]
            try:
                claims = as_passed_through(
                    verifier.verify(_header(request, verifier.authorizer.identity_header))
                )
            except Unauthorized as refused:
                response = gateway_error(401, "Unauthorized")
                response.headers.append(("www-authenticate", refused.challenge))
                return self._cors(response, origin), route.key
        event = build_event(request, route.key, path_parameters, claims, self.api_id)
        function = self.sandboxes.by_logical_id[route.function]
        timeout = min(INTEGRATION_TIMEOUT_S, function.config.timeout_s + 1)
        try:
            result = function.invoke(event, timeout)
            response = map_response(result)
        except (InvocationTimeout, InvocationError, ValueError, TypeError):
            # Lambda ends a function at its timeout with an error, which API Gateway answers
            # 500 like any function error (knowledge-center/api-gateway-internal-server-error);
            # the spec keeps every timeout under the integration's 30 s, whose cut-off
            # would be 503 instead.
            response = gateway_error(500, "Internal Server Error")
        return self._cors(response, origin), route.key

    def _own(self, request: HttpRequest) -> HttpResponse | None:
        """The gateway's own answer for a path no route of the API has: the description, or
        the explorer over it (nothing without the description, which the explorer shows)."""
        if not self.openapi or request.method != "GET":
            return None
        if request.raw_path == OPENAPI_PATH:
            return self.description(request)
        return self.api_docs.answer(request.raw_path)

    def _preflight(self, request: HttpRequest, origin: str | None) -> HttpResponse:
        cors = self.api.cors
        assert cors is not None
        method = (_header(request, "access-control-request-method") or "").upper()
        if not cors.allows(origin) or method not in cors.methods:
            return HttpResponse(204, [], b"")  # no CORS headers: the browser refuses
        asked = _header(request, "access-control-request-headers") or ""
        headers = [h.strip().lower() for h in asked.split(",") if h.strip()]
        allowed = [h for h in headers if h in cors.headers]
        response = [
            ("access-control-allow-origin", origin or ""),
            ("access-control-allow-methods", ",".join(cors.methods)),
            ("access-control-max-age", str(cors.max_age)),
            ("vary", "origin"),
        ]
        if allowed:
            response.append(("access-control-allow-headers", ",".join(allowed)))
        if cors.credentials:
            response.append(("access-control-allow-credentials", "true"))
        return HttpResponse(204, response, b"")

    def cors(self, response: HttpResponse, request_headers: list[tuple[str, str]]) -> HttpResponse:
        """CORS headers on an answer the gateway gives before routing (413, 400)."""
        origins = [v for k, v in request_headers if k.lower() == "origin"]
        return self._cors(response, origins[0] if origins else None)

    def _cors(self, response: HttpResponse, origin: str | None) -> HttpResponse:
        cors = self.api.cors
        if cors and cors.allows(origin):
            response.headers += [("access-control-allow-origin", origin or ""), ("vary", "origin")]
            if cors.expose:
                response.headers.append(("access-control-expose-headers", ",".join(cors.expose)))
        return response

    def access_log(self, entry: dict[str, Any]) -> None:
        with self._log_lock:
            sys.stdout.write(json.dumps(entry, sort_keys=True) + "\n")
            sys.stdout.flush()


def _header(request: HttpRequest, name: str) -> str | None:
    values = [v for k, v in request.headers if k.lower() == name]
    return ",".join(values) if values else None


class Listener(ThreadingHTTPServer):
    # socketserver's default backlog of 5 resets clients that connect in a burst; the
    # kernel caps this at net.core.somaxconn.
    request_queue_size = 128


class BadRequest(Exception):
    """A request API Gateway answers 400 before any route: a bad length or chunked body."""


def read_body(headers: Any, stream: Any) -> bytes:
    """The body by Content-Length or by chunks (RFC 9112 7.1), never past the payload quota
    (raises PayloadTooLarge) and never waiting on a length that cannot be."""
    if "chunked" in (headers.get("transfer-encoding") or "").lower():
        return _read_chunks(stream)
    raw = (headers.get("content-length") or "0").strip()
    if not raw.isascii() or not raw.isdigit():
        raise BadRequest(f"Content-Length {raw[:20]!r} is not a length")
    length = int(raw)
    if length > MAX_PAYLOAD_BYTES:
        raise PayloadTooLarge(length)
    return stream.read(length) if length else b""


class PayloadTooLarge(Exception):
    """Over the quota; `unread` is what the client declared it still sends (0 when chunked)."""

    def __init__(self, unread: int = 0) -> None:
        super().__init__(unread)
        self.unread = unread


def _read_chunks(stream: Any) -> bytes:
    body = bytearray()
    while True:
        line = stream.readline(1024).split(b";", 1)[0].strip()
        try:
            size = int(line, 16)
        except ValueError:
            raise BadRequest("a chunk size is not hexadecimal") from None
        if size < 0:
            raise BadRequest("a chunk size is negative")
        if size == 0:
            while stream.readline(1024).strip():  # trailer fields, then the blank line
                pass
            return bytes(body)
        if len(body) + size > MAX_PAYLOAD_BYTES:
            raise PayloadTooLarge
        body += stream.read(size)
        stream.readline(1024)  # the CRLF after the chunk


def make_server(gateway: Gateway, host: str, port: int) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "offline-http-api"
        # Headers and body go out in two writes; with Nagle on, the body waits for the
        # client's delayed ACK of the headers, about 40 ms on every keep-alive request.
        disable_nagle_algorithm = True

        def __getattr__(self, name: str) -> Any:
            # Any method reaches the router, which answers what no route serves with API
            # Gateway's 404 JSON; http.server would answer 501 in HTML.
            if name.startswith("do_"):
                return self._serve
            raise AttributeError(name)

        def _serve(self) -> None:
            started = time.monotonic()
            headers = list(self.headers.items())
            try:
                body = read_body(self.headers, self.rfile)
            except PayloadTooLarge as error:
                self._drain(error.unread)
                self._refuse(gateway.cors(gateway_error(413, "Request Entity Too Large"), headers))
                return
            except BadRequest:
                self._refuse(gateway.cors(gateway_error(400, "Bad Request"), headers))
                return
            path, _, query = self.path.partition("?")
            request = HttpRequest(
                method=self.command,
                raw_path=path,
                raw_query=query,
                headers=headers,
                body=body,
                source_ip=self.client_address[0],
                host=self.headers.get("host", f"{host}:{port}"),
            )
            response, route_key = gateway.handle(request)
            self._send(response)
            gateway.access_log(
                {
                    "method": self.command,
                    "path": path,
                    "routeKey": route_key,
                    "status": response.status,
                    "latencyMs": round((time.monotonic() - started) * 1000, 1),
                }
            )

        def _drain(self, declared: int) -> None:
            """Read what the client declared, up to twice the quota, so that it hears the 413
            rather than a reset while it is still sending."""
            left = min(declared, 2 * MAX_PAYLOAD_BYTES)
            while left > 0:
                read = self.rfile.read(min(left, 1 << 20))
                if not read:
                    return
                left -= len(read)

        def send_error(
            self, code: int, message: str | None = None, explain: str | None = None
        ) -> None:
            """http.server's own refusals (a malformed request line, headers too long) in
            API Gateway's JSON instead of HTML."""
            # A request line too malformed to parse leaves HTTP/0.9, which has no status line.
            self.request_version = "HTTP/1.1"
            try:
                phrase = HTTPStatus(code).phrase
            except ValueError:
                phrase = "Error"
            self._refuse(gateway_error(code, phrase))

        def _refuse(self, response: HttpResponse) -> None:
            """An answer before any route; the connection closes after it, and says so."""
            self.close_connection = True
            self._send(response)

        def _send(self, response: HttpResponse) -> None:
            self.send_response(response.status)
            names = {name.lower() for name, _ in response.headers}
            for name, value in response.headers:
                self.send_header(name, value)
            if "content-length" not in names:
                self.send_header("content-length", str(len(response.body)))
            if self.close_connection:
                self.send_header("connection", "close")
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(response.body)

        def log_message(self, format: str, *args: Any) -> None:
            pass  # the JSON access log above replaces the default lines

    server = Listener((host, port), Handler)
    server.daemon_threads = True
    return server
