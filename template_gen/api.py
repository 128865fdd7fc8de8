"""The HTTP API, its JWT authorizer and the Cognito user pool that issues the tokens."""

from __future__ import annotations

import json
from typing import ClassVar

from troposphere import GetAtt, If, Ref, Sub, Template, cognito, serverless

from template_gen.defaults import RETAIN, encrypted_log_group
from template_gen.findings import (
    MFA_BY_ENVIRONMENT,
    THREAT_PROTECTION_BY_ENVIRONMENT,
    waiver_metadata,
)
from template_gen.model import Spec
from template_gen.naming import (
    API_LOG_GROUP,
    AUTHORIZER,
    HTTP_API,
    USER_POOL,
    USER_POOL_CLIENT,
    Names,
)
from template_gen.parameters import (
    ALLOWED_ORIGINS,
    HAS_THREAT_PROTECTION,
    IS_PROD,
    THROTTLING_BURST,
    THROTTLING_RATE,
    threat_protection_mode,
)

STAGE = "$default"
# One JSON object per request, with the caller and the integration's own error if any.
ACCESS_LOG_FORMAT = {
    "requestId": "$context.requestId",
    "ip": "$context.identity.sourceIp",
    "requestTime": "$context.requestTime",
    "httpMethod": "$context.httpMethod",
    "routeKey": "$context.routeKey",
    "status": "$context.status",
    "protocol": "$context.protocol",
    "responseLength": "$context.responseLength",
    "responseLatency": "$context.responseLatency",
    "integrationLatency": "$context.integrationLatency",
    "integrationError": "$context.integrationErrorMessage",
    "authorizerError": "$context.authorizer.error",
    "caller": "$context.authorizer.claims.sub",
}


class HttpApiAuth(serverless.HttpApiAuth):
    """SAM's Authorizers is a map of name to authorizer; troposphere types it as one."""

    props: ClassVar[dict] = {**serverless.HttpApiAuth.props, "Authorizers": (dict, False)}


ACCESS_TOKEN_MINUTES = 60
REFRESH_TOKEN_DAYS = 30


def api_url() -> Sub:
    """The invoke URL of the `$default` stage, built from the API id rather than stored."""
    return Sub(f"https://${{{HTTP_API}}}.execute-api.${{AWS::Region}}.${{AWS::URLSuffix}}/")


def add_user_pool(template: Template, names: Names) -> None:
    template.add_resource(
        cognito.UserPool(
            USER_POOL,
            Metadata=waiver_metadata(MFA_BY_ENVIRONMENT, THREAT_PROTECTION_BY_ENVIRONMENT),
            UserPoolName=names.user_pool().sub(),
            DeletionProtection=If(IS_PROD, "ACTIVE", "INACTIVE"),
            # Accounts are created by administrators (or a flow the team adds), not by
            # anyone who finds the client id.
            AdminCreateUserConfig=cognito.AdminCreateUserConfig(AllowAdminCreateUserOnly=True),
            AutoVerifiedAttributes=["email"],
            AccountRecoverySetting=cognito.AccountRecoverySetting(
                RecoveryMechanisms=[cognito.RecoveryOption(Name="verified_email", Priority=1)]
            ),
            # TOTP only (no SMS: no phone numbers to hold, no SNS spend). Required in prod,
            # where a user enrols at first sign-in (the MFA_SETUP challenge); optional
            # elsewhere.
            MfaConfiguration=If(IS_PROD, "ON", "OPTIONAL"),
            EnabledMfas=["SOFTWARE_TOKEN_MFA"],
            # Threat protection (compromised credentials, adaptive authentication) exists
            # only in the Plus tier, which is billed per monthly active user.
            UserPoolTier=If(HAS_THREAT_PROTECTION, "PLUS", "ESSENTIALS"),
            UserPoolAddOns=cognito.UserPoolAddOns(AdvancedSecurityMode=threat_protection_mode()),
            Policies=cognito.Policies(
                PasswordPolicy=cognito.PasswordPolicy(
                    MinimumLength=12,
                    RequireLowercase=True,
                    RequireUppercase=True,
                    RequireNumbers=True,
                    RequireSymbols=True,
                    TemporaryPasswordValidityDays=3,
                )
            ),
            UsernameConfiguration=cognito.UsernameConfiguration(CaseSensitive=False),
            **RETAIN,
        )
    )
    template.add_resource(
        cognito.UserPoolClient(
            USER_POOL_CLIENT,
            ClientName=names.user_pool_client().sub(),
            UserPoolId=Ref(USER_POOL),
            GenerateSecret=False,
            ExplicitAuthFlows=["ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
            PreventUserExistenceErrors="ENABLED",
            EnableTokenRevocation=True,
            AccessTokenValidity=ACCESS_TOKEN_MINUTES,
            IdTokenValidity=ACCESS_TOKEN_MINUTES,
            RefreshTokenValidity=REFRESH_TOKEN_DAYS,
            TokenValidityUnits=cognito.TokenValidityUnits(
                AccessToken="minutes", IdToken="minutes", RefreshToken="days"
            ),
        )
    )


def add_http_api(template: Template, spec: Spec, names: Names) -> None:
    template.add_resource(encrypted_log_group(API_LOG_GROUP, names.api_log_group()))
    methods = sorted({route.method for f in spec.functions for route in f.routes})
    template.add_resource(
        serverless.HttpApi(
            HTTP_API,
            Description=Sub(f"{names.api().pattern}"),
            StageName=STAGE,
            FailOnWarnings=True,
            Auth=HttpApiAuth(
                DefaultAuthorizer=AUTHORIZER,
                Authorizers={
                    AUTHORIZER: serverless.OAuth2Authorizer(
                        IdentitySource="$request.header.Authorization",
                        JwtConfiguration={
                            "issuer": Sub(
                                "https://cognito-idp.${AWS::Region}.${AWS::URLSuffix}/"
                                f"${{{USER_POOL}}}"
                            ),
                            # Cognito access tokens carry the app client id as client_id,
                            # which the authorizer matches against the audience.
                            "audience": [Ref(USER_POOL_CLIENT)],
                        },
                    )
                },
            ),
            # CORS lives in the definition, not in CorsConfiguration: the SAM transform would
            # resolve the origins parameter there into one comma-joined string.
            DefinitionBody={
                "openapi": "3.0.1",
                "info": {"title": Ref("AWS::StackName"), "version": "1.0"},
                "paths": {},
                "x-amazon-apigateway-cors": {
                    "allowOrigins": Ref(ALLOWED_ORIGINS),
                    "allowMethods": [*methods, "OPTIONS"],
                    "allowHeaders": list(spec.api.allowed_headers),
                    "exposeHeaders": list(spec.api.exposed_headers),
                    "maxAge": spec.api.cors_max_age_s,
                    "allowCredentials": False,
                },
            },
            AccessLogSettings=serverless.AccessLogSettings(
                DestinationArn=GetAtt(API_LOG_GROUP, "Arn"),
                Format=json.dumps(ACCESS_LOG_FORMAT, sort_keys=True, separators=(",", ":")),
            ),
            DefaultRouteSettings=serverless.RouteSettings(
                ThrottlingRateLimit=Ref(THROTTLING_RATE),
                ThrottlingBurstLimit=Ref(THROTTLING_BURST),
                DetailedMetricsEnabled=True,
            ),
        )
    )
