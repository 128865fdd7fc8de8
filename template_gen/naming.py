"""Physical names: one scheme for every resource, checked against each service's limit.

A name is a `Sub` pattern over the environment, account and region, which are unknown when
rendering. Its length is therefore checked for the worst case: the longest environment, a
12-digit account and a region name longer than any AWS has today.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from troposphere import Sub

ENVIRONMENT = "${Environment}"
ACCOUNT = "${AWS::AccountId}"
REGION = "${AWS::Region}"

ACCOUNT_LENGTH = 12
# The longest region names today have 14 characters (ap-southeast-7, us-isob-east-1); the
# margin keeps a name valid in regions not yet announced.
MAX_REGION_LENGTH = 16
MAX_PROJECT_LENGTH = 12
PROJECT_PATTERN = re.compile(r"^[a-z][a-z0-9-]*[a-z0-9]$")


class Kind(Enum):
    """A kind of physical name with its service limit."""

    BUCKET = ("S3 bucket", 63)
    FUNCTION = ("Lambda function", 64)
    LAYER = ("Lambda layer", 140)
    ROLE = ("IAM role", 64)
    TABLE = ("DynamoDB table", 255)
    LOG_GROUP = ("log group", 512)
    ALARM = ("CloudWatch alarm", 255)
    DASHBOARD = ("CloudWatch dashboard", 255)
    TOPIC = ("SNS topic", 256)
    USER_POOL = ("Cognito user pool", 128)
    USER_POOL_CLIENT = ("Cognito app client", 128)
    KEY_ALIAS = ("KMS alias", 256)
    PARAMETER = ("SSM parameter", 1011)
    API = ("HTTP API", 128)
    # https://docs.aws.amazon.com/aws-backup/latest/devguide/API_CreateBackupVault.html
    BACKUP_VAULT = ("Backup vault", 50)
    # https://docs.aws.amazon.com/aws-backup/latest/devguide/API_BackupPlanInput.html
    BACKUP_PLAN = ("Backup plan", 50)
    # https://docs.aws.amazon.com/aws-backup/latest/devguide/API_BackupSelection.html
    BACKUP_SELECTION = ("Backup selection", 50)

    def __init__(self, label: str, limit: int) -> None:
        self.label = label
        self.limit = limit


@dataclass(frozen=True)
class PhysicalName:
    kind: Kind
    pattern: str

    def resolve(self, environment: str, account: str, region: str) -> str:
        return (
            self.pattern.replace(ENVIRONMENT, environment)
            .replace(ACCOUNT, account)
            .replace(REGION, region)
        )

    def worst_case_length(self, environments: tuple[str, ...]) -> int:
        longest_env = max(environments, key=len)
        return len(self.resolve(longest_env, "0" * ACCOUNT_LENGTH, "r" * MAX_REGION_LENGTH))

    def sub(self) -> Sub:
        # Imported on use: validating a spec, which every build does (a no-op one too), needs
        # only the patterns, and troposphere is most of a no-op build's start-up.
        from troposphere import Sub

        return Sub(self.pattern)


@dataclass(frozen=True)
class Names:
    """The naming scheme. Regional names carry project and environment; names that are
    global across regions (buckets, IAM roles, dashboards) also carry the region, so one
    account can hold the same stack in many regions without a collision."""

    project: str

    @property
    def prefix(self) -> str:
        return f"{self.project}-{ENVIRONMENT}"

    def function(self, name: str) -> PhysicalName:
        return PhysicalName(Kind.FUNCTION, f"{self.prefix}-{name}")

    def function_log_group(self, name: str) -> PhysicalName:
        # Lambda's own convention, so the platform's log lines land in the group we own.
        return PhysicalName(Kind.LOG_GROUP, f"/aws/lambda/{self.prefix}-{name}")

    def layer(self, name: str) -> PhysicalName:
        return PhysicalName(Kind.LAYER, f"{self.prefix}-{name}")

    def role(self, function: str) -> PhysicalName:
        return PhysicalName(Kind.ROLE, f"{self.prefix}-{function}-{REGION}")

    def table(self, name: str) -> PhysicalName:
        return PhysicalName(Kind.TABLE, f"{self.prefix}-{name}")

    def bucket(self, name: str) -> PhysicalName:
        return PhysicalName(Kind.BUCKET, f"{self.prefix}-{name}-{ACCOUNT}-{REGION}")

    def parameter(self, name: str) -> PhysicalName:
        return PhysicalName(Kind.PARAMETER, f"/{self.project}/{ENVIRONMENT}/{name}")

    def api(self) -> PhysicalName:
        return PhysicalName(Kind.API, f"{self.prefix}-http-api")

    def api_log_group(self) -> PhysicalName:
        return PhysicalName(Kind.LOG_GROUP, f"/{self.project}/{ENVIRONMENT}/http-api/access")

    def user_pool(self) -> PhysicalName:
        return PhysicalName(Kind.USER_POOL, f"{self.prefix}-users")

    def user_pool_client(self) -> PhysicalName:
        return PhysicalName(Kind.USER_POOL_CLIENT, f"{self.prefix}-api-client")

    def key_alias(self) -> PhysicalName:
        return PhysicalName(Kind.KEY_ALIAS, f"alias/{self.prefix}")

    def parameters_key_alias(self) -> PhysicalName:
        """The key of the SecureStrings, which `make params` creates before the stack."""
        return PhysicalName(Kind.KEY_ALIAS, f"alias/{self.prefix}-parameters")

    def alarm_topic(self) -> PhysicalName:
        return PhysicalName(Kind.TOPIC, f"{self.prefix}-alarms")

    def alarm(self, kind: str, subject: str, signal: str) -> PhysicalName:
        # The kind keeps a function and a table of the same name apart.
        return PhysicalName(Kind.ALARM, f"{self.prefix}-{kind}-{subject}-{signal}")

    def deployment_role(self) -> PhysicalName:
        return PhysicalName(Kind.ROLE, f"{self.prefix}-codedeploy-{REGION}")

    def dashboard(self) -> PhysicalName:
        return PhysicalName(Kind.DASHBOARD, f"{self.prefix}-{REGION}")

    def backup_vault(self) -> PhysicalName:
        return PhysicalName(Kind.BACKUP_VAULT, f"{self.prefix}-backups")

    def backup_plan(self) -> PhysicalName:
        return PhysicalName(Kind.BACKUP_PLAN, f"{self.prefix}-tables")

    def backup_selection(self) -> PhysicalName:
        return PhysicalName(Kind.BACKUP_SELECTION, f"{self.prefix}-tables")

    def backup_role(self) -> PhysicalName:
        return PhysicalName(Kind.ROLE, f"{self.prefix}-backup-{REGION}")

    def backup_key_alias(self) -> PhysicalName:
        return PhysicalName(Kind.KEY_ALIAS, f"alias/{self.prefix}-backup")

    def metric_namespace(self) -> str:
        return f"{self.project}/{ENVIRONMENT}"


def logical_id(*parts: str) -> str:
    """CamelCase logical id from spec names: `("items", "errors")` -> `ItemsErrors`."""
    words = re.split(r"[^A-Za-z0-9]+", " ".join(parts))
    return "".join(word[:1].upper() + word[1:] for word in words if word)


# Logical ids of the stack-wide resources, and of the resources derived from spec entries.
STACK_KEY = "StackKey"
STACK_KEY_ALIAS = "StackKeyAlias"
ALARM_TOPIC = "AlarmTopic"
HTTP_API = "HttpApi"
API_LOG_GROUP = "HttpApiAccessLogs"
USER_POOL = "UserPool"
USER_POOL_CLIENT = "UserPoolClient"
AUTHORIZER = "CognitoJwt"
BACKUP_KEY = "BackupKey"
BACKUP_KEY_ALIAS = "BackupKeyAlias"
BACKUP_VAULT = "BackupVault"
BACKUP_ROLE = "BackupRole"
BACKUP_PLAN = "BackupPlan"
BACKUP_SELECTION = "BackupSelection"


def table_id(name: str) -> str:
    return logical_id(name, "table")


def bucket_id(name: str) -> str:
    return logical_id(name, "bucket")


def function_id(name: str) -> str:
    return logical_id(name, "function")


def role_id(function: str) -> str:
    return logical_id(function, "role")


def log_group_id(function: str) -> str:
    return logical_id(function, "log group")


def layer_id(name: str) -> str:
    return logical_id(name, "layer")


def alarm_id(kind: str, subject: str, signal: str) -> str:
    return logical_id(kind, subject, signal, "alarm")
