"""Cognito user pool rules moto does not keep, as the user pools API enforces them:

- Threat protection (`UserPoolAddOns.AdvancedSecurityMode` AUDIT or ENFORCED) needs the Plus
  feature plan: "To configure threat protection, you must activate the Plus feature plan"
  (https://docs.aws.amazon.com/cognito/latest/developerguide/cognito-user-pool-settings-threat-protection.html);
  CreateUserPool and UpdateUserPool refuse it otherwise with FeatureUnavailableInTierException
  (https://docs.aws.amazon.com/cognito-user-identity-pools/latest/APIReference/API_CreateUserPool.html#API_CreateUserPool_Errors).
- With MFA required (`MfaConfiguration: ON`), a user who has no MFA factor answers the
  MFA_SETUP challenge before any token, whatever the auth flow; moto signs such a user in
  through AdminInitiateAuth
  (https://docs.aws.amazon.com/cognito/latest/developerguide/user-pool-settings-mfa.html,
  "If you require MFA, ... users who haven't set up MFA are prompted to set it up at sign-in").
- Completing MFA_SETUP needs the software token verified first (VerifySoftwareToken with the
  challenge's session), and makes TOTP the user's MFA
  (https://docs.aws.amazon.com/cognito/latest/developerguide/user-pool-settings-mfa-totp.html).
- TOTP codes are checked. moto checks them only when MOTO_COGNITO_IDP_USER_POOL_ENABLE_TOTP is
  set, against the one secret it hands to every AssociateSoftwareToken; the emulator sets it,
  so a wrong code fails as in AWS, though every user of the emulator shares that secret.
"""

from __future__ import annotations

import os
import uuid
from typing import Any

from moto.cognitoidp.exceptions import InvalidParameterException
from moto.cognitoidp.models import CognitoIdpBackend
from moto.core.exceptions import JsonRESTError

from offline.patching import wrap

THREAT_PROTECTION_MODES = frozenset({"AUDIT", "ENFORCED"})
PASSWORD_FLOWS = frozenset({"ADMIN_USER_PASSWORD_AUTH", "ADMIN_NO_SRP_AUTH"})


class FeatureUnavailableInTier(JsonRESTError):
    def __init__(self, message: str) -> None:
        super().__init__("FeatureUnavailableInTierException", message)


def _check_tier(config: dict[str, Any]) -> None:
    mode = (config.get("UserPoolAddOns") or {}).get("AdvancedSecurityMode", "OFF")
    if mode in THREAT_PROTECTION_MODES and config.get("UserPoolTier", "ESSENTIALS") != "PLUS":
        raise FeatureUnavailableInTier("Threat Protection requires upgrade to Plus tier")


def _tier_on_create(original: Any) -> Any:
    def create_user_pool(self: CognitoIdpBackend, name: str, extended_config: Any) -> Any:
        _check_tier(extended_config or {})
        return original(self, name, extended_config)

    return create_user_pool


def _tier_on_update(original: Any) -> Any:
    def update_user_pool(self: CognitoIdpBackend, user_pool_id: str, extended_config: Any) -> Any:
        current = self.describe_user_pool(user_pool_id).extended_config
        _check_tier({**current, **(extended_config or {})})
        return original(self, user_pool_id, extended_config)

    return update_user_pool


def _has_mfa(user: Any) -> bool:
    return bool(user.software_token_mfa_enabled or user.sms_mfa_enabled)


def _setup_before_tokens(original: Any) -> Any:
    def admin_initiate_auth(
        self: CognitoIdpBackend,
        user_pool_id: str,
        client_id: str,
        auth_flow: str,
        auth_parameters: dict[str, str],
    ) -> dict[str, Any]:
        answer = original(self, user_pool_id, client_id, auth_flow, auth_parameters)
        pool = self.describe_user_pool(user_pool_id)
        if "AuthenticationResult" not in answer or auth_flow not in PASSWORD_FLOWS:
            return answer
        user = self.admin_get_user(user_pool_id, auth_parameters["USERNAME"])
        if pool.mfa_config != "ON" or _has_mfa(user):
            return answer
        # The tokens moto made are not handed out: revoke them and ask for the setup.
        tokens = answer["AuthenticationResult"]
        for token in (tokens.get("AccessToken"), tokens.get("RefreshToken")):
            pool.access_tokens.pop(token, None)
            pool.refresh_tokens.pop(token, None)
        session = str(uuid.uuid4())
        self.sessions[session] = (user.username, pool)
        return {
            "ChallengeName": "MFA_SETUP",
            "ChallengeParameters": {"MFAS_CAN_SETUP": '["SOFTWARE_TOKEN_MFA"]'},
            "Session": session,
        }

    return admin_initiate_auth


def _setup_needs_a_verified_token(original: Any) -> Any:
    def respond_to_auth_challenge(
        self: CognitoIdpBackend,
        session: str,
        client_id: str,
        challenge_name: str,
        challenge_responses: dict[str, str],
    ) -> dict[str, Any]:
        if challenge_name == "MFA_SETUP" and session in self.sessions:
            username, pool = self.sessions[session]
            user = self.admin_get_user(pool.id, username)
            if not user.token_verified:
                raise InvalidParameterException("Software token has not been verified")
            user.software_token_mfa_enabled = True
            user.preferred_mfa_setting = "SOFTWARE_TOKEN_MFA"
        return original(self, session, client_id, challenge_name, challenge_responses)

    return respond_to_auth_challenge


def install() -> None:
    os.environ["MOTO_COGNITO_IDP_USER_POOL_ENABLE_TOTP"] = "true"
    wrap(CognitoIdpBackend, "create_user_pool", _tier_on_create)
    wrap(CognitoIdpBackend, "update_user_pool", _tier_on_update)
    wrap(CognitoIdpBackend, "admin_initiate_auth", _setup_before_tokens)
    wrap(CognitoIdpBackend, "respond_to_auth_challenge", _setup_needs_a_verified_token)
