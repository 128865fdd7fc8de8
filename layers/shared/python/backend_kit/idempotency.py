"""Creates a client may retry with an `Idempotency-Key`: Powertools idempotency over a DynamoDB
table, keyed by the caller and the key, checked against the body, failing as the contract's
409s. Powertools' idempotency is imported on the first keyed request: cold starts, and most
requests, never need it."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from backend_kit import errors, http
from backend_kit.aws import RETRY_AFTER_S
from backend_kit.validation import IDEMPOTENCY_KEY

if TYPE_CHECKING:
    from aws_lambda_powertools.event_handler import APIGatewayHttpResolver
    from aws_lambda_powertools.utilities.idempotency import IdempotencyConfig

HEADER = "idempotency-key"
EXPIRES_AFTER_S = 24 * 3600

# create(caller, body) -> the created record, as the response states it.
Create = Callable[[str, dict[str, Any]], dict[str, Any]]


class IdempotentCreate:
    """`create(caller, body)`, run once per caller and Idempotency-Key within EXPIRES_AFTER_S:
    a repeat with the same body answers the first result. Without the header it simply runs.

    `key_prefix` names the records in the table. It is fixed, so keys stay stable across
    deploys and code moves (Powertools' default derives it from module and function names)."""

    def __init__(self, create: Create, *, key_prefix: str, table: str, dynamodb: Any) -> None:
        self.create = create
        self.key_prefix = key_prefix
        self.table = table
        self.dynamodb = dynamodb

    def __call__(
        self, app: APIGatewayHttpResolver, caller: str, body: dict[str, Any]
    ) -> dict[str, Any]:
        key = http.header(app, HEADER)
        if key is None:
            return self.create(caller, body)
        if not IDEMPOTENCY_KEY.match(key):
            raise errors.invalid({"Idempotency-Key": "must be 1 to 128 printable ASCII characters"})
        return self._once(app, caller, key, body)

    def _once(
        self, app: APIGatewayHttpResolver, caller: str, key: str, body: dict[str, Any]
    ) -> dict[str, Any]:
        from aws_lambda_powertools.utilities.idempotency.exceptions import (
            IdempotencyAlreadyInProgressError,
            IdempotencyValidationError,
        )

        create, config = self._wired
        # Powertools leaves a record "in progress" at most until this invocation times out.
        config.register_lambda_context(app.lambda_context)
        try:
            result: dict[str, Any] = create(request={"caller": caller, "key": key, "body": body})
        except IdempotencyValidationError:
            raise errors.conflict(
                "This Idempotency-Key was used with a different body", "idempotency_key_reused"
            ) from None
        except IdempotencyAlreadyInProgressError:
            raise errors.conflict(
                "A request with this Idempotency-Key is in progress",
                "idempotency_in_progress",
                **{"Retry-After": str(RETRY_AFTER_S)},
            ) from None
        return result

    @functools.cached_property
    def _wired(self) -> tuple[Callable[..., Any], IdempotencyConfig]:
        """The decorated create and its config, made once per container on first use."""
        from aws_lambda_powertools.utilities.idempotency import (
            DynamoDBPersistenceLayer,
            IdempotencyConfig,
            idempotent_function,
        )

        config = IdempotencyConfig(
            event_key_jmespath="[caller, key]",
            payload_validation_jmespath="body",
            expires_after_seconds=EXPIRES_AFTER_S,
        )
        store = DynamoDBPersistenceLayer(table_name=self.table, boto3_client=self.dynamodb)

        @idempotent_function(
            data_keyword_argument="request",
            persistence_store=store,
            config=config,
            key_prefix=self.key_prefix,
        )
        def create(request: dict[str, Any]) -> dict[str, Any]:
            return self.create(request["caller"], request["body"])

        return create, config
