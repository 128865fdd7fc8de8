"""Cognito's USER_SRP_AUTH, the user pool's side, so that a password sign-in proves the
password without sending it, and a wrong one is refused. moto's flow answers a random SRP_B
and SALT and accepts any PASSWORD_CLAIM_SIGNATURE.

The flow (https://docs.aws.amazon.com/cognito/latest/developerguide/amazon-cognito-user-pools-authentication-flow-methods.html#amazon-cognito-user-pools-authentication-flow-methods-srp):
InitiateAuth with USER_SRP_AUTH takes USERNAME and SRP_A
(https://docs.aws.amazon.com/cognito-user-identity-pools/latest/APIReference/API_InitiateAuth.html)
and answers the PASSWORD_VERIFIER challenge with SALT, SRP_B, SECRET_BLOCK, USERNAME and
USER_ID_FOR_SRP; RespondToAuthChallenge answers it with PASSWORD_CLAIM_SIGNATURE,
PASSWORD_CLAIM_SECRET_BLOCK, TIMESTAMP and USERNAME
(https://docs.aws.amazon.com/cognito-user-identity-pools/latest/APIReference/API_RespondToAuthChallenge.html).
A wrong signature is NotAuthorizedException "Incorrect username or password."
(https://docs.aws.amazon.com/cognito-user-identity-pools/latest/APIReference/API_RespondToAuthChallenge.html#API_RespondToAuthChallenge_Errors).

The arithmetic is SRP-6a (RFC 5054, https://www.rfc-editor.org/rfc/rfc5054) with its 3072-bit
group, g = 2 and SHA-256, as Cognito's own client library computes it (amazon-cognito-identity-js,
AuthenticationHelper.js: https://github.com/aws-amplify/amplify-js/blob/main/packages/amazon-cognito-identity-js/src/AuthenticationHelper.js),
numbers written as that library's padHex writes them (big-endian, a zero byte first when the
top bit is set):
- k = H(N | g); the user's salt s and verifier v = g^x, x = H(s | H(pool | user | ":" |
  password)), where pool is the pool id after its "_" and user is USER_ID_FOR_SRP; a new salt
  and verifier whenever the password changes;
- B = k·v + g^b for a random b; a client's A with A mod N = 0 is refused (RFC 5054 §2.5.4:
  "The host MUST abort the authentication attempt if A % N is zero");
- u = H(A | B), S = (A·v^u)^b, the key HKDF-SHA256(S, salt u, info "Caldera Derived Key"),
  16 bytes; the signature HMAC-SHA256(key, pool | user | SECRET_BLOCK's bytes | TIMESTAMP).

TIMESTAMP must read as `EEE MMM d HH:mm:ss z yyyy` in English, else InvalidParameterException
"TIMESTAMP format should be EEE MMM d HH:mm:ss z yyyy in english."
(https://github.com/amazon-archives/amazon-cognito-identity-js/issues/683; "15:56:9" is
refused there: each of HH, mm and ss takes two digits). The pool signs the moment as it writes
it, in UTC with the day unpadded, so a client that signs "Wed Apr 05 ..." is refused as a wrong
password (https://github.com/qwigo/warrant/pull/12). The pool's SECRET_BLOCK answers one
attempt, right or wrong; no session exists until the password is proved.

Not modelled: how long a challenge stays open, a limit on failed attempts, remembered devices
(DEVICE_KEY) and the client secret's SECRET_HASH in the challenge answer.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from moto.cognitoidp.exceptions import (
    InvalidParameterException,
    NotAuthorizedError,
    ResourceNotFoundError,
    UserNotFoundError,
)
from moto.cognitoidp.models import CognitoIdpBackend

from offline.common.patching import wrap

# RFC 5054's 3072-bit group (Appendix A), the one Cognito's clients use.
N = int(
    "FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74020BBEA63B139B22514A0879"
    "8E3404DDEF9519B3CD3A431B302B0A6DF25F14374FE1356D6D51C245E485B576625E7EC6F44C42E9A637ED6B"
    "0BFF5CB6F406B7EDEE386BFB5A899FA5AE9F24117C4B1FE649286651ECE45B3DC2007CB8A163BF0598DA4836"
    "1C55D39A69163FA8FD24CF5F83655D23DCA3AD961C62F356208552BB9ED529077096966D670C354E4ABC9804"
    "F1746C08CA18217C32905E462E36CE3BE39E772C180E86039B2783A2EC07A28FB5C55DF06F4C52C9DE2BCBF6"
    "955817183995497CEA956AE515D2261898FA051015728E5A8AAAC42DAD33170D04507A33A85521ABDF1CBA64"
    "ECFB850458DBEF0A8AEA71575D060C7DB3970F85A6E1E4C7ABF5AE8CDB0933D71E8C94E04A25619DCEE3D226"
    "1AD2EE6BF12FFA06D98A0864D87602733EC86A64521F2B18177B200CBBE117577A615D6C770988C0BAD946E2"
    "08E24FA074E5AB3143DB5BFCE0FD108E4B82D120A93AD2CAFFFFFFFFFFFFFFFF",
    16,
)
G = 2
INFO = b"Caldera Derived Key"
WRONG_PASSWORD = "Incorrect username or password."
BAD_TIMESTAMP = "TIMESTAMP format should be EEE MMM d HH:mm:ss z yyyy in english."
BAD_SESSION = "Invalid session for the user."
SALT_BYTES, SECRET_BYTES, BLOCK_BYTES = 16, 32, 64
# Kept with moto's state (and so in a saved snapshot): the verifier on moto's user, the open
# challenges on the backend.
VERIFIER, CHALLENGES = "offline_srp_verifier", "offline_srp_challenges"
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
# Java's `EEE MMM d HH:mm:ss z yyyy`, read strictly: English short names, a day of one or two
# digits, two digits each for the time; a zone name, or GMT with an offset.
TIMESTAMP = re.compile(
    r"(?P<weekday>[A-Z][a-z]{2}) (?P<month>[A-Z][a-z]{2}) (?P<day>\d{1,2}) "
    r"(?P<hour>\d{2}):(?P<minute>\d{2}):(?P<second>\d{2}) "
    r"(?P<zone>[A-Za-z]+|GMT[+-]\d{2}:\d{2}) (?P<year>\d{4})"
)
UTC_NAMES = frozenset({"UTC", "GMT"})


class InvalidTimestamp(ValueError):
    pass


def pad(number: int) -> bytes:
    """A number as the client hashes it: big-endian bytes, with a zero byte first when the top
    bit is set (padHex's two's-complement sign)."""
    raw = number.to_bytes(max(1, (number.bit_length() + 7) // 8), "big")
    return b"\x00" + raw if raw[0] & 0x80 else raw


def _hash(*parts: bytes) -> bytes:
    return hashlib.sha256(b"".join(parts)).digest()


def _number(digest: bytes) -> int:
    return int.from_bytes(digest, "big")


K = _number(_hash(pad(N), pad(G)))


def pool_name(pool_id: str) -> str:
    """The part of a pool id the client hashes: `us-east-1_AbC` -> `AbC`."""
    return pool_id.split("_", 1)[1]


def verifier(pool: str, user_id: str, password: str, salt: int) -> int:
    inner = _hash(f"{pool}{user_id}:{password}".encode())
    return pow(G, _number(_hash(pad(salt), inner)), N)


def password_key(a_value: int, b_value: int, b_secret: int, verifier_value: int) -> bytes:
    """The 16-byte key both sides derive; the host's S = (A·v^u)^b."""
    u = _number(_hash(pad(a_value), pad(b_value)))
    shared = pow(a_value * pow(verifier_value, u, N) % N, b_secret, N)
    prk = hmac.new(pad(u), pad(shared), hashlib.sha256).digest()
    return hmac.new(prk, INFO + b"\x01", hashlib.sha256).digest()[:16]


def claim_signature(key: bytes, pool: str, user_id: str, block: str, timestamp: str) -> bytes:
    message = pool.encode() + user_id.encode() + base64.b64decode(block) + timestamp.encode()
    return hmac.new(key, message, hashlib.sha256).digest()


def canonical_timestamp(text: str) -> str:
    """The moment TIMESTAMP names as the pool writes it (`Wed Apr 5 22:42:34 UTC 2017`);
    InvalidTimestamp if it is not `EEE MMM d HH:mm:ss z yyyy` in English. A zone other than
    UTC or a GMT offset reads, but names a moment this emulator does not convert: no
    signature then matches."""
    match = TIMESTAMP.fullmatch(text)
    if match is None or match["weekday"] not in WEEKDAYS or match["month"] not in MONTHS:
        raise InvalidTimestamp(text)
    zone = match["zone"]
    if zone.startswith("GMT") and len(zone) > 3:
        sign = -1 if zone[3] == "-" else 1
        offset = timedelta(hours=int(zone[4:6]), minutes=int(zone[7:9])) * sign
    else:
        offset = timedelta(0)
    try:
        moment = datetime(
            int(match["year"]), MONTHS.index(match["month"]) + 1, int(match["day"]),
            int(match["hour"]), int(match["minute"]), int(match["second"]),
            tzinfo=timezone(offset),
        )  # fmt: skip
    except ValueError as error:  # the 31st of April, hour 25, ...
        raise InvalidTimestamp(text) from error
    if WEEKDAYS[moment.weekday()] != match["weekday"]:  # a day of the week the date is not
        raise InvalidTimestamp(text)
    if zone.isalpha() and zone not in UTC_NAMES:
        return ""  # some other zone's moment: written in UTC it is another string
    utc = moment.astimezone(UTC)
    month = MONTHS[utc.month - 1]
    return f"{WEEKDAYS[utc.weekday()]} {month} {utc.day} {utc:%H:%M:%S} UTC {utc.year}"


@dataclass
class Challenge:
    """An open PASSWORD_VERIFIER challenge: whose, and the host's half of the exchange."""

    pool_id: str
    username: str
    a_value: int
    b_secret: int
    b_value: int
    verifier: int


def _missing(name: str) -> InvalidParameterException:
    return InvalidParameterException(f"Missing required parameter {name}")


def _verifier_of(user: Any, pool: str) -> tuple[int, int]:
    """The user's salt and verifier, made anew when the password changed."""
    password = user.password or secrets.token_hex(SECRET_BYTES)  # no password: nothing matches
    fingerprint = hashlib.sha256(password.encode()).hexdigest()
    kept = getattr(user, VERIFIER, None)
    if kept is None or kept[0] != fingerprint:
        salt = _number(secrets.token_bytes(SALT_BYTES))
        kept = (fingerprint, salt, verifier(pool, user.username, password, salt))
        setattr(user, VERIFIER, kept)
    return kept[1], kept[2]


def _challenges(backend: CognitoIdpBackend) -> dict[str, Challenge]:
    challenges: dict[str, Challenge] = vars(backend).setdefault(CHALLENGES, {})
    return challenges


def _client_a(text: str) -> int:
    try:
        a_value = int(text, 16)
    except ValueError:
        raise InvalidParameterException() from None
    if a_value % N == 0:
        raise InvalidParameterException()
    return a_value


def _challenged(original: Any) -> Any:
    def initiate_auth(
        self: CognitoIdpBackend, client_id: str, auth_flow: str, auth_parameters: dict[str, str]
    ) -> dict[str, Any]:
        if auth_flow != "USER_SRP_AUTH":
            return dict(original(self, client_id, auth_flow, auth_parameters))
        parameters = auth_parameters or {}
        for name in ("USERNAME", "SRP_A"):
            if not parameters.get(name):
                raise _missing(name)
        answer = dict(original(self, client_id, auth_flow, parameters))
        # moto opened a session for the user: none exists until the password is proved.
        self.sessions.pop(answer.pop("Session", None), None)
        a_value = _client_a(parameters["SRP_A"])
        pool = next(p for p in self.user_pools.values() if client_id in p.clients)
        user = self.admin_get_user(pool.id, parameters["USERNAME"])
        salt, verifier_value = _verifier_of(user, pool_name(pool.id))
        b_secret = secrets.randbelow(N - 2) + 1
        b_value = (K * verifier_value + pow(G, b_secret, N)) % N
        block = base64.b64encode(secrets.token_bytes(BLOCK_BYTES)).decode()
        _challenges(self)[block] = Challenge(
            pool.id, user.username, a_value, b_secret, b_value, verifier_value
        )
        return {
            "ChallengeName": "PASSWORD_VERIFIER",
            "ChallengeParameters": {
                "SALT": format(salt, "x"),
                "SRP_B": format(b_value, "x"),
                "SECRET_BLOCK": block,
                "USERNAME": user.username,
                "USER_ID_FOR_SRP": user.username,
            },
        }

    return initiate_auth


def _verified(original: Any) -> Any:
    def respond_to_auth_challenge(
        self: CognitoIdpBackend,
        session: str,
        client_id: str,
        challenge_name: str,
        challenge_responses: dict[str, str],
    ) -> dict[str, Any]:
        if challenge_name != "PASSWORD_VERIFIER":
            return dict(original(self, session, client_id, challenge_name, challenge_responses))
        responses = dict(challenge_responses or {})
        for name in ("USERNAME", "PASSWORD_CLAIM_SECRET_BLOCK", "PASSWORD_CLAIM_SIGNATURE",
                     "TIMESTAMP"):  # fmt: skip
            if not responses.get(name):
                raise _missing(name)
        block = responses["PASSWORD_CLAIM_SECRET_BLOCK"]
        challenge = _challenges(self).pop(block, None)  # one attempt, right or wrong
        if challenge is None:
            raise NotAuthorizedError(BAD_SESSION)
        pool = self.describe_user_pool(challenge.pool_id)
        if client_id not in pool.clients:
            raise ResourceNotFoundError(client_id)
        try:
            named = self.admin_get_user(pool.id, responses["USERNAME"]).username
        except UserNotFoundError:
            named = None
        if named != challenge.username:  # the proof is for the challenge's user only
            raise NotAuthorizedError(WRONG_PASSWORD)
        try:
            signed = canonical_timestamp(responses["TIMESTAMP"])
        except InvalidTimestamp:
            raise InvalidParameterException(BAD_TIMESTAMP) from None
        key = password_key(
            challenge.a_value, challenge.b_value, challenge.b_secret, challenge.verifier
        )
        expected = claim_signature(key, pool_name(pool.id), challenge.username, block, signed)
        try:
            given = base64.b64decode(responses["PASSWORD_CLAIM_SIGNATURE"], validate=True)
        except binascii.Error:
            given = b""
        if not signed or not hmac.compare_digest(expected, given):
            raise NotAuthorizedError(WRONG_PASSWORD)
        # Proved: the challenge's block is now the session moto's flow continues with (to the
        # tokens, NEW_PASSWORD_REQUIRED or an MFA challenge).
        self.sessions[block] = (challenge.username, pool)
        responses["USERNAME"] = challenge.username
        return dict(original(self, block, client_id, challenge_name, responses))

    return respond_to_auth_challenge


def install() -> None:
    wrap(CognitoIdpBackend, "initiate_auth", _challenged)
    wrap(CognitoIdpBackend, "respond_to_auth_challenge", _verified)
