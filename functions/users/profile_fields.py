"""What the /users routes accept as a body, as data: the handler validates with it, and
build/openapi.json describes it."""

from __future__ import annotations

from backend_kit.validation import Field, Schema, email, text

REGISTRATION: Schema = {
    "email": Field(email, required=True),
    "name": Field(text(1, 200), required=True),
}
CHANGES: Schema = {"email": Field(email), "name": Field(text(1, 200))}
# Route key -> (schema, partial): what each route with a body validates it against.
BODIES: dict[str, tuple[Schema, bool]] = {
    "POST /users": (REGISTRATION, False),
    "PATCH /users/{id}": (CHANGES, True),
}
