"""Template parameters and the conditions derived from them."""

from __future__ import annotations

from troposphere import And, Condition, Equals, If, Not, Or, Parameter, Ref, Template

from template_gen.model import Spec

ENVIRONMENT = "Environment"
ALLOWED_ORIGINS = "AllowedOrigins"
ALARM_EMAIL = "AlarmEmail"
LOG_RETENTION_DAYS = "LogRetentionDays"
THROTTLING_RATE = "ApiThrottlingRateLimit"
THROTTLING_BURST = "ApiThrottlingBurstLimit"
THREAT_PROTECTION = "ThreatProtection"
BACKUP_VAULT_LOCK = "BackupVaultLock"

IS_PROD = "IsProd"
HAS_ALARM_EMAIL = "HasAlarmEmail"
# Cognito threat protection: ENFORCED in prod and OFF elsewhere unless the parameter says.
HAS_THREAT_PROTECTION = "HasThreatProtection"
THREAT_PROTECTION_CHOSEN = "ThreatProtectionChosen"
HAS_VAULT_LOCK = "HasVaultLock"
HAS_COMPLIANCE_LOCK = "HasComplianceVaultLock"

# The values CloudWatch Logs accepts for a retention period.
RETENTION_DAYS = (
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192,
    2557, 2922, 3288, 3653,
)  # fmt: skip
# Each origin is a scheme, a host and an optional port; a `*` can never match.
ORIGIN_PARAMETER_PATTERN = r"^https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?$"


def add_parameters(template: Template, spec: Spec) -> None:
    template.add_parameter(
        Parameter(
            ENVIRONMENT,
            Type="String",
            AllowedValues=list(spec.environments),
            Default=spec.environments[0],
            Description="Deployment environment; prod turns on deletion protection",
        )
    )
    template.add_parameter(
        Parameter(
            ALLOWED_ORIGINS,
            Type="CommaDelimitedList",
            Default=",".join(spec.api.default_origins),
            AllowedPattern=ORIGIN_PARAMETER_PATTERN,
            ConstraintDescription="each origin is scheme://host[:port]; '*' is refused",
            Description="Browser origins allowed by CORS on the API and the assets bucket",
        )
    )
    template.add_parameter(
        Parameter(
            ALARM_EMAIL,
            Type="String",
            Default="",
            AllowedPattern=r"^$|^[^@\s]+@[^@\s]+\.[^@\s]+$",
            ConstraintDescription="an email address, or empty for no subscription",
            Description="Optional address subscribed to the alarm topic",
        )
    )
    template.add_parameter(
        Parameter(
            LOG_RETENTION_DAYS,
            Type="Number",
            Default=30,
            AllowedValues=list(RETENTION_DAYS),
            Description="Retention of every log group in the stack",
        )
    )
    template.add_parameter(
        Parameter(
            THROTTLING_RATE,
            Type="Number",
            Default=spec.api.throttling_rate,
            MinValue=1,
            Description="Steady-state requests per second for each route",
        )
    )
    template.add_parameter(
        Parameter(
            THROTTLING_BURST,
            Type="Number",
            Default=spec.api.throttling_burst,
            MinValue=1,
            Description="Burst of requests for each route",
        )
    )
    template.add_parameter(
        Parameter(
            THREAT_PROTECTION,
            Type="String",
            Default="",
            AllowedValues=["", "OFF", "AUDIT", "ENFORCED"],
            Description=(
                "Cognito threat protection (AdvancedSecurityMode); AUDIT and ENFORCED need the"
                " Plus tier, billed per active user. Empty: ENFORCED in prod, OFF elsewhere"
            ),
        )
    )
    template.add_parameter(
        Parameter(
            BACKUP_VAULT_LOCK,
            Type="String",
            Default="none",
            AllowedValues=["none", "governance", "compliance"],
            Description=(
                "AWS Backup vault lock in prod: governance can be removed with"
                " backup:DeleteBackupVaultLockConfiguration, compliance cannot once its grace"
                " period ends"
            ),
        )
    )
    template.add_condition(IS_PROD, Equals(Ref(ENVIRONMENT), "prod"))
    template.add_condition(HAS_ALARM_EMAIL, Not(Equals(Ref(ALARM_EMAIL), "")))
    template.add_condition(THREAT_PROTECTION_CHOSEN, Not(Equals(Ref(THREAT_PROTECTION), "")))
    template.add_condition(
        HAS_THREAT_PROTECTION,
        Or(
            And(Condition(THREAT_PROTECTION_CHOSEN), Not(Equals(Ref(THREAT_PROTECTION), "OFF"))),
            And(Not(Condition(THREAT_PROTECTION_CHOSEN)), Condition(IS_PROD)),
        ),
    )
    template.add_condition(
        HAS_VAULT_LOCK, And(Condition(IS_PROD), Not(Equals(Ref(BACKUP_VAULT_LOCK), "none")))
    )
    template.add_condition(
        HAS_COMPLIANCE_LOCK,
        And(Condition(IS_PROD), Equals(Ref(BACKUP_VAULT_LOCK), "compliance")),
    )


def threat_protection_mode() -> If:
    """The parameter's mode, or the environment's default when it is empty."""
    return If(
        THREAT_PROTECTION_CHOSEN,
        Ref(THREAT_PROTECTION),
        If(IS_PROD, "ENFORCED", "OFF"),
    )
