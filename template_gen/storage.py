"""DynamoDB tables and S3 buckets, with the secure defaults in one place."""

from __future__ import annotations

from troposphere import GetAtt, If, Join, Ref, Sub, Template, dynamodb, s3

from template_gen.defaults import RETAIN
from template_gen.findings import (
    ACCESS_LOG_BUCKET,
    EXPLICIT_NAMES,
    NO_BUCKET_ACLS,
    NO_OBJECT_EVENTS,
    NO_OBJECT_LOCK,
    REGIONAL_BUCKET,
    waiver_metadata,
)
from template_gen.model import Key, Spec, Table
from template_gen.naming import STACK_KEY, Names, PhysicalName, bucket_id, table_id
from template_gen.parameters import ALLOWED_ORIGINS, IS_PROD

ABORT_INCOMPLETE_UPLOADS_DAYS = 7
NONCURRENT_VERSION_DAYS = 90
ACCESS_LOG_DAYS = 365
ACCESS_LOG_NONCURRENT_DAYS = 30
ACCESS_LOG_PREFIX = "s3/"
# What every bucket of the stack waives, and why: template_gen/findings.py.
BUCKET = (REGIONAL_BUCKET, NO_OBJECT_LOCK, NO_OBJECT_EVENTS, NO_BUCKET_ACLS)


def add_tables(template: Template, spec: Spec, names: Names) -> None:
    for table in spec.tables:
        template.add_resource(_table(table, names))


def _attribute_definitions(table: Table) -> list[dynamodb.AttributeDefinition]:
    keys: dict[str, Key] = {}
    for key in (table.partition_key, table.sort_key):
        if key is not None:
            keys[key.name] = key
    for index in table.indexes:
        for key in (index.partition_key, index.sort_key):
            if key is not None:
                keys[key.name] = key
    return [
        dynamodb.AttributeDefinition(AttributeName=key.name, AttributeType=key.type.value)
        for key in sorted(keys.values(), key=lambda k: k.name)
    ]


def _key_schema(partition: Key, sort: Key | None) -> list[dynamodb.KeySchema]:
    schema = [dynamodb.KeySchema(AttributeName=partition.name, KeyType="HASH")]
    if sort is not None:
        schema.append(dynamodb.KeySchema(AttributeName=sort.name, KeyType="RANGE"))
    return schema


def _table(table: Table, names: Names) -> dynamodb.Table:
    properties: dict = {
        "TableName": names.table(table.name).sub(),
        "BillingMode": "PAY_PER_REQUEST",
        "AttributeDefinitions": _attribute_definitions(table),
        "KeySchema": _key_schema(table.partition_key, table.sort_key),
        "SSESpecification": dynamodb.SSESpecification(
            SSEEnabled=True, SSEType="KMS", KMSMasterKeyId=GetAtt(STACK_KEY, "Arn")
        ),
        "PointInTimeRecoverySpecification": dynamodb.PointInTimeRecoverySpecification(
            PointInTimeRecoveryEnabled=True
        ),
        "DeletionProtectionEnabled": If(IS_PROD, True, False),
    }
    if table.indexes:
        properties["GlobalSecondaryIndexes"] = [
            dynamodb.GlobalSecondaryIndex(
                IndexName=index.name,
                KeySchema=_key_schema(index.partition_key, index.sort_key),
                Projection=(
                    dynamodb.Projection(ProjectionType="ALL")
                    if index.projected is None
                    else dynamodb.Projection(
                        ProjectionType="INCLUDE", NonKeyAttributes=list(index.projected)
                    )
                ),
            )
            for index in table.indexes
        ]
    if table.ttl_attribute:
        properties["TimeToLiveSpecification"] = dynamodb.TimeToLiveSpecification(
            AttributeName=table.ttl_attribute, Enabled=True
        )
    return dynamodb.Table(
        table_id(table.name), Metadata=waiver_metadata(EXPLICIT_NAMES), **properties, **RETAIN
    )


def _deny_insecure_transport(bucket_logical_id: str) -> dict:
    return {
        "Sid": "DenyInsecureTransport",
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:*",
        # The bucket and its objects, written as Control Tower's CT.S3.PR.8 reads them.
        "Resource": [
            GetAtt(bucket_logical_id, "Arn"),
            Join("", [GetAtt(bucket_logical_id, "Arn"), "/*"]),
        ],
        # A string, as CT.S3.PR.8 compares it; IAM compares Bool values as text either way.
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    }


def _policy(bucket_logical_id: str, *statements: dict) -> s3.BucketPolicy:
    """Every bucket policy starts by refusing plain HTTP."""
    return s3.BucketPolicy(
        f"{bucket_logical_id}Policy",
        Bucket=Ref(bucket_logical_id),
        PolicyDocument={
            "Version": "2012-10-17",
            "Statement": [_deny_insecure_transport(bucket_logical_id), *statements],
        },
    )


def _lifecycle(
    rule_id: str, noncurrent_days: int, expiration_days: int | None = None
) -> s3.LifecycleConfiguration:
    rule = s3.LifecycleRule(
        Id=rule_id,
        Status="Enabled",
        NoncurrentVersionExpiration=s3.NoncurrentVersionExpiration(NoncurrentDays=noncurrent_days),
        AbortIncompleteMultipartUpload=s3.AbortIncompleteMultipartUpload(
            DaysAfterInitiation=ABORT_INCOMPLETE_UPLOADS_DAYS
        ),
    )
    if expiration_days is not None:
        rule.ExpirationInDays = expiration_days
    return s3.LifecycleConfiguration(Rules=[rule])


def _encryption(default: s3.ServerSideEncryptionByDefault, **rule: object) -> s3.BucketEncryption:
    return s3.BucketEncryption(
        ServerSideEncryptionConfiguration=[
            s3.ServerSideEncryptionRule(ServerSideEncryptionByDefault=default, **rule)
        ]
    )


def _bucket(logical: str, name: PhysicalName, **properties: object) -> s3.Bucket:
    """A bucket with what every bucket shares: private, owner-enforced, versioned, retained."""
    return s3.Bucket(
        logical,
        BucketName=name.sub(),
        PublicAccessBlockConfiguration=s3.PublicAccessBlockConfiguration(
            BlockPublicAcls=True,
            BlockPublicPolicy=True,
            IgnorePublicAcls=True,
            RestrictPublicBuckets=True,
        ),
        OwnershipControls=s3.OwnershipControls(
            Rules=[s3.OwnershipControlsRule(ObjectOwnership="BucketOwnerEnforced")]
        ),
        VersioningConfiguration=s3.VersioningConfiguration(Status="Enabled"),
        **properties,
        **RETAIN,
    )


def add_buckets(template: Template, spec: Spec, names: Names) -> None:
    log_bucket = spec.access_log_bucket
    log_id = bucket_id(log_bucket.name)
    template.add_resource(
        _bucket(
            log_id,
            names.bucket(log_bucket.name),
            # S3 server access logging can only deliver to an SSE-S3 bucket.
            BucketEncryption=_encryption(s3.ServerSideEncryptionByDefault(SSEAlgorithm="AES256")),
            LifecycleConfiguration=_lifecycle(
                "ExpireAccessLogs", ACCESS_LOG_NONCURRENT_DAYS, ACCESS_LOG_DAYS
            ),
            Metadata=waiver_metadata(ACCESS_LOG_BUCKET, *BUCKET),
        )
    )
    template.add_resource(
        _policy(
            log_id,
            {
                "Sid": "AllowServerAccessLogs",
                "Effect": "Allow",
                "Principal": {"Service": "logging.s3.amazonaws.com"},
                "Action": "s3:PutObject",
                "Resource": Sub(f"${{{log_id}.Arn}}/{ACCESS_LOG_PREFIX}*"),
                "Condition": {
                    "StringEquals": {"aws:SourceAccount": Ref("AWS::AccountId")},
                    "ArnLike": {
                        "aws:SourceArn": [GetAtt(bucket_id(b.name), "Arn") for b in spec.buckets]
                    },
                },
            },
        )
    )
    for bucket in spec.buckets:
        logical = bucket_id(bucket.name)
        template.add_resource(
            _bucket(
                logical,
                names.bucket(bucket.name),
                BucketEncryption=_encryption(
                    s3.ServerSideEncryptionByDefault(
                        SSEAlgorithm="aws:kms", KMSMasterKeyID=GetAtt(STACK_KEY, "Arn")
                    ),
                    BucketKeyEnabled=True,
                ),
                LoggingConfiguration=s3.LoggingConfiguration(
                    DestinationBucketName=Ref(log_id),
                    LogFilePrefix=f"{ACCESS_LOG_PREFIX}{bucket.name}/",
                ),
                LifecycleConfiguration=_lifecycle(
                    "CleanUpVersionsAndUploads", NONCURRENT_VERSION_DAYS
                ),
                # Browsers upload attachments straight to S3 with presigned POSTs.
                CorsConfiguration=s3.CorsConfiguration(
                    CorsRules=[
                        s3.CorsRules(
                            AllowedMethods=["POST"],
                            AllowedOrigins=Ref(ALLOWED_ORIGINS),
                            ExposedHeaders=["ETag"],
                            MaxAge=600,
                        )
                    ]
                ),
                Metadata=waiver_metadata(*BUCKET),
            )
        )
        template.add_resource(_policy(logical))
