"""The local HTTP API: routes, JWT authorizer, CORS and limits from the template, the real
handlers behind it."""

from __future__ import annotations

import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from offline.api import HttpApi
from offline.auth import JwtVerifier, Unauthorized, as_passed_through
from offline.functions import Functions, InvocationError, InvocationTimeout
from offline.payload import HttpRequest, HttpResponse, build_event, gateway_error, map_response

# HTTP API quotas: the request payload, and how long an integration may take.
MAX_PAYLOAD_BYTES = 10 * 1024 * 1024
INTEGRATION_TIMEOUT_S = 30
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")


class Gateway:
    def __init__(
        self, api: HttpApi, verifiers: dict[str, JwtVerifier], functions: Functions, api_id: str
    ) -> None:
        self.api = api
        self.verifiers = verifiers
        self.functions = functions
        self.api_id = api_id
        self._log_lock = threading.Lock()

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
            return self._cors(gateway_error(404, "Not Found"), origin), "-"
        route, path_parameters = found
        claims = None
        if route.authorizer:
            verifier = self.verifiers[route.authorizer]
            try:
                claims = as_passed_through(
                    verifier.verify(_header(request, verifier.authorizer.identity_header))
                )
            except Unauthorized:
                return self._cors(gateway_error(401, "Unauthorized"), origin), route.key
        event = build_event(request, route.key, path_parameters, claims, self.api_id)
        function = self.functions.by_logical_id[route.function]
        timeout = min(INTEGRATION_TIMEOUT_S, function.config.timeout_s + 1)
        try:
            result = function.invoke(event, timeout)
            response = map_response(result)
        except InvocationTimeout:
            response = gateway_error(504, "Service Unavailable")
        except (InvocationError, ValueError, TypeError):
            response = gateway_error(500, "Internal Server Error")
        return self._cors(response, origin), route.key

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


def make_server(gateway: Gateway, host: str, port: int) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "offline-http-api"
        # Headers and body go out in two writes; with Nagle on, the body waits for the
        # client's delayed ACK of the headers, about 40 ms on every keep-alive request.
        disable_nagle_algorithm = True

        def _serve(self) -> None:
            started = time.monotonic()
            length = int(self.headers.get("content-length") or 0)
            if length > MAX_PAYLOAD_BYTES:
                self._send(gateway_error(413, "Request Entity Too Large"))
                self.close_connection = True
                return
            path, _, query = self.path.partition("?")
            request = HttpRequest(
                method=self.command,
                raw_path=path,
                raw_query=query,
                headers=list(self.headers.items()),
                body=self.rfile.read(length) if length else b"",
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

        def _send(self, response: HttpResponse) -> None:
            self.send_response(response.status)
            names = {name.lower() for name, _ in response.headers}
            for name, value in response.headers:
                self.send_header(name, value)
            if "content-length" not in names:
                self.send_header("content-length", str(len(response.body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(response.body)

        def log_message(self, format: str, *args: Any) -> None:
            pass  # the JSON access log above replaces the default lines

    for method in METHODS:
        setattr(Handler, f"do_{method}", Handler._serve)
    server = Listener((host, port), Handler)
    server.daemon_threads = True
    return server
