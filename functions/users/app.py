"""The /users routes: thin handlers over `profiles`, with the contract's errors."""

from __future__ import annotations

import os
from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.metrics import MetricUnit
from profile_fields import CHANGES, REGISTRATION
from profiles import PRIVATE, PUBLIC, Profiles

from backend_kit import errors, http, snapstart
from backend_kit.aws import client
from backend_kit.cursors import Cursors
from backend_kit.secrets import signing_key

app = http.create_app()
profiles: Profiles
cursors: Cursors


def wire() -> None:
    """The handler's objects over this environment's clients; again after a restore."""
    global profiles, cursors
    profiles = Profiles(client("dynamodb"), os.environ["USERS_TABLE"])
    cursors = Cursors(signing_key(os.environ["CURSOR_SIGNING_KEY_PARAMETER"]))


wire()
snapstart.arm(wire)


def view(profile: dict[str, Any], caller: str) -> dict[str, Any]:
    fields = PRIVATE if profile["id"] == caller else PUBLIC
    return {field: profile[field] for field in fields}


def own(user_id: str, caller: str, action: str) -> None:
    if user_id != caller:
        raise errors.forbidden(f"Only the owner may {action} a profile")


@app.post("/users")
def register() -> Response:
    caller = http.caller(app)
    body = http.json_body(app, REGISTRATION)
    profile = profiles.register(caller, body["email"], body["name"])
    http.metrics.add_metric("UserRegistered", MetricUnit.Count, 1)
    return http.respond(201, view(profile, caller), etag=profile["version"],
                        location=f"/users/{caller}")  # fmt: skip


@app.get("/users")
def list_users() -> Response:
    # Every profile is public: the listing is the same whoever asks.
    return http.list_page(
        app, cursors, "GET /users", lambda _, limit, start: profiles.page(limit, start)
    )


@app.get("/users/<user_id>")
def get_user(user_id: str) -> Response:
    caller = http.caller(app)
    profile = profiles.get(user_id)
    # Another user's version stays private, like the rest of their profile's private fields.
    etag = profile["version"] if user_id == caller else None
    return http.respond(200, view(profile, caller), etag=etag)


@app.patch("/users/<user_id>")
def update_user(user_id: str) -> Response:
    caller = http.caller(app)
    own(user_id, caller, "change")
    changes = http.json_body(app, CHANGES, partial=True)
    expected = http.expected_version(app)
    profile = profiles.update(caller, expected, changes)
    return http.respond(200, view(profile, caller), etag=profile["version"])


@app.delete("/users/<user_id>")
def delete_user(user_id: str) -> Response:
    caller = http.caller(app)
    own(user_id, caller, "delete")
    profiles.delete(caller, http.expected_version(app))
    http.metrics.add_metric("UserDeleted", MetricUnit.Count, 1)
    return http.respond(204)


handler = http.lambda_handler(app)
