"""The local gateway's own rules, as API Gateway applies them: the JWT authorizer's claims
(http-api-jwt-authorizer.html) and how a request body is read."""

from __future__ import annotations

import io
import json
import select
import socket
import time
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import SimpleNamespace
from typing import Any

import pytest
from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey

from offline.apigateway.authorizer import JwtVerifier, Unauthorized
from offline.apigateway.gateway import (
    MAX_PAYLOAD_BYTES,
    BadRequest,
    Gateway,
    Listener,
    PayloadTooLarge,
    read_body,
)
from offline.apigateway.http_api import Authorizer, HttpApi, Route, _pattern
from offline.apigateway.payload import HttpRequest
from offline.lambda_.sandbox_pool import InvocationError, InvocationTimeout

ISSUER = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_pool"
CLIENT = "client-1"
KEY = RSAKey.generate_key(2048, parameters={"kid": "k1"})
VERIFIER = JwtVerifier(
    Authorizer("CognitoJwt", ISSUER, (CLIENT,), "authorization"),
    KeySet([RSAKey.import_key(KEY.as_dict(private=False))]),
)


def token(**claims: Any) -> str:
    now = int(time.time())
    base = {"iss": ISSUER, "sub": "alice", "client_id": CLIENT, "token_use": "access",
            "iat": now, "exp": now + 600}  # fmt: skip
    base.update(claims)
    return jwt.encode({"alg": "RS256", "kid": "k1"}, {k: v for k, v in base.items()
                                                      if v is not None}, KEY)  # fmt: skip


def refusal(value: str | None) -> str:
    with pytest.raises(Unauthorized) as refused:
        VERIFIER.verify(value)
    return refused.value.challenge


def test_a_valid_access_token_passes_with_or_without_the_bearer_prefix() -> None:
    for prefix in ("Bearer ", ""):
        assert VERIFIER.verify(prefix + token())["sub"] == "alice"


def test_each_claim_api_gateway_checks_is_checked() -> None:
    now = int(time.time())
    cases = {
        "the token has expired": token(exp=now - 1),
        "the token is not valid yet": token(nbf=now + 300),
        "the token was issued in the future": token(iat=now + 300),
        "the token does not have a valid issuer": token(iss=ISSUER + "x"),
        "the token does not have a valid audience": token(client_id="another-client"),
    }
    for description, value in cases.items():
        assert refusal(f"Bearer {value}") == (
            f'Bearer scope="" error="invalid_token" error_description="{description}"'
        )


def test_aud_is_checked_when_present_and_client_id_only_without_it() -> None:
    """'API Gateway validates client_id only if aud is not present. When both aud and
    client_id are present, API Gateway evaluates aud' (http-api-troubleshooting-jwt.html)."""
    assert VERIFIER.verify(token(aud=CLIENT, client_id="ignored"))["sub"] == "alice"
    assert "valid audience" in refusal(token(aud="someone-else", client_id=CLIENT))


def test_no_token_is_the_bare_scheme_and_garbage_a_verification_failure() -> None:
    assert refusal(None) == "Bearer"
    assert "could not be verified" in refusal("Bearer not.a.jwt")
    other = RSAKey.generate_key(2048, parameters={"kid": "k1"})
    forged = jwt.encode({"alg": "RS256", "kid": "k1"}, {"iss": ISSUER, "sub": "x"}, other)
    assert "could not be verified" in refusal(forged)


def headers(**values: str) -> Message:
    message = Message()
    for name, value in values.items():
        message[name.replace("_", "-")] = value
    return message


def test_a_body_is_read_by_its_length_or_by_its_chunks() -> None:
    assert read_body(headers(content_length="5"), io.BytesIO(b"hello, more")) == b"hello"
    chunked = io.BytesIO(b"5\r\nhello\r\n7;ext=1\r\n, world\r\n0\r\nTrailer: x\r\n\r\n")
    assert read_body(headers(transfer_encoding="chunked"), chunked) == b"hello, world"
    assert read_body(headers(), io.BytesIO(b"")) == b""


@pytest.mark.parametrize("length", ["abc", "-1", "1e3", " "])
def test_a_length_that_cannot_be_is_a_bad_request_at_once(length: str) -> None:
    with pytest.raises(BadRequest):
        read_body(headers(content_length=length), io.BytesIO(b""))


def test_bodies_over_the_quota_are_refused_before_they_are_read() -> None:
    with pytest.raises(PayloadTooLarge):
        read_body(headers(content_length=str(MAX_PAYLOAD_BYTES + 1)), io.BytesIO(b""))
    oversized = f"{MAX_PAYLOAD_BYTES + 1:x}\r\n".encode()
    with pytest.raises(PayloadTooLarge):
        read_body(headers(transfer_encoding="chunked"), io.BytesIO(oversized))
    with pytest.raises(BadRequest):
        read_body(headers(transfer_encoding="chunked"), io.BytesIO(b"zz\r\n"))


class Stopped:
    """A function the worker pool reports as failed, the way `reason` says."""

    def __init__(self, reason: Exception) -> None:
        self.reason = reason
        self.config = SimpleNamespace(timeout_s=3)

    def invoke(self, event: dict[str, Any], timeout_s: float) -> Any:
        raise self.reason


@pytest.mark.parametrize(
    "reason", [InvocationTimeout("past 3 s"), InvocationError("crashed")], ids=["timeout", "error"]
)
def test_a_function_that_times_out_or_fails_is_api_gateways_500(reason: Exception) -> None:
    """Lambda ends a function at its timeout and reports an error; API Gateway answers that
    500 {"message": "Internal Server Error"}, as it does a crash, never 504."""
    route = Route("GET", "/slow", "Slow", None, "2.0", _pattern("/slow"))
    functions = SimpleNamespace(by_logical_id={"Slow": Stopped(reason)})
    gateway = Gateway(HttpApi((route,), {}, None), {}, functions, "api-1")  # type: ignore[arg-type]
    request = HttpRequest("GET", "/slow", "", [], b"", "127.0.0.1", "127.0.0.1:3000")
    response, key = gateway.handle(request)
    assert (response.status, json.loads(response.body), key) == (
        500,
        {"message": "Internal Server Error"},
        "GET /slow",
    )


def handshakes_before_any_accept(listener: type[ThreadingHTTPServer], clients: int = 64) -> int:
    """Clients that connect at once while the server accepts nothing yet: the kernel completes
    only as many handshakes as the listen backlog holds and drops the rest's SYNs."""
    server = listener(("127.0.0.1", 0), BaseHTTPRequestHandler)
    sockets = [socket.socket() for _ in range(clients)]
    try:
        for client in sockets:
            client.setblocking(False)
            client.connect_ex(server.server_address[:2])
        _, writable, _ = select.select([], sockets, [], 0.5)
        return sum(s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) == 0 for s in writable)
    finally:
        for client in sockets:
            client.close()
        server.server_close()


def test_a_burst_of_64_new_connections_fits_the_listen_backlog() -> None:
    assert handshakes_before_any_accept(Listener) == 64

    class DefaultBacklog(Listener):
        request_queue_size = ThreadingHTTPServer.request_queue_size  # socketserver's 5

    assert handshakes_before_any_accept(DefaultBacklog) < 64
