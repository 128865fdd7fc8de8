"""Cognito user pools: the rules moto does not keep (feature plans and threat protection, MFA
setup, a TOTP secret per user), TOTP itself (RFC 6238, as Cognito uses it) and USER_SRP_AUTH's
password proof (SRP-6a, as Cognito's clients compute it)."""
