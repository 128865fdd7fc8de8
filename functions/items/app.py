"""The /items routes: thin handlers over `catalog`, with idempotent creates and
presigned attachment uploads."""

from __future__ import annotations

import functools
import os
import re
import uuid
from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.metrics import MetricUnit
from botocore.config import Config
from catalog import Catalog
from item_fields import ATTACHMENT, ITEM

from backend_kit import errors, http
from backend_kit.aws import RETRY_AFTER_S, client
from backend_kit.cursors import Cursors
from backend_kit.secrets import signing_key

IDEMPOTENCY_KEY = re.compile(r"^[\x21-\x7e]{1,128}$")
UPLOAD_EXPIRES_S = 900
# The upload URL names the bucket's own region (https://<bucket>.s3.<region>.amazonaws.com/).
# botocore's default is the legacy global host, which S3 answers with a 307 redirect for
# older regions (a browser's cross-origin POST does not follow it) and with 400 for regions
# launched after 20 March 2019 (https://docs.aws.amazon.com/AmazonS3/latest/API/
# UsingRouting.html). Behind an IP endpoint such as the emulator's, botocore keeps path style.
UPLOADS = Config(
    signature_version="s3v4",
    s3={"addressing_style": "virtual", "us_east_1_regional_endpoint": "regional"},
)
IDEMPOTENCY_HOURS = 24

app = http.create_app()
dynamodb = client("dynamodb")
catalog = Catalog(dynamodb, os.environ["ITEMS_TABLE"])
cursors = Cursors(signing_key(os.environ["CURSOR_SIGNING_KEY_PARAMETER"]))


@functools.cache
def idempotent_create() -> tuple[Any, Any]:
    """Powertools idempotency over the idempotency table, keyed by caller and header and
    checked against the body. Imported on first use: most requests never need it."""
    from aws_lambda_powertools.utilities.idempotency import (
        DynamoDBPersistenceLayer,
        IdempotencyConfig,
        idempotent_function,
    )

    config = IdempotencyConfig(
        event_key_jmespath="[caller, key]",
        payload_validation_jmespath="body",
        expires_after_seconds=IDEMPOTENCY_HOURS * 3600,
    )
    store = DynamoDBPersistenceLayer(
        table_name=os.environ["IDEMPOTENCY_TABLE"], boto3_client=dynamodb
    )

    # A fixed prefix keeps keys stable across deploys and code moves (the default derives it
    # from the module and function names).
    @idempotent_function(
        data_keyword_argument="request",
        persistence_store=store,
        config=config,
        key_prefix="items.create",
    )
    def create(request: dict[str, Any]) -> dict[str, Any]:
        return catalog.create(request["caller"], request["body"])

    return create, config


def create_once(caller: str, key: str, body: dict[str, Any]) -> dict[str, Any]:
    from aws_lambda_powertools.utilities.idempotency.exceptions import (
        IdempotencyAlreadyInProgressError,
        IdempotencyValidationError,
    )

    create, config = idempotent_create()
    config.register_lambda_context(app.lambda_context)
    try:
        return create(request={"caller": caller, "key": key, "body": body})
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


@app.post("/items")
def create_item() -> Response:
    caller = http.caller(app)
    body = http.json_body(app, ITEM)
    key = http.header(app, "idempotency-key")
    if key is None:
        item = catalog.create(caller, body)
    elif not IDEMPOTENCY_KEY.match(key):
        raise errors.invalid({"Idempotency-Key": "must be 1 to 128 printable ASCII characters"})
    else:
        item = create_once(caller, key, body)
    http.metrics.add_metric("ItemCreated", MetricUnit.Count, 1)
    return http.respond(201, item, etag=item["version"], location=f"/items/{item['id']}")


@app.get("/items")
def list_items() -> Response:
    return http.list_page(app, cursors, "GET /items", catalog.page)


@app.get("/items/<item_id>")
def get_item(item_id: str) -> Response:
    item = catalog.get(http.caller(app), item_id)
    return http.respond(200, item, etag=item["version"])


@app.patch("/items/<item_id>")
def update_item(item_id: str) -> Response:
    caller = http.caller(app)
    changes = http.json_body(app, ITEM, partial=True)
    expected = http.expected_version(app)
    item = catalog.update(caller, item_id, expected, changes)
    return http.respond(200, item, etag=item["version"])


@app.delete("/items/<item_id>")
def delete_item(item_id: str) -> Response:
    caller = http.caller(app)
    catalog.delete(caller, item_id, http.expected_version(app))
    return http.respond(204)


def safe_filename(name: str) -> str:
    cleaned = re.sub(r"[^A-Za-z0-9._-]+", "_", name.rsplit("/", 1)[-1]).strip("._")
    return cleaned[:120] or "file"


@app.post("/items/<item_id>/attachments")
def create_attachment(item_id: str) -> Response:
    caller = http.caller(app)
    body = http.json_body(app, ATTACHMENT)
    catalog.get(caller, item_id)  # 404 unless the caller owns it
    key = f"items/{caller}/{item_id}/{uuid.uuid4()}/{safe_filename(body['filename'])}"
    s3 = client("s3", UPLOADS)
    upload = s3.generate_presigned_post(
        Bucket=os.environ["ASSETS_BUCKET"],
        Key=key,
        Fields={"Content-Type": body["content_type"]},
        Conditions=[
            {"Content-Type": body["content_type"]},
            ["content-length-range", 1, body["size"]],
        ],
        ExpiresIn=UPLOAD_EXPIRES_S,
    )
    return http.respond(201, {"url": upload["url"], "fields": upload["fields"], "key": key})


handler = http.lambda_handler(app)
