"""Template resources the CloudFormation tests share."""

from __future__ import annotations

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
