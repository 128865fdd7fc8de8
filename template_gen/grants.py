"""The grants, as named action tables: which actions each relation, the log group and tracing
need. template_gen.iam turns them into each function's role; the spec's validation reads them
too, which is why they import nothing of CloudFormation.
"""

from __future__ import annotations

from template_gen.model import Access, Bucket, SecureParameter, Table

# The actions of each relation: only the calls a handler makes. A transaction needs the
# action of each of its items (dynamodb:PutItem, ...), not an action of its own
# (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/transaction-apis-iam.html).
ACTIONS: dict[tuple[type, Access], tuple[str, ...]] = {
    (Table, Access.READ): ("dynamodb:GetItem",),
    (Table, Access.QUERY): ("dynamodb:Query",),
    (Table, Access.WRITE): ("dynamodb:DeleteItem", "dynamodb:PutItem", "dynamodb:UpdateItem"),
    (Bucket, Access.READ): ("s3:GetObject",),
    (Bucket, Access.WRITE): ("s3:PutObject",),
    (SecureParameter, Access.READ): ("ssm:GetParameter",),
}

# What the caller's own identity must allow on a key when a service uses it on the caller's
# behalf, per relation kind and access (kms:ViaService names the service):
# - DynamoDB decrypts a table's key as the principal that reads or writes the table
#   (https://docs.aws.amazon.com/kms/latest/developerguide/services-dynamodb.html);
# - S3 generates a data key for an SSE-KMS upload, and decrypts it for a download, as the
#   requester (https://docs.aws.amazon.com/AmazonS3/latest/userguide/UsingKMSEncryption.html);
# - SSM decrypts a SecureString as the caller of GetParameter
#   (https://docs.aws.amazon.com/kms/latest/developerguide/services-parameter-store.html).
KEY_ACTIONS: dict[tuple[type, Access], str] = {
    (Table, Access.READ): "kms:Decrypt",
    (Table, Access.QUERY): "kms:Decrypt",
    (Table, Access.WRITE): "kms:Decrypt",
    (Bucket, Access.READ): "kms:Decrypt",
    (Bucket, Access.WRITE): "kms:GenerateDataKey",
    (SecureParameter, Access.READ): "kms:Decrypt",
}

LOG_ACTIONS = ("logs:CreateLogStream", "logs:PutLogEvents")
# X-Ray has no resource-level permissions: "*" is the narrowest resource AWS offers.
TRACE_ACTIONS = ("xray:PutTelemetryRecords", "xray:PutTraceSegments")
TRACE_UNEXERCISED = (
    "Lambda sends the traces of active tracing as the execution role"
    " (https://docs.aws.amazon.com/lambda/latest/dg/services-xray.html); the local stack"
    " runs no X-Ray, so no local call reaches these"
)
# The stack key encrypts the function's log group. CloudWatch Logs may call KMS on behalf of
# the role that writes to it ("CloudWatch Logs now supports kms:ViaService ... add this to
# your roles which call CloudWatch Logs",
# https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/encrypt-log-data-kms.html), so
# the role may generate data keys through Logs for its own group's context only.
LOG_KEY_ACTION = "kms:GenerateDataKey"
QUIET_FUNCTION = (
    "a function that prints nothing on success (the platform's INFO lines are below the"
    " SystemLogLevel of WARN) writes its log group only for its errors, which no local"
    " test provokes; Lambda needs the grant for them"
    " (https://docs.aws.amazon.com/lambda/latest/dg/monitoring-cloudwatchlogs-advanced.html)"
)
