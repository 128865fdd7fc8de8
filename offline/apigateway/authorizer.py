"""The HTTP API's JWT authorizer, against the local user pool, checking what API Gateway
checks (https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-jwt-authorizer.html):
the signature with a key of the issuer's JWKS (by `kid`), then `iss`, `aud` (or `client_id`
when there is no `aud`), `exp`, `nbf` and `iat`, with joserfc's claims validation. A refusal
is a 401 whose `www-authenticate` says why, as API Gateway's does.
"""

from __future__ import annotations

import json
import urllib.request
from typing import Any

from joserfc import jwt
from joserfc.errors import ClaimError, ExpiredTokenError, JoseError
from joserfc.jwk import KeySet

from offline.apigateway.http_api import Authorizer

ALGORITHMS = ["RS256"]

# error_description per refused claim. API Gateway documents one wording, "the token does
# not have a valid audience" (http-api-troubleshooting-jwt.html); the others follow it.
DESCRIPTIONS = {
    "aud": "the token does not have a valid audience",
    "client_id": "the token does not have a valid audience",
    "iss": "the token does not have a valid issuer",
    "exp": "the token has expired",
    "nbf": "the token is not valid yet",
    "iat": "the token was issued in the future",
}


class Unauthorized(Exception):
    """A 401; `description` is None when no token was sent at all."""

    def __init__(self, description: str | None) -> None:
        super().__init__(description or "no token")
        self.description = description

    @property
    def challenge(self) -> str:
        """The `www-authenticate` value, in API Gateway's form
        (`Bearer scope="" error="invalid_token" error_description="..."`); a request without
        a token gets the bare scheme, as RFC 6750 section 3.1 asks."""
        if self.description is None:
            return "Bearer"
        return f'Bearer scope="" error="invalid_token" error_description="{self.description}"'


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

    def registry(self, claims: dict[str, Any]) -> jwt.JWTClaimsRegistry:
        # "API Gateway validates client_id only if aud is not present."
        audience = "aud" if "aud" in claims else "client_id"
        options: dict[str, jwt.ClaimsOption] = {
            "iss": {"essential": True, "value": self.authorizer.issuer},
            "exp": {"essential": True},
            audience: {"essential": True, "values": list(self.authorizer.audience)},
        }
        return jwt.JWTClaimsRegistry(None, 0, **options)  # now: the clock; leeway: none

    def verify(self, header_value: str | None) -> dict[str, Any]:
        if not header_value:
            raise Unauthorized(None)
        token = header_value.removeprefix("Bearer ").strip()
        try:
            claims = dict(jwt.decode(token, self.keys, algorithms=ALGORITHMS).claims)
        except (JoseError, ValueError, TypeError):
            raise Unauthorized("the token could not be verified") from None
        try:
            self.registry(claims).validate(claims)  # nbf and iat too, whenever present
        except ExpiredTokenError:
            raise Unauthorized(DESCRIPTIONS["exp"]) from None
        except ClaimError as error:
            claim = str(getattr(error, "claim", "") or "").split(",")[0]
            raise Unauthorized(
                DESCRIPTIONS.get(claim, f"the token has an invalid {claim}")
            ) from None
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
