"""USER_SRP_AUTH as a user pool runs it (offline/cognito/srp.py), through boto3 against moto
in-process: a client here computes its side as Cognito's client library does (the client's
formula, S = (B - k·g^x)^(a + u·x), not the pool's), and the right password signs in while a
wrong one, a badly written TIMESTAMP, a replayed or foreign challenge are refused as Cognito
refuses them. tests/integration/test_emulator_browsers.py signs in with the library itself."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from offline.cognito import rules as cognito_rules
from offline.cognito import srp

REGION = "eu-west-1"
PASSWORD = "Correct-Horse-9!"
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    monkeypatch.setenv("MOTO_COGNITO_IDP_USER_POOL_ENABLE_TOTP", "false")
    cognito_rules.install()
    with mock_aws():
        yield boto3.client("cognito-idp", region_name=REGION)


# --- The client's side, as amazon-cognito-identity-js computes it ------------------------------


def pad_hex(number: int) -> bytes:
    text = format(number, "x")
    text = "0" + text if len(text) % 2 else text
    return bytes.fromhex("00" + text if text[0] in "89abcdef" else text)


def sha(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def now_string(moment: datetime) -> str:
    """DateHelper.getNowString: `ddd MMM D HH:mm:ss UTC YYYY`, the day unpadded."""
    return (f"{WEEKDAYS[moment.weekday()]} {MONTHS[moment.month - 1]} {moment.day} "
            f"{moment:%H:%M:%S} UTC {moment.year}")  # fmt: skip


@dataclass
class Pool:
    cognito: Any
    pool_id: str
    client_id: str

    def user(self, name: str, password: str = PASSWORD) -> str:
        self.cognito.admin_create_user(
            UserPoolId=self.pool_id, Username=name, MessageAction="SUPPRESS"
        )
        self.cognito.admin_set_user_password(
            UserPoolId=self.pool_id, Username=name, Password=password, Permanent=True
        )
        return name

    def challenge(self, username: str, a_value: int) -> dict[str, Any]:
        return dict(
            self.cognito.initiate_auth(
                ClientId=self.client_id,
                AuthFlow="USER_SRP_AUTH",
                AuthParameters={"USERNAME": username, "SRP_A": format(a_value, "x")},
            )
        )

    def answer(
        self,
        challenge: dict[str, Any],
        a_secret: int,
        password: str,
        timestamp: str | None = None,
        username: str | None = None,
    ) -> dict[str, Any]:
        """The PASSWORD_VERIFIER answer the library sends, signed over `timestamp`."""
        parameters = challenge["ChallengeParameters"]
        n, g = srp.N, 2
        k = int.from_bytes(sha(pad_hex(n) + pad_hex(g)), "big")
        a_value = pow(g, a_secret, n)
        b_value, salt = int(parameters["SRP_B"], 16), int(parameters["SALT"], 16)
        user_id = parameters["USER_ID_FOR_SRP"]
        pool = self.pool_id.split("_")[1]
        u = int.from_bytes(sha(pad_hex(a_value) + pad_hex(b_value)), "big")
        x = int.from_bytes(sha(pad_hex(salt) + sha(f"{pool}{user_id}:{password}".encode())),
                           "big")  # fmt: skip
        shared = pow(b_value - k * pow(g, x, n), a_secret + u * x, n)
        prk = hmac.new(pad_hex(u), pad_hex(shared), hashlib.sha256).digest()
        key = hmac.new(prk, b"Caldera Derived Key\x01", hashlib.sha256).digest()[:16]
        signed_at = timestamp or now_string(datetime.now(UTC))
        block = parameters["SECRET_BLOCK"]
        message = pool.encode() + user_id.encode() + base64.b64decode(block) + signed_at.encode()
        signature = base64.b64encode(hmac.new(key, message, hashlib.sha256).digest()).decode()
        return dict(
            self.cognito.respond_to_auth_challenge(
                ClientId=self.client_id,
                ChallengeName="PASSWORD_VERIFIER",
                ChallengeResponses={
                    "USERNAME": username or user_id,
                    "PASSWORD_CLAIM_SECRET_BLOCK": block,
                    "TIMESTAMP": signed_at,
                    "PASSWORD_CLAIM_SIGNATURE": signature,
                },
            )
        )

    def sign_in(self, username: str, password: str, timestamp: str | None = None) -> dict:
        a_secret = secrets.randbits(1024)
        challenge = self.challenge(username, pow(2, a_secret, srp.N))
        return self.answer(challenge, a_secret, password, timestamp)


def make_pool(cognito: Any, **settings: Any) -> Pool:
    pool = cognito.create_user_pool(PoolName=unique("pool"), **settings)["UserPool"]["Id"]
    client = cognito.create_user_pool_client(
        UserPoolId=pool, ClientName="web",
        ExplicitAuthFlows=["ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
    )["UserPoolClient"]["ClientId"]  # fmt: skip
    return Pool(cognito, pool, client)


def refusal(caught: pytest.ExceptionInfo[ClientError]) -> tuple[str, str]:
    error = caught.value.response["Error"]
    return error["Code"], error["Message"]


# --- The flow ----------------------------------------------------------------------------------


def test_the_right_password_gets_the_tokens(aws: Any) -> None:
    pool = make_pool(aws)
    pool.user("ann")
    a_secret = secrets.randbits(1024)
    challenge = pool.challenge("ann", pow(2, a_secret, srp.N))
    assert challenge["ChallengeName"] == "PASSWORD_VERIFIER"
    parameters = challenge["ChallengeParameters"]
    assert set(parameters) == {"SALT", "SRP_B", "SECRET_BLOCK", "USERNAME", "USER_ID_FOR_SRP"}
    assert parameters["USER_ID_FOR_SRP"] == "ann"
    signed = pool.answer(challenge, a_secret, PASSWORD)
    token = signed["AuthenticationResult"]["AccessToken"]
    assert aws.get_user(AccessToken=token)["Username"] == "ann"


def test_a_wrong_password_is_refused_as_cognito_refuses_it(aws: Any) -> None:
    """moto's own flow signs this answer in: it takes any PASSWORD_CLAIM_SIGNATURE."""
    pool = make_pool(aws)
    pool.user("bo")
    a_secret = secrets.randbits(1024)
    challenge = pool.challenge("bo", pow(2, a_secret, srp.N))
    with pytest.raises(ClientError) as refused:
        pool.answer(challenge, a_secret, PASSWORD + "x", username="bo")
    assert refusal(refused) == ("NotAuthorizedException", "Incorrect username or password.")


def test_the_pool_signs_the_moment_as_it_writes_it(aws: Any) -> None:
    """The day unpadded: a client that signs `Wed Apr 05 ...` proves nothing."""
    pool = make_pool(aws)
    pool.user("cy")
    with pytest.raises(ClientError) as padded:
        pool.sign_in("cy", PASSWORD, timestamp="Wed Apr 05 22:42:34 UTC 2017")
    assert refusal(padded) == ("NotAuthorizedException", "Incorrect username or password.")
    signed = pool.sign_in("cy", PASSWORD, timestamp="Wed Apr 5 22:42:34 UTC 2017")
    assert signed["AuthenticationResult"]["AccessToken"]


@pytest.mark.parametrize(
    "timestamp",
    [
        "2017-04-05T22:42:34Z",  # not the format
        "Wed Apr 5 22:42:3 UTC 2017",  # seconds of one digit
        "Thu Apr 5 22:42:34 UTC 2017",  # the 5th of April 2017 was a Wednesday
        "Wed Apr 31 22:42:34 UTC 2017",  # no such day
        "Mi Apr 5 22:42:34 UTC 2017",  # not English
        "Wed Apr 5 22:42:34 +05:30 2017",  # an offset is not a zone
    ],
)
def test_a_timestamp_in_another_format_is_refused(aws: Any, timestamp: str) -> None:
    pool = make_pool(aws)
    pool.user("dee")
    with pytest.raises(ClientError) as refused:
        pool.sign_in("dee", PASSWORD, timestamp=timestamp)
    assert refusal(refused) == (
        "InvalidParameterException",
        "TIMESTAMP format should be EEE MMM d HH:mm:ss z yyyy in english.",
    )


def test_a_challenge_answers_one_attempt(aws: Any) -> None:
    pool = make_pool(aws)
    pool.user("eve")
    a_secret = secrets.randbits(1024)
    challenge = pool.challenge("eve", pow(2, a_secret, srp.N))
    with pytest.raises(ClientError):
        pool.answer(challenge, a_secret, "guess")
    with pytest.raises(ClientError) as again:
        pool.answer(challenge, a_secret, PASSWORD)
    assert refusal(again) == ("NotAuthorizedException", "Invalid session for the user.")
    signed = pool.answer(
        challenge := pool.challenge("eve", pow(2, a_secret, srp.N)), a_secret, PASSWORD
    )
    assert signed["AuthenticationResult"]["AccessToken"]
    with pytest.raises(ClientError) as replayed:
        pool.answer(challenge, a_secret, PASSWORD)
    assert refusal(replayed)[0] == "NotAuthorizedException"


def test_a_proof_is_for_the_challenged_user_only(aws: Any) -> None:
    """Mallory proves her own password in her own challenge and names Fay: refused."""
    pool = make_pool(aws)
    pool.user("fay")
    pool.user("mallory", "Mallory-Pass-1!")
    a_secret = secrets.randbits(1024)
    challenge = pool.challenge("mallory", pow(2, a_secret, srp.N))
    with pytest.raises(ClientError) as refused:
        pool.answer(challenge, a_secret, "Mallory-Pass-1!", username="fay")
    assert refusal(refused) == ("NotAuthorizedException", "Incorrect username or password.")


def test_no_session_exists_before_the_password_is_proved(aws: Any) -> None:
    """What InitiateAuth hands out cannot carry another challenge's answer (moto would set
    a new password with it)."""
    pool = make_pool(aws)
    pool.user("gus")
    challenge = pool.challenge("gus", pow(2, secrets.randbits(1024), srp.N))
    assert "Session" not in challenge
    with pytest.raises(ClientError):
        aws.respond_to_auth_challenge(
            ClientId=pool.client_id, ChallengeName="NEW_PASSWORD_REQUIRED",
            Session=challenge["ChallengeParameters"]["SECRET_BLOCK"],
            ChallengeResponses={"USERNAME": "gus", "NEW_PASSWORD": "Taken-Over-1!"},
        )  # fmt: skip
    assert pool.sign_in("gus", PASSWORD)["AuthenticationResult"]["AccessToken"]


def test_a_client_value_a_of_zero_modulo_n_is_refused(aws: Any) -> None:
    """RFC 5054 §2.5.4: with A = 0 mod N the pool's key would be known to anyone."""
    pool = make_pool(aws)
    pool.user("hal")
    for a_value in (0, srp.N, 2 * srp.N):
        with pytest.raises(ClientError) as refused:
            pool.challenge("hal", a_value)
        assert refusal(refused)[0] == "InvalidParameterException"
    with pytest.raises(ClientError) as missing:
        aws.initiate_auth(ClientId=pool.client_id, AuthFlow="USER_SRP_AUTH",
                          AuthParameters={"USERNAME": "hal"})  # fmt: skip
    assert refusal(missing) == ("InvalidParameterException", "Missing required parameter SRP_A")


def test_a_new_password_gets_a_new_salt_and_verifier(aws: Any) -> None:
    pool = make_pool(aws)
    pool.user("ida")
    before = pool.challenge("ida", 2)["ChallengeParameters"]["SALT"]
    aws.admin_set_user_password(UserPoolId=pool.pool_id, Username="ida",
                                Password="Another-Horse-8!", Permanent=True)  # fmt: skip
    assert pool.challenge("ida", 2)["ChallengeParameters"]["SALT"] != before
    with pytest.raises(ClientError):
        pool.sign_in("ida", PASSWORD)
    assert pool.sign_in("ida", "Another-Horse-8!")["AuthenticationResult"]["AccessToken"]


def test_with_mfa_required_the_proof_leads_to_the_setup_challenge(aws: Any) -> None:
    """The password proved, the flow goes on as the pool's MFA says (the setup challenge,
    whose session sets up TOTP)."""
    pool = make_pool(aws, MfaConfiguration="ON")
    aws.set_user_pool_mfa_config(UserPoolId=pool.pool_id, MfaConfiguration="ON",
                                 SoftwareTokenMfaConfiguration={"Enabled": True})  # fmt: skip
    pool.user("jo")
    with pytest.raises(ClientError):
        pool.sign_in("jo", "not it")
    setup = pool.sign_in("jo", PASSWORD)
    assert setup["ChallengeName"] == "MFA_SETUP"
    assert "AuthenticationResult" not in setup
    assert aws.associate_software_token(Session=setup["Session"])["SecretCode"]


# --- The pieces --------------------------------------------------------------------------------


def test_numbers_are_written_as_the_client_writes_them() -> None:
    assert srp.pad(0) == b"\x00"
    assert srp.pad(0x7F) == b"\x7f"
    assert srp.pad(0x80) == b"\x00\x80"
    assert srp.pad(0x1234) == b"\x12\x34"
    for number in (1, 0xFF, 0x100, srp.N, secrets.randbits(3072)):
        assert srp.pad(number) == pad_hex(number)


@pytest.mark.parametrize(
    ("given", "written"),
    [
        ("Wed Apr 5 22:42:34 UTC 2017", "Wed Apr 5 22:42:34 UTC 2017"),
        ("Wed Apr 05 22:42:34 UTC 2017", "Wed Apr 5 22:42:34 UTC 2017"),
        ("Wed Apr 5 22:42:34 GMT 2017", "Wed Apr 5 22:42:34 UTC 2017"),
        ("Thu Apr 6 00:12:34 GMT+01:30 2017", "Wed Apr 5 22:42:34 UTC 2017"),
        ("Wed Apr 5 22:42:34 PST 2017", ""),  # a zone read, but not converted here
    ],
)
def test_a_timestamp_is_read_and_written_back_in_utc(given: str, written: str) -> None:
    assert srp.canonical_timestamp(given) == written
