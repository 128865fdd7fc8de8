"""TOTP as Cognito uses it: RFC 6238 with six digits, 30-second steps and HMAC-SHA1
(https://docs.aws.amazon.com/cognito/latest/developerguide/user-pool-settings-mfa-totp.html).
One home for both sides: the emulator's checks (offline/cognito/rules.py) and `make token`'s
codes (offline/stack/sign_in.py)."""

from __future__ import annotations

import base64
import secrets
import time

from cryptography.hazmat.primitives.hashes import SHA1
from cryptography.hazmat.primitives.twofactor import InvalidToken
from cryptography.hazmat.primitives.twofactor.totp import TOTP

DIGITS, STEP = 6, 30
# Codes one step either side are accepted: the transmission delay RFC 6238 section 5.2
# advises allowing.
WINDOW = 1


def new_secret() -> str:
    """A 160-bit key in base32 without padding, as Cognito's SecretCode comes."""
    return base64.b32encode(secrets.token_bytes(20)).decode().rstrip("=")


def _generator(secret: str) -> TOTP:
    key = base64.b32decode(secret.upper() + "=" * (-len(secret) % 8))
    return TOTP(key, DIGITS, SHA1(), STEP, enforce_key_length=False)


def code(secret: str, at: float | None = None) -> str:
    return _generator(secret).generate(int(time.time() if at is None else at)).decode()


def matches(secret: str, given: str, at: float | None = None) -> bool:
    generator = _generator(secret)
    now = time.time() if at is None else at
    for step in range(-WINDOW, WINDOW + 1):
        try:
            generator.verify(given.encode(), int(now + step * STEP))
        except InvalidToken:
            continue
        return True
    return False
