"""The HTTP API's JWT authorizer, against the local user pool: the signature from the pool's
JWKS, then issuer, audience (or client id), expiry and token use. Any failure is a 401."""

from __future__ import annotations

import json
import time
import urllib.request
from typing import Any

from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from offline.api import Authorizer

ALGORITHMS = ["RS256"]


class Unauthorized(Exception):
    pass


def fetch_jwks(endpoint_url: str, issuer: str) -> KeySet:
    """The pool's JWKS from the emulator, as API Gateway fetches it from Cognito."""
    host, pool_id = issuer.removeprefix("https://").split("/", 1)
    request = urllib.request.Request(
        f"{endpoint_url}/{pool_id}/.well-known/jwks.json", headers={"Host": host}
    )
    with urllib.request.urlopen(request, timeout=5) as response:
        return KeySet.import_key_set(json.loads(response.read()))


class JwtVerifier:
    def __init__(self, authorizer: Authorizer, keys: KeySet) -> None:
        self.authorizer = authorizer
        self.keys = keys

    def verify(self, header_value: str | None) -> dict[str, Any]:
        if not header_value:
            raise Unauthorized("no token")
        token = header_value.removeprefix("Bearer ").strip()
        try:
            claims = jwt.decode(token, self.keys, algorithms=ALGORITHMS).claims
        except (JoseError, ValueError, TypeError) as error:
            raise Unauthorized(f"bad token: {error}") from None
        if claims.get("iss") != self.authorizer.issuer:
            raise Unauthorized("issuer")
        exp = claims.get("exp")
        if not isinstance(exp, (int, float)) or exp <= time.time():
            raise Unauthorized("expired")
        use = claims.get("token_use")
        audience = claims.get("client_id") if use == "access" else claims.get("aud")
        if use not in ("access", "id") or audience not in self.authorizer.audience:
            raise Unauthorized("audience")
        return claims


def as_passed_through(claims: dict[str, Any]) -> dict[str, str]:
    """API Gateway hands claims to the function as strings; lists become `[a b]`."""
    passed = {}
    for name, value in claims.items():
        if isinstance(value, list):
            passed[name] = "[" + " ".join(str(v) for v in value) + "]"
        elif isinstance(value, bool):
            passed[name] = str(value).lower()
        else:
            passed[name] = str(value)
    return passed
