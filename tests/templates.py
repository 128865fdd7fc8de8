"""Template resources, trust policies and names the CloudFormation and IAM tests share."""

from __future__ import annotations

import uuid
from typing import Any


def dynamodb_table(name: str) -> dict[str, Any]:
    """The smallest on-demand table a template can declare, named `name`; a fresh dict each
    call, so a test may change it."""
    return {
        "Type": "AWS::DynamoDB::Table",
        "Properties": {
            "TableName": name,
            "BillingMode": "PAY_PER_REQUEST",
            "AttributeDefinitions": [{"AttributeName": "id", "AttributeType": "S"}],
            "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}],
        },
    }


def trust_policy(service: str) -> dict[str, Any]:
    """A role trust policy that lets `service` (cloudformation, lambda, ...) assume the role."""
    return {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                       "Principal": {"Service": f"{service}.amazonaws.com"}}],
    }  # fmt: skip


def unique(prefix: str) -> str:
    """A name no other test meets: the emulators and moto's state outlive a test."""
    return f"{prefix}-{uuid.uuid4().hex[:8]}"
