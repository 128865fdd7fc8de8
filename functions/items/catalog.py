"""Items, partitioned by owner: every read and write names the caller's own partition, so
another caller's item is simply not found."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from backend_kit import errors
from backend_kit.aws import error_code
from backend_kit.records import from_item, is_id, new_id, now, to_item, value

FIELDS = ("id", "name", "description", "price_cents", "tags", "version", "created_at",
          "updated_at")  # fmt: skip


def key(owner: str, item_id: str) -> dict[str, Any]:
    return {"owner": value(owner), "id": value(item_id)}


def view(record: dict[str, Any]) -> dict[str, Any]:
    return {field: record[field] for field in FIELDS if field in record}


@dataclass(frozen=True)
class Catalog:
    dynamodb: Any
    table: str

    def create(self, owner: str, fields: dict[str, Any]) -> dict[str, Any]:
        stamp = now()
        record = {"owner": owner, "id": new_id(), **fields, "version": 1,
                  "created_at": stamp, "updated_at": stamp}  # fmt: skip
        try:
            self.dynamodb.put_item(
                TableName=self.table,
                Item=to_item(record),
                ConditionExpression="attribute_not_exists(id)",  # a create never replaces
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except ClientError as error:
            if _own_write(error, lambda stored: stored == record) is None:
                raise
        return view(record)

    def get(self, owner: str, item_id: str) -> dict[str, Any]:
        if not is_id(item_id):
            raise errors.not_found("item")
        item = self.dynamodb.get_item(TableName=self.table, Key=key(owner, item_id)).get("Item")
        if item is None:
            raise errors.not_found("item")
        return view(from_item(item))

    def page(self, owner: str, limit: int, start: dict | None) -> tuple[list[dict], dict | None]:
        query: dict[str, Any] = {
            "TableName": self.table,
            "KeyConditionExpression": "#owner = :owner",
            "ExpressionAttributeNames": {"#owner": "owner"},
            "ExpressionAttributeValues": {":owner": value(owner)},
            "Limit": limit,
        }
        if start:
            query["ExclusiveStartKey"] = start
        result = self.dynamodb.query(**query)
        items = [view(from_item(item)) for item in result.get("Items", [])]
        return items, result.get("LastEvaluatedKey")

    def update(
        self, owner: str, item_id: str, expected: int, changes: dict[str, Any]
    ) -> dict[str, Any]:
        if not is_id(item_id):
            raise errors.not_found("item")
        stamp = now()
        names = {"#version": "version", "#updated_at": "updated_at"}
        values = {":expected": value(expected), ":next": value(expected + 1),
                  ":now": value(stamp)}  # fmt: skip
        sets = ["#version = :next", "#updated_at = :now"]
        removes = []
        for index, (field, new) in enumerate(sorted(changes.items())):
            names[f"#f{index}"] = field
            if new is None:
                removes.append(f"#f{index}")
            else:
                values[f":f{index}"] = value(new)
                sets.append(f"#f{index} = :f{index}")
        expression = "SET " + ", ".join(sets)
        if removes:
            expression += " REMOVE " + ", ".join(removes)
        try:
            result = self.dynamodb.update_item(
                TableName=self.table,
                Key=key(owner, item_id),
                UpdateExpression=expression,
                ConditionExpression="attribute_exists(id) AND #version = :expected",
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=values,
                ReturnValues="ALL_NEW",
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except ClientError as error:
            own = _own_write(error, lambda stored: _applied(stored, expected + 1, stamp, changes))
            if own is None:
                raise self._condition_error(error) from None
            return view(own)
        return view(from_item(result["Attributes"]))

    def delete(self, owner: str, item_id: str, expected: int) -> None:
        if not is_id(item_id):
            raise errors.not_found("item")
        try:
            self.dynamodb.delete_item(
                TableName=self.table,
                Key=key(owner, item_id),
                ConditionExpression="attribute_exists(id) AND #version = :expected",
                ExpressionAttributeNames={"#version": "version"},
                ExpressionAttributeValues={":expected": value(expected)},
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except ClientError as error:
            # Gone after a retry: the first attempt deleted it, and its answer was lost.
            if not (_failed_on_retry(error) and "Item" not in error.response):
                raise self._condition_error(error) from None

    @staticmethod
    def _condition_error(error: ClientError) -> Exception:
        """A failed condition is 404 when there was no item, 412 when its version moved."""
        if error_code(error) != "ConditionalCheckFailedException":
            return error
        return (
            errors.precondition_failed() if error.response.get("Item") else errors.not_found("item")
        )


def _failed_on_retry(error: ClientError) -> bool:
    """A condition that failed on botocore's retry: the first attempt may have succeeded."""
    if error_code(error) != "ConditionalCheckFailedException":
        return False
    return int(error.response.get("ResponseMetadata", {}).get("RetryAttempts", 0)) > 0


def _returned(error: ClientError) -> dict[str, Any] | None:
    """The stored item a failed condition returns (ReturnValuesOnConditionCheckFailure)."""
    stored = error.response.get("Item")  # not in botocore's typed error response
    return stored if isinstance(stored, dict) else None


def _own_write(error: ClientError, ours: Callable[[dict[str, Any]], bool]) -> dict[str, Any] | None:
    """The stored record, when the condition failed because this request's own first attempt
    succeeded and its answer was lost, so botocore tried again: the record DynamoDB returns
    (ReturnValuesOnConditionCheckFailure) is exactly what this request wrote. A first attempt
    that fails lost to someone else, even one who wrote the same fields in the same
    millisecond: None."""
    stored = _returned(error)
    if not _failed_on_retry(error) or stored is None:
        return None
    record = from_item(stored)
    return record if ours(record) else None


def _applied(stored: dict[str, Any], version: int, stamp: str, changes: dict[str, Any]) -> bool:
    if stored.get("version") != version or stored.get("updated_at") != stamp:
        return False
    return all(stored.get(field) == new for field, new in changes.items())
