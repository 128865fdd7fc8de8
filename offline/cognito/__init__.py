"""Cognito user pools: the rules moto does not keep (feature plans and threat protection, MFA
setup, a TOTP secret per user) and TOTP itself (RFC 6238, as Cognito uses it)."""
