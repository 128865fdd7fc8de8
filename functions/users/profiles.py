"""User profiles with unique, case-insensitive emails.

A profile lives at `user#<id>` and its email claim at `email#<lowercased email>`; both are
written in one transaction, so a profile never exists without its claim or the reverse.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from backend_kit import errors
from backend_kit.aws import error_code
from backend_kit.http import is_subject
from backend_kit.records import from_item, now, to_item, value

LISTING = "profile"  # every profile is in the listing index under this partition
LISTING_INDEX = "by-created"
PUBLIC = ("id", "name", "created_at")
PRIVATE = (*PUBLIC, "email", "version", "updated_at")


def profile_key(user_id: str) -> dict[str, Any]:
    return {"pk": value(f"user#{user_id}")}


def email_key(email: str) -> dict[str, Any]:
    return {"pk": value(f"email#{email}")}


def _reasons(error: ClientError) -> list[str]:
    return [r.get("Code", "None") for r in error.response.get("CancellationReasons") or []]


@dataclass(frozen=True)
class Profiles:
    dynamodb: Any
    table: str

    def register(self, user_id: str, email: str, name: str) -> dict[str, Any]:
        stamp = now()
        profile = {
            "pk": f"user#{user_id}", "id": user_id, "email": email, "name": name,
            "version": 1, "created_at": stamp, "updated_at": stamp, "listing": LISTING,
        }  # fmt: skip
        try:
            self.dynamodb.transact_write_items(
                TransactItems=[
                    self._put_new(profile),
                    self._put_new({"pk": f"email#{email}", "owner": user_id}),
                ]
            )
        except ClientError as error:
            if error_code(error) != "TransactionCanceledException":
                raise
            reasons = _reasons(error)
            if reasons[0] == "ConditionalCheckFailed":
                raise errors.conflict(
                    "This user is registered already", "already_registered"
                ) from None
            if reasons[1] == "ConditionalCheckFailed":
                raise errors.conflict("This email is taken", "email_taken") from None
            raise
        return profile

    def _put_new(self, record: dict[str, Any]) -> dict[str, Any]:
        return {
            "Put": {
                "TableName": self.table,
                "Item": to_item(record),
                "ConditionExpression": "attribute_not_exists(pk)",
            }
        }

    def get(self, user_id: str) -> dict[str, Any]:
        if not is_subject(user_id):  # no profile has such an id: nothing to look up
            raise errors.not_found("user")
        item = self.dynamodb.get_item(TableName=self.table, Key=profile_key(user_id)).get("Item")
        if item is None:
            raise errors.not_found("user")
        return from_item(item)

    def page(self, limit: int, start: dict[str, Any] | None) -> tuple[list[dict], dict | None]:
        query: dict[str, Any] = {
            "TableName": self.table,
            "IndexName": LISTING_INDEX,
            "KeyConditionExpression": "listing = :listing",
            "ExpressionAttributeValues": {":listing": value(LISTING)},
            "Limit": limit,
        }
        if start:
            query["ExclusiveStartKey"] = start
        result = self.dynamodb.query(**query)
        profiles = [from_item(item) for item in result.get("Items", [])]
        return [{k: p[k] for k in PUBLIC} for p in profiles], result.get("LastEvaluatedKey")

    def update(self, user_id: str, expected: int, changes: dict[str, Any]) -> dict[str, Any]:
        current = self.get(user_id)
        if current["version"] != expected:
            raise errors.precondition_failed()
        new_email = changes.get("email", current["email"])
        updated = {**current, **changes, "version": expected + 1, "updated_at": now()}
        writes: list[dict[str, Any]] = [
            {
                "Put": {
                    "TableName": self.table,
                    "Item": to_item(updated),
                    "ConditionExpression": "version = :expected",
                    "ExpressionAttributeValues": {":expected": value(expected)},
                }
            }
        ]
        if new_email != current["email"]:
            writes.append(self._release_email(current["email"], user_id))
            writes.append(self._put_new({"pk": f"email#{new_email}", "owner": user_id}))
        try:
            self.dynamodb.transact_write_items(TransactItems=writes)
        except ClientError as error:
            if error_code(error) != "TransactionCanceledException":
                raise
            reasons = _reasons(error)
            if reasons[0] == "ConditionalCheckFailed":
                raise errors.precondition_failed() from None
            if len(reasons) > 2 and reasons[2] == "ConditionalCheckFailed":
                raise errors.conflict("This email is taken", "email_taken") from None
            raise
        return updated

    def _release_email(self, email: str, user_id: str) -> dict[str, Any]:
        return {
            "Delete": {
                "TableName": self.table,
                "Key": email_key(email),
                "ConditionExpression": "#owner = :owner",
                "ExpressionAttributeNames": {"#owner": "owner"},
                "ExpressionAttributeValues": {":owner": value(user_id)},
            }
        }

    def delete(self, user_id: str, expected: int) -> None:
        current = self.get(user_id)
        if current["version"] != expected:
            raise errors.precondition_failed()
        try:
            self.dynamodb.transact_write_items(
                TransactItems=[
                    {
                        "Delete": {
                            "TableName": self.table,
                            "Key": profile_key(user_id),
                            "ConditionExpression": "version = :expected",
                            "ExpressionAttributeValues": {":expected": value(expected)},
                        }
                    },
                    self._release_email(current["email"], user_id),
                ]
            )
        except ClientError as error:
            if error_code(error) == "TransactionCanceledException" and (
                _reasons(error)[0] == "ConditionalCheckFailed"
            ):
                raise errors.precondition_failed() from None
            raise
