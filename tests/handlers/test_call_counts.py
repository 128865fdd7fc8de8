"""AWS calls per request on a warm container, counted at the botocore client."""

from __future__ import annotations

import collections

from tests.handlers.conftest import Invoke, new_user
from tests.handlers.helpers import call, create_item


def test_get_item_is_one_dynamodb_call(invoke: Invoke, aws_calls: collections.Counter) -> None:
    me = new_user()
    item = create_item(invoke, me)
    call(invoke, "GET", f"/items/{item['id']}", me)  # warm
    aws_calls.clear()
    assert call(invoke, "GET", f"/items/{item['id']}", me).status == 200
    assert aws_calls == {("dynamodb", "GetItem"): 1}


def test_a_list_page_is_one_query_and_no_ssm(
    invoke: Invoke, aws_calls: collections.Counter
) -> None:
    me = new_user()
    for _ in range(3):
        create_item(invoke, me)
    first = call(invoke, "GET", "/items", me, query={"limit": "1"})  # warm: fetches the key
    aws_calls.clear()
    page = call(
        invoke, "GET", "/items", me, query={"limit": "1", "cursor": first.json["next_cursor"]}
    )
    assert page.status == 200 and page.json["next_cursor"]
    assert aws_calls == {("dynamodb", "Query"): 1}


def test_the_signing_key_is_fetched_once_per_container(
    invoke: Invoke, aws_calls: collections.Counter
) -> None:
    from backend_kit.secrets import _provider

    _provider().clear_cache()
    me = new_user()
    for _ in range(2):
        create_item(invoke, me)
    aws_calls.clear()
    for _ in range(5):
        call(invoke, "GET", "/items", me, query={"limit": "1"})
    assert aws_calls[("ssm", "GetParameter")] == 1
    assert aws_calls[("dynamodb", "Query")] == 5
