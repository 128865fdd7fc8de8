"""`make token`: a user's access token from the local pool, as an administrator signs them in.

Where the pool requires MFA (prod), the first sign-in answers MFA_SETUP the way an
authenticator app enrols (AssociateSoftwareToken, then VerifySoftwareToken with a TOTP code,
https://docs.aws.amazon.com/cognito/latest/developerguide/user-pool-settings-mfa-totp.html),
and keeps the TOTP secret beside the local stack's state file, readable by its owner only; a
later sign-in answers SOFTWARE_TOKEN_MFA with a code from that secret.
"""

from __future__ import annotations

import os
import secrets
import string
import time
from pathlib import Path
from typing import Any

from offline.cognito import totp
from offline.common.console import say
from offline.common.endpoint import Endpoint
from offline.stack.state_file import STATE


def strong_password() -> str:
    """Meets the pool's policy: 12+ characters with each character class."""
    alphabet = string.ascii_letters + string.digits
    core = "".join(secrets.choice(alphabet) for _ in range(20))
    return f"{core}aA1!"


def secret_file(pool: str, user: str, state: Path = STATE) -> Path:
    return state.parent / "totp" / f"{pool}.{user}"


def _keep_secret(path: Path, secret: str) -> None:
    """Written readable by its owner only, whatever mode an earlier file had."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(descriptor, 0o600)
    with os.fdopen(descriptor, "w") as kept:
        kept.write(secret)


def _fresh_code(secret: str) -> str:
    # A code about to expire may reach the pool in the next step: wait for a fresh one.
    if totp.STEP - time.time() % totp.STEP < 2:
        time.sleep(totp.STEP - time.time() % totp.STEP + 0.1)
    return totp.code(secret)


def with_fresh_password(cognito: Any, pool: str, user: str) -> tuple[bool, str]:
    """`user` in the local pool, created if it is not there (the pool lets only administrators
    create users), with a fresh permanent password, none of which is stored: whether it was
    created, and the password."""
    created = False
    try:
        cognito.admin_get_user(UserPoolId=pool, Username=user)
    except cognito.exceptions.UserNotFoundException:
        cognito.admin_create_user(
            UserPoolId=pool,
            Username=user,
            MessageAction="SUPPRESS",
            UserAttributes=[
                {"Name": "email", "Value": f"{user}@example.com"},
                {"Name": "email_verified", "Value": "true"},
            ],
        )
        created = True
    password = strong_password()
    cognito.admin_set_user_password(
        UserPoolId=pool, Username=user, Password=password, Permanent=True
    )
    return created, password


def access_token(state: dict[str, Any], user: str) -> str:
    """A fresh access token for `user` from the local pool, creating the user on first use."""
    cognito = Endpoint(state["endpoint"]).client("cognito-idp", state["region"])
    pool, client = state["user_pool_id"], state["client_id"]
    created, password = with_fresh_password(cognito, pool, user)
    say(f"created user {user} in pool {pool}" if created else f"user {user} exists in pool {pool}")
    answer = cognito.admin_initiate_auth(
        UserPoolId=pool,
        ClientId=client,
        AuthFlow="ADMIN_USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": user, "PASSWORD": password},
    )
    kept = secret_file(pool, user)
    if answer.get("ChallengeName") == "MFA_SETUP":
        association = cognito.associate_software_token(Session=answer["Session"])
        secret = association["SecretCode"]
        verified = cognito.verify_software_token(
            Session=association["Session"],
            UserCode=_fresh_code(secret),
            FriendlyDeviceName="make token",
        )
        _keep_secret(kept, secret)
        say(f"{user} enrolled in TOTP (the pool requires MFA); secret kept in {kept}")
        answer = cognito.admin_respond_to_auth_challenge(
            UserPoolId=pool,
            ClientId=client,
            ChallengeName="MFA_SETUP",
            Session=verified["Session"],
            ChallengeResponses={"USERNAME": user},
        )
    elif answer.get("ChallengeName") == "SOFTWARE_TOKEN_MFA":
        if not kept.is_file():
            raise SystemExit(
                f"{user} has TOTP set up elsewhere and {kept} is missing: sign in with the"
                " authenticator app, or delete the user and run make token again"
            )
        answer = cognito.admin_respond_to_auth_challenge(
            UserPoolId=pool,
            ClientId=client,
            ChallengeName="SOFTWARE_TOKEN_MFA",
            Session=answer["Session"],
            ChallengeResponses={
                "USERNAME": user,
                "SOFTWARE_TOKEN_MFA_CODE": _fresh_code(kept.read_text().strip()),
            },
        )
    result = answer["AuthenticationResult"]
    say(f"access token for {user} (expires in {result['ExpiresIn']} s):")
    return str(result["AccessToken"])
