"""Every row of the contract for /users."""

from __future__ import annotations

import collections

from tests.handlers.conftest import Invoke, new_user
from tests.handlers.helpers import assert_error, call, register


def test_register_returns_the_private_profile(invoke: Invoke) -> None:
    me = new_user()
    reply = call(invoke, "POST", "/users", me, body={"email": f"Me.{me}@Example.COM", "name": "Me"})
    assert reply.status == 201
    assert reply.headers["location"] == f"/users/{me}"
    assert reply.headers["etag"] == '"1"'
    body = reply.json
    assert body["id"] == me and body["name"] == "Me" and body["version"] == 1
    assert body["email"] == f"me.{me}@example.com"  # stored lowercased
    assert body["created_at"].endswith("Z") and body["created_at"] == body["updated_at"]


def test_registering_twice_is_a_conflict(invoke: Invoke) -> None:
    me = new_user()
    register(invoke, me)
    again = call(invoke, "POST", "/users", me, body={"email": f"x{me}@example.com", "name": "B"})
    assert_error(again, 409, "already_registered")


def test_emails_are_unique_case_insensitively(invoke: Invoke) -> None:
    first, second = new_user(), new_user()
    register(invoke, first, email=f"Taken.{first}@example.com")
    reply = call(
        invoke, "POST", "/users", second, body={"email": f"TAKEN.{first}@EXAMPLE.com", "name": "B"}
    )
    assert_error(reply, 409, "email_taken")
    # The failed transaction left no profile behind.
    assert_error(call(invoke, "GET", f"/users/{second}", first), 404)


def test_invalid_registration_names_each_field(invoke: Invoke) -> None:
    reply = call(
        invoke,
        "POST",
        "/users",
        new_user(),
        body={"email": "not-an-email", "name": "", "admin": True},
    )
    details = assert_error(reply, 400, "invalid_request")["details"]
    assert set(details) == {"email", "name", "admin"}


def test_name_rejects_control_characters_and_length(invoke: Invoke) -> None:
    for name in ("bad\x00name", "a" * 201, 42):
        reply = call(invoke, "POST", "/users", new_user(), body={"email": "a@b.co", "name": name})
        assert assert_error(reply, 400)["details"].keys() == {"name"}


def test_other_profiles_are_public_and_hide_the_email(invoke: Invoke) -> None:
    owner, viewer = new_user(), new_user()
    register(invoke, owner, name="Owner")
    public = call(invoke, "GET", f"/users/{owner}", viewer)
    assert public.status == 200
    assert public.json == {"id": owner, "name": "Owner", "created_at": public.json["created_at"]}
    own = call(invoke, "GET", f"/users/{owner}", owner)
    assert own.json["email"] == f"{owner}@example.com"


def test_missing_profile_is_404(invoke: Invoke) -> None:
    assert_error(call(invoke, "GET", f"/users/{new_user()}", new_user()), 404, "not_found")


def test_list_paginates_public_profiles(invoke: Invoke) -> None:
    me = new_user()
    for _ in range(3):
        register(invoke, new_user())
    seen, cursor = [], None
    while True:
        query = {"limit": "2", **({"cursor": cursor} if cursor else {})}
        reply = call(invoke, "GET", "/users", me, query=query)
        assert reply.status == 200
        assert len(reply.json["items"]) <= 2
        for profile in reply.json["items"]:
            assert set(profile) == {"id", "name", "created_at"}
        seen += [p["id"] for p in reply.json["items"]]
        cursor = reply.json["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == len(set(seen)) >= 3


def test_patch_needs_if_match_and_rejects_stale_versions(invoke: Invoke) -> None:
    me = new_user()
    register(invoke, me)
    assert_error(call(invoke, "PATCH", f"/users/{me}", me, body={"name": "N"}), 428)
    ok = call(invoke, "PATCH", f"/users/{me}", me, body={"name": "N"}, headers={"if-match": '"1"'})
    assert ok.status == 200 and ok.json["version"] == 2 and ok.headers["etag"] == '"2"'
    stale = call(
        invoke, "PATCH", f"/users/{me}", me, body={"name": "M"}, headers={"if-match": '"1"'}
    )
    assert_error(stale, 412, "precondition_failed")


def test_patch_moves_the_email_claim(invoke: Invoke) -> None:
    me, other = new_user(), new_user()
    register(invoke, me, email=f"old.{me}@example.com")
    reply = call(
        invoke,
        "PATCH",
        f"/users/{me}",
        me,
        body={"email": f"New.{me}@example.com"},
        headers={"if-match": "1"},
    )
    assert reply.status == 200 and reply.json["email"] == f"new.{me}@example.com"
    register(invoke, other, email=f"old.{me}@example.com")  # the old email is free again
    taken = call(
        invoke,
        "PATCH",
        f"/users/{other}",
        other,
        body={"email": f"new.{me}@example.com"},
        headers={"if-match": "1"},
    )
    assert_error(taken, 409, "email_taken")


def test_only_the_owner_changes_or_deletes_a_profile(invoke: Invoke) -> None:
    owner, intruder = new_user(), new_user()
    register(invoke, owner)
    patch = call(
        invoke, "PATCH", f"/users/{owner}", intruder, body={"name": "X"}, headers={"if-match": "1"}
    )
    assert_error(patch, 403, "forbidden")
    assert_error(
        call(invoke, "DELETE", f"/users/{owner}", intruder, headers={"if-match": "1"}), 403
    )
    assert call(invoke, "GET", f"/users/{owner}", owner).json["name"] == "A"


def test_delete_frees_the_email(invoke: Invoke) -> None:
    me, later = new_user(), new_user()
    register(invoke, me, email=f"gone.{me}@example.com")
    assert_error(call(invoke, "DELETE", f"/users/{me}", me), 428)
    assert_error(call(invoke, "DELETE", f"/users/{me}", me, headers={"if-match": "7"}), 412)
    deleted = call(invoke, "DELETE", f"/users/{me}", me, headers={"if-match": '"1"'})
    assert deleted.status == 204 and deleted.text == ""
    assert_error(call(invoke, "GET", f"/users/{me}", me), 404)
    register(invoke, later, email=f"gone.{me}@example.com")


def test_no_token_is_401(invoke: Invoke) -> None:
    assert_error(call(invoke, "GET", "/users", None), 401, "unauthorized")


def test_body_limits(invoke: Invoke) -> None:
    me = new_user()
    big = call(
        invoke,
        "POST",
        "/users",
        me,
        raw_body="x" * (64 * 1024 + 1),
        headers={"content-type": "application/json"},
    )
    assert_error(big, 413, "payload_too_large")
    text = call(invoke, "POST", "/users", me, raw_body="{}", headers={"content-type": "text/plain"})
    assert_error(text, 415)
    broken = call(
        invoke, "POST", "/users", me, raw_body="{nope", headers={"content-type": "application/json"}
    )
    assert_error(broken, 400, "malformed_request")


def test_a_lone_surrogate_is_a_400_naming_the_field_before_any_aws_call(
    invoke: Invoke, aws_calls: collections.Counter
) -> None:
    """JSON's "\\ud800" decodes to half a UTF-16 pair, which no UTF-8 encodes and DynamoDB
    refuses: it used to reach DynamoDB and end in a 500 after three retries."""
    me = new_user()
    aws_calls.clear()
    reply = call(invoke, "POST", "/users", me, body={"email": f"{me}@example.com",
                                                     "name": "A\ud800"})  # fmt: skip
    assert assert_error(reply, 400)["details"] == {
        "name": "must be valid Unicode, without lone surrogates"
    }
    assert not [c for c in aws_calls if c[0] == "dynamodb"]
    # An unknown field named with one is named back without breaking the answer.
    odd = call(invoke, "POST", "/users", me, body={"email": "a@example.com", "name": "A",
                                                    "\udc00x": 1})  # fmt: skip
    assert list(assert_error(odd, 400)["details"]) == ["?x"]


def test_another_users_version_is_not_revealed(invoke: Invoke) -> None:
    me, other = new_user(), new_user()
    register(invoke, me)
    register(invoke, other)
    mine = call(invoke, "GET", f"/users/{me}", me)
    assert mine.headers["etag"] == '"1"'
    theirs = call(invoke, "GET", f"/users/{me}", other)
    assert theirs.status == 200 and "etag" not in theirs.headers
    assert "version" not in theirs.json


def test_a_user_id_no_token_can_carry_is_404_without_a_lookup(
    invoke: Invoke, aws_calls: collections.Counter
) -> None:
    aws_calls.clear()
    assert_error(call(invoke, "GET", f"/users/{'x' * 129}", new_user()), 404, "not_found")
    assert not aws_calls
