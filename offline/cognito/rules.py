"""Cognito user pool rules moto does not keep, as the user pools API enforces them:

- A new pool is on the Essentials feature plan unless it names another ("The default plan
  selection for new user pools is Essentials",
  https://docs.aws.amazon.com/cognito/latest/developerguide/cognito-sign-in-feature-plans.html),
  and DescribeUserPool says so in UserPoolTier.
- Threat protection (`UserPoolAddOns.AdvancedSecurityMode` AUDIT or ENFORCED) needs the Plus
  feature plan: "Threat protection is available in the Plus feature plan"
  (https://docs.aws.amazon.com/cognito/latest/developerguide/cognito-user-pool-settings-threat-protection.html;
  UserPoolAddOnsType: "To activate this setting, your user pool must be on the Plus tier",
  https://docs.aws.amazon.com/cognito-user-identity-pools/latest/APIReference/API_UserPoolAddOnsType.html).
  CreateUserPool and UpdateUserPool refuse it otherwise with FeatureUnavailableInTierException
  (https://docs.aws.amazon.com/cognito-user-identity-pools/latest/APIReference/API_CreateUserPool.html#API_CreateUserPool_Errors),
  in the words AWS answers with.
- UpdateUserPool sets what it is given, and the defaults for what it is not
  (https://docs.aws.amazon.com/cognito-user-identity-pools/latest/APIReference/API_UpdateUserPool.html),
  but keeps what only CreateUserPool takes (its username and alias attributes), and applies
  its MfaConfiguration; moto resets the former and ignores the latter.
- With MFA required (`MfaConfiguration: ON`), "all users must complete MFA to sign in. To sign
  in, each user must set up at least one MFA factor"
  (https://docs.aws.amazon.com/cognito/latest/developerguide/user-pool-settings-mfa.html): a
  password sign-in of a user with no factor answers the MFA_SETUP challenge instead of tokens,
  in every password flow (moto signs such a user straight in). A user with TOTP set up answers
  SOFTWARE_TOKEN_MFA wherever MFA is ON or OPTIONAL, whatever moto's preferred-MFA flag says
  ("After you set up software token MFA for your user, Amazon Cognito generates a
  SOFTWARE_TOKEN_MFA challenge when they authenticate",
  https://docs.aws.amazon.com/cognito-user-identity-pools/latest/APIReference/API_AssociateSoftwareToken.html).
- AssociateSoftwareToken needs TOTP turned on for the pool (SoftwareTokenMFANotFoundException,
  "Software Token MFA has not been enabled by the userPool":
  https://docs.aws.amazon.com/cognito/latest/developerguide/user-pool-settings-mfa-totp.html),
  and returns "a unique private key that Amazon Cognito generates" (API_AssociateSoftwareToken):
  a fresh random secret per call, kept for that user. moto hands every user one fixed secret.
- VerifySoftwareToken checks the code against that secret, refuses a wrong one with
  EnableSoftwareTokenMFAException ("a code mismatch and the service fails to configure the
  software token TOTP",
  https://docs.aws.amazon.com/cognito-user-identity-pools/latest/APIReference/API_VerifySoftwareToken.html#API_VerifySoftwareToken_Errors)
  and, verified, makes it the user's secret, replacing any earlier one ("Amazon Cognito
  disassociates an existing software token when you verify the new token",
  API_AssociateSoftwareToken).
- The SOFTWARE_TOKEN_MFA answer is checked against the user's secret, a wrong code refused with
  CodeMismatchException
  (https://docs.aws.amazon.com/cognito-user-identity-pools/latest/APIReference/API_RespondToAuthChallenge.html#API_RespondToAuthChallenge_Errors);
  completing MFA_SETUP needs the token verified first, and makes TOTP the user's MFA
  (https://docs.aws.amazon.com/cognito/latest/developerguide/user-pool-settings-mfa-totp.html).

Codes are checked as offline/cognito/totp.py computes them, one step either side of the current one.
moto's own TOTP checks (MOTO_COGNITO_IDP_USER_POOL_ENABLE_TOTP, against its fixed
secret) are switched off: these checks replace them.

install() also installs USER_SRP_AUTH's password proof (offline/cognito/srp.py).
"""

from __future__ import annotations

import json
import os
import uuid
from typing import Any

from moto.cognitoidp.exceptions import (
    CodeMismatchException,
    InvalidParameterException,
    NotAuthorizedError,
)
from moto.cognitoidp.models import CognitoIdpBackend
from moto.core.exceptions import JsonRESTError

from offline.cognito import srp, totp
from offline.common.patching import wrap

THREAT_PROTECTION_MODES = frozenset({"AUDIT", "ENFORCED"})
DEFAULT_TIER = "ESSENTIALS"
# CreateUserPool's parameters that UpdateUserPool does not take: set once, kept by an update.
CREATE_ONLY = ("AliasAttributes", "UsernameAttributes", "UsernameConfiguration")
ADMIN_PASSWORD_FLOWS = frozenset({"ADMIN_USER_PASSWORD_AUTH", "ADMIN_NO_SRP_AUTH"})
# Where a user's TOTP secrets live, on moto's user object (kept with moto's state).
PENDING, SECRET = "offline_totp_pending", "offline_totp_secret"


class FeatureUnavailableInTier(JsonRESTError):
    def __init__(self, message: str) -> None:
        super().__init__("FeatureUnavailableInTierException", message)


class SoftwareTokenMfaNotFound(JsonRESTError):
    def __init__(self, message: str) -> None:
        super().__init__("SoftwareTokenMFANotFoundException", message)


class EnableSoftwareTokenMfa(JsonRESTError):
    def __init__(self, message: str) -> None:
        super().__init__("EnableSoftwareTokenMFAException", message)


# --- Feature plans -----------------------------------------------------------------------------


def _check_tier(config: dict[str, Any]) -> None:
    mode = (config.get("UserPoolAddOns") or {}).get("AdvancedSecurityMode", "OFF")
    tier = config.get("UserPoolTier") or DEFAULT_TIER
    if mode in THREAT_PROTECTION_MODES and tier != "PLUS":
        raise FeatureUnavailableInTier(
            f"The following features need to be disabled for the {tier} pricing tier"
            " configured: Threat Protection"
        )


def _tier_on_create(original: Any) -> Any:
    def create_user_pool(self: CognitoIdpBackend, name: str, extended_config: Any) -> Any:
        config = {"UserPoolTier": DEFAULT_TIER, **(extended_config or {})}
        _check_tier(config)
        return original(self, name, config)

    return create_user_pool


def _tier_on_update(original: Any) -> Any:
    def update_user_pool(self: CognitoIdpBackend, user_pool_id: str, extended_config: Any) -> Any:
        pool = self.describe_user_pool(user_pool_id)
        current = pool.extended_config
        config = dict(extended_config or {})
        # The pool stays on its plan unless the update names another, and keeps what only
        # CreateUserPool sets (moto resets its whole configuration).
        config.setdefault("UserPoolTier", current.get("UserPoolTier") or DEFAULT_TIER)
        for key in CREATE_ONLY:
            if key in current:
                config.setdefault(key, current[key])
        _check_tier(config)
        answer = original(self, user_pool_id, config)
        if config.get("MfaConfiguration"):  # moto keeps it in the configuration only
            pool.mfa_config = config["MfaConfiguration"]
        return answer

    return update_user_pool


# --- TOTP --------------------------------------------------------------------------------------


def _totp_enabled(pool: Any) -> bool:
    return bool((pool.token_mfa_config or {}).get("Enabled"))


def _user_of(backend: CognitoIdpBackend, access_token: str | None, session: str | None) -> Any:
    """The user an AssociateSoftwareToken or VerifySoftwareToken request is about: by the
    challenge session, else by the access token (moto's own lookups, same errors)."""
    if session:
        if session not in backend.sessions:
            raise NotAuthorizedError("Invalid session for the user.")
        username, pool = backend.sessions[session]
        return pool, backend.admin_get_user(pool.id, username)
    for pool in backend.user_pools.values():
        if access_token in pool.access_tokens:
            _, username = pool.access_tokens[access_token]
            return pool, backend.admin_get_user(pool.id, username)
    raise NotAuthorizedError("Invalid Access Token")


def _unique_secret(original: Any) -> Any:
    def associate_software_token(
        self: CognitoIdpBackend, access_token: str, session: str
    ) -> dict[str, str]:
        pool, user = _user_of(self, access_token, session)
        if not _totp_enabled(pool):
            raise SoftwareTokenMfaNotFound(
                "Software Token MFA has not been enabled by the userPool"
            )
        answer = dict(original(self, access_token, session))
        secret = totp.new_secret()
        setattr(user, PENDING, secret)
        answer["SecretCode"] = secret
        return answer

    return associate_software_token


def _verified_against_the_secret(original: Any) -> Any:
    def verify_software_token(
        self: CognitoIdpBackend,
        access_token: str,
        session: str,
        user_code: str,
        friendly_device_name: str,
    ) -> dict[str, str]:
        _, user = _user_of(self, access_token, session)
        pending = getattr(user, PENDING, None)
        if pending is None:
            raise InvalidParameterException("Software token has not been associated")
        if not totp.matches(pending, user_code):
            raise EnableSoftwareTokenMfa("Code mismatch and fail enable Software Token MFA")
        answer = original(self, access_token, session, user_code, friendly_device_name)
        setattr(user, SECRET, pending)
        setattr(user, PENDING, None)
        return dict(answer)

    return verify_software_token


# --- Sign-in -----------------------------------------------------------------------------------


def _has_mfa(user: Any) -> bool:
    return bool(user.software_token_mfa_enabled or user.sms_mfa_enabled)


def _factors(pool: Any) -> list[str]:
    return ["SOFTWARE_TOKEN_MFA"] * _totp_enabled(pool) + ["SMS_MFA"] * bool(pool.sms_mfa_config)


def _second_factor(
    backend: CognitoIdpBackend, pool: Any, username: str, answer: dict[str, Any]
) -> dict[str, Any]:
    """What a password sign-in that moto answered with tokens gets instead, where the pool
    asks for a second factor: the tokens are revoked unseen, and the challenge answered."""
    if "AuthenticationResult" not in answer:
        return answer
    user = backend.admin_get_user(pool.id, username)
    if pool.mfa_config in ("ON", "OPTIONAL") and user.software_token_mfa_enabled:
        challenge: dict[str, Any] = {"ChallengeName": "SOFTWARE_TOKEN_MFA",
                                     "ChallengeParameters": {}}  # fmt: skip
    elif pool.mfa_config == "ON" and not _has_mfa(user):
        challenge = {
            "ChallengeName": "MFA_SETUP",
            "ChallengeParameters": {"MFAS_CAN_SETUP": json.dumps(_factors(pool))},
        }
    else:
        return answer
    tokens = answer["AuthenticationResult"]
    pool.access_tokens.pop(tokens.get("AccessToken"), None)
    pool.id_tokens.pop(tokens.get("IdToken"), None)
    pool.refresh_tokens.pop(tokens.get("RefreshToken"), None)
    session = str(uuid.uuid4())
    backend.sessions[session] = (user.username, pool)
    return {**challenge, "Session": session}


def _admin_sign_in_asks_for_mfa(original: Any) -> Any:
    def admin_initiate_auth(
        self: CognitoIdpBackend,
        user_pool_id: str,
        client_id: str,
        auth_flow: str,
        auth_parameters: dict[str, str],
    ) -> dict[str, Any]:
        answer = original(self, user_pool_id, client_id, auth_flow, auth_parameters)
        if auth_flow not in ADMIN_PASSWORD_FLOWS:
            return dict(answer)
        pool = self.describe_user_pool(user_pool_id)
        return _second_factor(self, pool, auth_parameters["USERNAME"], answer)

    return admin_initiate_auth


def _sign_in_asks_for_mfa(original: Any) -> Any:
    def initiate_auth(
        self: CognitoIdpBackend, client_id: str, auth_flow: str, auth_parameters: dict[str, str]
    ) -> dict[str, Any]:
        answer = original(self, client_id, auth_flow, auth_parameters)
        if auth_flow != "USER_PASSWORD_AUTH":
            return dict(answer)
        pool = next(p for p in self.user_pools.values() if client_id in p.clients)
        return _second_factor(self, pool, auth_parameters["USERNAME"], answer)

    return initiate_auth


def _challenges_checked(original: Any) -> Any:
    def respond_to_auth_challenge(
        self: CognitoIdpBackend,
        session: str,
        client_id: str,
        challenge_name: str,
        challenge_responses: dict[str, str],
    ) -> dict[str, Any]:
        if session in self.sessions and challenge_name in ("MFA_SETUP", "SOFTWARE_TOKEN_MFA"):
            username, pool = self.sessions[session]
            user = self.admin_get_user(pool.id, username)
            if challenge_name == "MFA_SETUP":
                if not user.token_verified or getattr(user, SECRET, None) is None:
                    raise InvalidParameterException("Software token has not been verified")
                user.software_token_mfa_enabled = True
                user.preferred_mfa_setting = "SOFTWARE_TOKEN_MFA"
            else:
                code = challenge_responses.get("SOFTWARE_TOKEN_MFA_CODE") or ""
                secret = getattr(user, SECRET, None)
                if secret is None or not totp.matches(secret, code):
                    raise CodeMismatchException("Invalid code or auth state for the user.")
        return dict(original(self, session, client_id, challenge_name, challenge_responses))

    return respond_to_auth_challenge


def install() -> None:
    # moto's checks compare codes with its one fixed secret; the wrappers above check them.
    os.environ["MOTO_COGNITO_IDP_USER_POOL_ENABLE_TOTP"] = "false"
    wrap(CognitoIdpBackend, "create_user_pool", _tier_on_create)
    wrap(CognitoIdpBackend, "update_user_pool", _tier_on_update)
    wrap(CognitoIdpBackend, "associate_software_token", _unique_secret)
    wrap(CognitoIdpBackend, "verify_software_token", _verified_against_the_secret)
    wrap(CognitoIdpBackend, "admin_initiate_auth", _admin_sign_in_asks_for_mfa)
    wrap(CognitoIdpBackend, "initiate_auth", _sign_in_asks_for_mfa)
    wrap(CognitoIdpBackend, "respond_to_auth_challenge", _challenges_checked)
    srp.install()
