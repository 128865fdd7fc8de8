"""The local gateway's own rules, as API Gateway applies them: the JWT authorizer's claims
(http-api-jwt-authorizer.html) and how a request body is read."""

from __future__ import annotations

import io
import time
from email.message import Message
from typing import Any

import pytest
from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey

from offline.api import Authorizer
from offline.auth import JwtVerifier, Unauthorized
from offline.gateway import MAX_PAYLOAD_BYTES, BadRequest, PayloadTooLarge, read_body

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
