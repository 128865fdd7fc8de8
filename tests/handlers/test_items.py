"""Every row of the contract for /items, tenancy, attachments and idempotency."""

from __future__ import annotations

import base64
import json
import os
import uuid

import pytest
from botocore.config import Config

from backend_kit import aws
from tests.handlers.conftest import Invoke, new_user
from tests.handlers.helpers import assert_error, call, create_item


def test_create_returns_201_with_location(invoke: Invoke) -> None:
    me = new_user()
    reply = call(
        invoke,
        "POST",
        "/items",
        me,
        body={"name": "Lamp", "description": "Warm\nlight", "price_cents": 1999, "tags": ["home"]},
    )
    assert reply.status == 201
    item = reply.json
    assert reply.headers["location"] == f"/items/{item['id']}"
    assert reply.headers["etag"] == '"1"'
    assert item["name"] == "Lamp" and item["price_cents"] == 1999 and item["tags"] == ["home"]
    assert item["version"] == 1 and item["created_at"] == item["updated_at"]
    assert uuid.UUID(item["id"]).version == 7
    assert "owner" not in item


def test_field_rules_name_each_bad_field(invoke: Invoke) -> None:
    body = {
        "name": "",
        "description": "x" * 2001,
        "price_cents": 10**12,
        "tags": ["a"] * 21,
        "colour": "red",
    }
    details = assert_error(call(invoke, "POST", "/items", new_user(), body=body), 400)["details"]
    assert set(details) == {"name", "description", "price_cents", "tags", "colour"}
    for bad in (
        {"name": "ok", "price_cents": -1},
        {"name": "ok", "price_cents": 1.5},
        {"name": "ok", "price_cents": True},
        {"name": "ok", "tags": ["x" * 51]},
        {"name": "ok", "tags": "home"},
    ):
        assert_error(call(invoke, "POST", "/items", new_user(), body=bad), 400)


def test_get_list_patch_delete(invoke: Invoke) -> None:
    me = new_user()
    item = create_item(invoke, me)
    path = f"/items/{item['id']}"
    assert call(invoke, "GET", path, me).json == item
    patched = call(
        invoke,
        "PATCH",
        path,
        me,
        body={"price_cents": 5, "description": None},
        headers={"if-match": '"1"'},
    )
    assert patched.status == 200
    assert patched.json["version"] == 2 and patched.json["price_cents"] == 5
    assert "description" not in patched.json
    assert_error(call(invoke, "PATCH", path, me, body={"name": "x"}), 428)
    assert_error(
        call(invoke, "PATCH", path, me, body={"name": "x"}, headers={"if-match": "1"}), 412
    )
    assert_error(
        call(invoke, "PATCH", path, me, body={"name": None}, headers={"if-match": "2"}), 400
    )
    assert_error(call(invoke, "PATCH", path, me, body={}, headers={"if-match": "2"}), 400)
    assert_error(call(invoke, "DELETE", path, me), 428)
    assert_error(call(invoke, "DELETE", path, me, headers={"if-match": "1"}), 412)
    assert call(invoke, "DELETE", path, me, headers={"if-match": "2"}).status == 204
    assert_error(call(invoke, "GET", path, me), 404)


def test_list_is_paginated_and_only_the_callers(invoke: Invoke) -> None:
    me, other = new_user(), new_user()
    mine = {create_item(invoke, me, name=f"n{i}")["id"] for i in range(5)}
    create_item(invoke, other)
    seen, cursor, pages = [], None, 0
    while True:
        query = {"limit": "2", **({"cursor": cursor} if cursor else {})}
        reply = call(invoke, "GET", "/items", me, query=query)
        assert reply.status == 200
        seen += [i["id"] for i in reply.json["items"]]
        cursor, pages = reply.json["next_cursor"], pages + 1
        if cursor is None:
            break
    assert set(seen) == mine and len(seen) == 5 and pages == 3
    assert seen == sorted(seen)  # UUIDv7 ids list in creation order


def test_limits_and_cursors_are_checked(invoke: Invoke) -> None:
    me, other = new_user(), new_user()
    for _ in range(3):
        create_item(invoke, me)
    for limit in ("0", "101", "abc", "-1", "1.5"):
        assert_error(call(invoke, "GET", "/items", me, query={"limit": limit}), 400)
    cursor = call(invoke, "GET", "/items", me, query={"limit": "1"}).json["next_cursor"]
    payload, signature = cursor.split(".")
    tampered = base64.urlsafe_b64encode(b'{"id":{"S":"x"}}').decode().rstrip("=")
    for bad in (f"{tampered}.{signature}", f"{payload}.{signature[:-2]}AA", "garbage", "a.b.c"):
        assert_error(call(invoke, "GET", "/items", me, query={"cursor": bad}), 400)
    # A cursor is bound to its caller and its query.
    assert_error(call(invoke, "GET", "/items", other, query={"cursor": cursor}), 400)
    assert_error(call(invoke, "GET", "/users", me, query={"cursor": cursor}), 400)
    assert call(invoke, "GET", "/items", me, query={"cursor": cursor}).status == 200


def test_another_callers_item_is_never_revealed(invoke: Invoke) -> None:
    owner, intruder = new_user(), new_user()
    item = create_item(invoke, owner)
    path = f"/items/{item['id']}"
    attempts = [
        call(invoke, "GET", path, intruder),
        call(invoke, "PATCH", path, intruder, body={"name": "x"}, headers={"if-match": "1"}),
        call(invoke, "DELETE", path, intruder, headers={"if-match": "1"}),
        call(
            invoke,
            "POST",
            f"{path}/attachments",
            intruder,
            body={"filename": "a.png", "content_type": "image/png", "size": 10},
        ),
    ]
    for reply in attempts:
        assert_error(reply, 404, "not_found")
    listed = call(invoke, "GET", "/items", intruder).json["items"]
    assert item["id"] not in {i["id"] for i in listed}
    assert call(invoke, "GET", path, owner).json["version"] == 1  # untouched


def test_attachment_is_a_presigned_post_under_the_items_prefix(invoke: Invoke) -> None:
    me = new_user()
    item = create_item(invoke, me)
    reply = call(
        invoke,
        "POST",
        f"/items/{item['id']}/attachments",
        me,
        body={"filename": "../../etc/My Photo.png", "content_type": "image/png", "size": 2048},
    )
    assert reply.status == 201, reply.text
    upload = reply.json
    assert upload["key"].startswith(f"items/{me}/{item['id']}/")
    assert upload["key"].endswith("/My_Photo.png")
    assert upload["fields"]["key"] == upload["key"]
    assert upload["fields"]["Content-Type"] == "image/png"
    policy = json.loads(base64.b64decode(upload["fields"]["policy"]))
    assert ["content-length-range", 1, 2048] in policy["conditions"]
    assert {"Content-Type": "image/png"} in policy["conditions"]
    bad = call(
        invoke,
        "POST",
        f"/items/{item['id']}/attachments",
        me,
        body={"filename": "a", "content_type": "not a type", "size": 0},
    )
    details = assert_error(bad, 400)["details"]
    assert details == {
        "content_type": "must be a media type such as image/png",
        "size": f"must be at least 1 and below {100 * 1024 * 1024 + 1}",
    }


@pytest.mark.parametrize("region", ["us-east-1", "eu-west-1", "ap-southeast-5"])
def test_the_upload_url_is_the_buckets_regional_endpoint(
    invoke: Invoke, region: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A browser posts straight to this URL, and S3 answers the legacy global host with a
    redirect a cross-origin POST cannot follow, or with 400 in newer regions such as
    ap-southeast-5 (https://docs.aws.amazon.com/AmazonS3/latest/API/UsingRouting.html)."""
    me = new_user()
    item = create_item(invoke, me)
    bucket = os.environ["ASSETS_BUCKET"]
    monkeypatch.setenv("AWS_REGION", region)
    aws.client.cache_clear()  # a new container in that region
    try:
        reply = call(
            invoke,
            "POST",
            f"/items/{item['id']}/attachments",
            me,
            body={"filename": "a.png", "content_type": "image/png", "size": 10},
        )
        # What the handler would give without its addressing settings: the global host.
        default = aws.client("s3", Config(signature_version="s3v4"))
        legacy = default.generate_presigned_post(Bucket=bucket, Key="k")["url"]
    finally:
        aws.client.cache_clear()
    assert reply.status == 201, reply.text
    assert reply.json["url"] == f"https://{bucket}.s3.{region}.amazonaws.com/"
    assert legacy == f"https://{bucket}.s3.amazonaws.com/"


def test_idempotency_key_returns_the_first_result(invoke: Invoke) -> None:
    me = new_user()
    headers = {"idempotency-key": f"order-{me}"}
    first = call(invoke, "POST", "/items", me, body={"name": "Desk"}, headers=headers)
    second = call(invoke, "POST", "/items", me, body={"name": "Desk"}, headers=headers)
    assert first.status == second.status == 201
    assert first.json == second.json
    assert len(call(invoke, "GET", "/items", me).json["items"]) == 1
    reused = call(invoke, "POST", "/items", me, body={"name": "Chair"}, headers=headers)
    assert_error(reused, 409, "idempotency_key_reused")
    # The key is the caller's own: another caller with the same key creates its own item.
    other = new_user()
    theirs = call(invoke, "POST", "/items", other, body={"name": "Desk"}, headers=headers)
    assert theirs.status == 201 and theirs.json["id"] != first.json["id"]


def test_unknown_route_and_binary_body_get_the_contract(invoke: Invoke) -> None:
    me = new_user()
    assert_error(call(invoke, "GET", "/items/x/y/z", me), 404)
    binary = call(
        invoke,
        "POST",
        "/items",
        me,
        raw_body=b"\xff\xfe\x00garbage",
        headers={"content-type": "application/json"},
    )
    assert_error(binary, 400, "malformed_request")


@pytest.mark.parametrize(
    ("field", "value"),
    [("name", "\ud800"), ("description", "ok\udfff"), ("tags", ["fine", "\ud83d"])],
)
def test_a_lone_surrogate_is_a_400_naming_the_field(
    invoke: Invoke, field: str, value: object
) -> None:
    body = {"name": "Lamp", field: value}
    details = assert_error(call(invoke, "POST", "/items", new_user(), body=body), 400)["details"]
    assert list(details) == [field] and "lone surrogates" in details[field]


def test_a_patch_with_a_lone_surrogate_is_400_and_changes_nothing(invoke: Invoke) -> None:
    me = new_user()
    item = create_item(invoke, me)
    path = f"/items/{item['id']}"
    bad = call(invoke, "PATCH", path, me, body={"name": "\ud800"}, headers={"if-match": '"1"'})
    assert set(assert_error(bad, 400)["details"]) == {"name"}
    assert call(invoke, "GET", path, me).json["version"] == 1


def test_if_match_compares_strongly(invoke: Invoke) -> None:
    """RFC 9110 13.1.1: If-Match uses the strong comparison, so a weak tag never matches."""
    me = new_user()
    item = create_item(invoke, me)
    path = f"/items/{item['id']}"
    weak = call(invoke, "PATCH", path, me, body={"name": "x"}, headers={"if-match": 'W/"1"'})
    assert_error(weak, 412, "precondition_failed")
    strong = call(invoke, "PATCH", path, me, body={"name": "x"}, headers={"if-match": '"1"'})
    assert strong.status == 200


def test_a_weak_tag_on_a_missing_item_is_still_404(invoke: Invoke) -> None:
    """A precondition is ignored where the answer without it is not a success (RFC 9110,
    13.2.1): no item is 404 whatever If-Match says."""
    me = new_user()
    item = create_item(invoke, me)
    path = f"/items/{item['id']}"
    assert call(invoke, "DELETE", path, me, headers={"if-match": '"1"'}).status == 204
    for method, body in (("PATCH", {"name": "x"}), ("DELETE", None)):
        reply = call(invoke, method, path, me, body=body, headers={"if-match": 'W/"2"'})
        assert_error(reply, 404, "not_found")


def test_an_invalid_body_is_400_before_its_precondition_is_read(invoke: Invoke) -> None:
    me = new_user()
    item = create_item(invoke, me)
    path = f"/items/{item['id']}"
    for stale in ('W/"1"', '"7"', None):
        headers = {"if-match": stale} if stale else {}
        reply = call(invoke, "PATCH", path, me, body={"price_cents": -1}, headers=headers)
        assert_error(reply, 400, "invalid_request")
        assert "price_cents" in reply.json["error"]["details"]
