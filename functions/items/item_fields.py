"""What the /items routes accept as a body, as data: the handler validates with it, and
build/openapi.json describes it."""

from __future__ import annotations

import re

from backend_kit.validation import Field, Schema, integer, string_list, text

CONTENT_TYPE = re.compile(r"^[a-z0-9][a-z0-9!#$&^_.+-]{0,62}/[a-z0-9][a-z0-9!#$&^_.+-]{0,62}$")
MAX_UPLOAD_BYTES = 100 * 1024 * 1024

ITEM: Schema = {
    "name": Field(text(1, 200), required=True),
    "description": Field(text(0, 2000, multiline=True), nullable=True),
    "price_cents": Field(integer(0, 10**12), nullable=True),
    "tags": Field(string_list(20, text(1, 50)), nullable=True),
}
ATTACHMENT: Schema = {
    "filename": Field(text(1, 200), required=True),
    "content_type": Field(
        text(3, 127, pattern=CONTENT_TYPE, meaning="must be a media type such as image/png"),
        required=True,
    ),
    "size": Field(integer(1, MAX_UPLOAD_BYTES + 1), required=True),
}
# Route key -> (schema, partial): what each route with a body validates it against.
BODIES: dict[str, tuple[Schema, bool]] = {
    "POST /items": (ITEM, False),
    "PATCH /items/{id}": (ITEM, True),
    "POST /items/{id}/attachments": (ATTACHMENT, False),
}
