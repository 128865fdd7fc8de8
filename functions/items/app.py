"""The /items routes: thin handlers over `catalog`, with idempotent creates and presigned
attachment uploads."""

from __future__ import annotations

import os

from attachments import Uploads
from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.metrics import MetricUnit
from catalog import Catalog
from item_fields import ATTACHMENT, ITEM

from backend_kit import http, snapstart
from backend_kit.aws import client
from backend_kit.cursors import Cursors
from backend_kit.idempotency import IdempotentCreate
from backend_kit.secrets import signing_key

app = http.create_app()
catalog: Catalog
cursors: Cursors
create_once: IdempotentCreate
uploads = Uploads(os.environ["ASSETS_BUCKET"])


def wire() -> None:
    """The handler's objects over this environment's clients; again after a restore."""
    global catalog, cursors, create_once
    dynamodb = client("dynamodb")
    catalog = Catalog(dynamodb, os.environ["ITEMS_TABLE"])
    cursors = Cursors(signing_key(os.environ["CURSOR_SIGNING_KEY_PARAMETER"]))
    create_once = IdempotentCreate(
        catalog.create,
        key_prefix="items.create",
        table=os.environ["IDEMPOTENCY_TABLE"],
        dynamodb=dynamodb,
    )


wire()
snapstart.arm(wire)


@app.post("/items")
def create_item() -> Response:
    caller = http.caller(app)
    item = create_once(app, caller, http.json_body(app, ITEM))
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


@app.post("/items/<item_id>/attachments")
def create_attachment(item_id: str) -> Response:
    caller = http.caller(app)
    body = http.json_body(app, ATTACHMENT)
    catalog.get(caller, item_id)  # 404 unless the caller owns it
    return http.respond(201, uploads.presigned_post(caller, item_id, body))


handler = http.lambda_handler(app)
