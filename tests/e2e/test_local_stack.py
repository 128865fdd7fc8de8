"""The contract end to end over real HTTP, against `python -m offline serve`."""

from __future__ import annotations

import base64
import json
import socket
import urllib.error
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from offline.stack.driver import ServeProcess
from tests.e2e.conftest import multipart, serving

pytestmark = pytest.mark.e2e


def claims(token: str) -> dict:
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def register(local: ServeProcess, token: str) -> dict:
    me = claims(token)["sub"]
    reply = local.request("GET", f"/users/{me}", token=token)
    if reply.status == 404:
        reply = local.request(
            "POST", "/users", token=token, body={"email": f"{me}@example.com", "name": me[:8]}
        )
        assert reply.status == 201, reply.body
    return reply.json


def test_health_needs_no_token(local: ServeProcess) -> None:
    reply = local.request("GET", "/health")
    assert reply.status == 200
    assert reply.json["status"] == "ok" and len(reply.json["version"]) == 16


def test_the_item_lifecycle(local: ServeProcess, alice: str) -> None:
    created = local.request(
        "POST", "/items", token=alice, body={"name": "Lamp", "price_cents": 1999}
    )
    assert created.status == 201
    item = created.json
    assert created.headers["location"] == f"/items/{item['id']}"
    path = f"/items/{item['id']}"
    assert local.request("GET", path, token=alice).json == item
    assert local.request("PATCH", path, token=alice, body={"name": "x"}).status == 428
    patched = local.request(
        "PATCH",
        path,
        token=alice,
        body={"name": "Lamp 2"},
        headers={"if-match": created.headers["etag"]},
    )
    assert patched.status == 200 and patched.json["version"] == 2
    stale = local.request(
        "PATCH", path, token=alice, body={"name": "Lamp 3"}, headers={"if-match": '"1"'}
    )
    assert stale.status == 412 and stale.json["error"]["code"] == "precondition_failed"
    assert local.request("DELETE", path, token=alice, headers={"if-match": '"2"'}).status == 204
    assert local.request("GET", path, token=alice).status == 404


def test_profiles_and_unique_emails(local: ServeProcess, alice: str, bob: str) -> None:
    mine = register(local, alice)
    theirs = register(local, bob)
    assert local.request("GET", f"/users/{mine['id']}", token=bob).json.keys() == {
        "id",
        "name",
        "created_at",
    }
    taken = local.request(
        "PATCH",
        f"/users/{theirs['id']}",
        token=bob,
        body={"email": mine["email"].upper()},
        headers={"if-match": str(theirs["version"])},
    )
    assert taken.status == 409 and taken.json["error"]["code"] == "email_taken"
    assert (
        local.request(
            "PATCH",
            f"/users/{mine['id']}",
            token=bob,
            body={"name": "x"},
            headers={"if-match": "1"},
        ).status
        == 403
    )


def test_profiles_are_listed_across_pages(local: ServeProcess, alice: str, bob: str) -> None:
    """The listing reads the `by-created` index and signs its cursors with the SecureString
    key, as the users role is allowed to: nothing more."""
    ids = {register(local, token)["id"] for token in (alice, bob)}
    seen, cursor = [], None
    while True:
        query = "?limit=1" + (f"&cursor={cursor}" if cursor else "")
        page = local.request("GET", f"/users{query}", token=alice).json
        seen += [profile["id"] for profile in page["items"]]
        assert all(set(profile) == {"id", "name", "created_at"} for profile in page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert ids <= set(seen) and len(seen) == len(set(seen))


def test_an_idempotency_key_replays_the_first_create(local: ServeProcess, alice: str) -> None:
    headers = {"idempotency-key": f"order-{uuid.uuid4()}"}
    first = local.request("POST", "/items", token=alice, body={"name": "Desk"}, headers=headers)
    again = local.request("POST", "/items", token=alice, body={"name": "Desk"}, headers=headers)
    assert first.status == again.status == 201
    assert first.json == again.json
    other = local.request("POST", "/items", token=alice, body={"name": "Lamp"}, headers=headers)
    assert other.status == 409 and other.json["error"]["code"] == "idempotency_key_reused"


def test_pagination_across_pages(local: ServeProcess) -> None:
    token = local.token(f"pager-{uuid.uuid4().hex[:8]}")
    created = {
        local.request("POST", "/items", token=token, body={"name": f"n{i}"}).json["id"]
        for i in range(5)
    }
    seen, cursor, pages = [], None, 0
    while True:
        query = "?limit=2" + (f"&cursor={cursor}" if cursor else "")
        page = local.request("GET", f"/items{query}", token=token).json
        seen += [item["id"] for item in page["items"]]
        cursor, pages = page["next_cursor"], pages + 1
        if not cursor:
            break
    assert set(seen) == created and pages == 3


def test_tenancy(local: ServeProcess, alice: str, bob: str) -> None:
    item = local.request("POST", "/items", token=alice, body={"name": "Mine"}).json
    for method, body, headers in (
        ("GET", None, {}),
        ("PATCH", {"name": "x"}, {"if-match": "1"}),
        ("DELETE", None, {"if-match": "1"}),
    ):
        reply = local.request(method, f"/items/{item['id']}", token=bob, body=body, headers=headers)
        assert reply.status == 404, method
    listed = local.request("GET", "/items?limit=100", token=bob).json["items"]
    assert item["id"] not in {i["id"] for i in listed}


def test_auth_failures(local: ServeProcess, alice: str, tmp_path: Path) -> None:
    assert local.request("GET", "/items").status == 401
    assert local.request("GET", "/items", token="garbage").json == {"message": "Unauthorized"}
    header, payload, signature = alice.split(".")
    forged = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    forged["sub"] = str(uuid.uuid4())
    forged_payload = base64.urlsafe_b64encode(json.dumps(forged).encode()).decode().rstrip("=")
    assert (
        local.request("GET", "/items", token=f"{header}.{forged_payload}.{signature}").status == 401
    )
    # A valid token from another pool in the same emulator: right signature, wrong issuer.
    cognito = local.client("cognito-idp")
    pool = cognito.create_user_pool(PoolName="another-pool")["UserPool"]["Id"]
    client = cognito.create_user_pool_client(UserPoolId=pool, ClientName="x")["UserPoolClient"]
    cognito.admin_create_user(UserPoolId=pool, Username="mallory", MessageAction="SUPPRESS")
    cognito.admin_set_user_password(
        UserPoolId=pool, Username="mallory", Password="Aa1!aaaaaaaaaaaa", Permanent=True
    )
    foreign = cognito.admin_initiate_auth(
        UserPoolId=pool,
        ClientId=client["ClientId"],
        AuthFlow="ADMIN_USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": "mallory", "PASSWORD": "Aa1!aaaaaaaaaaaa"},
    )["AuthenticationResult"]["AccessToken"]
    assert local.request("GET", "/items", token=foreign).status == 401
    assert local.request("GET", "/items", token=alice).status == 200


def test_cors_preflight_for_allowed_and_foreign_origins(local: ServeProcess) -> None:
    def preflight(origin: str):
        return local.request(
            "OPTIONS",
            "/items",
            headers={
                "origin": origin,
                "access-control-request-method": "POST",
                "access-control-request-headers": "authorization,content-type",
            },
        )

    allowed = preflight("https://app.example.com")
    assert allowed.status == 204
    assert allowed.headers["access-control-allow-origin"] == "https://app.example.com"
    assert "POST" in allowed.headers["access-control-allow-methods"]
    assert allowed.headers["access-control-allow-headers"] == "authorization,content-type"
    foreign = preflight("https://evil.example.com")
    assert "access-control-allow-origin" not in foreign.headers
    simple = local.request("GET", "/health", headers={"origin": "http://localhost:5173"})
    assert simple.headers["access-control-allow-origin"] == "http://localhost:5173"
    assert "etag" in simple.headers["access-control-expose-headers"]


def test_upload_through_the_presigned_post(local: ServeProcess, alice: str) -> None:
    item = local.request("POST", "/items", token=alice, body={"name": "Photo frame"}).json
    content = b"\x89PNG\r\n\x1a\n" + b"0" * 100
    grant = local.request(
        "POST",
        f"/items/{item['id']}/attachments",
        token=alice,
        body={"filename": "frame.png", "content_type": "image/png", "size": len(content)},
    )
    assert grant.status == 201, grant.body
    upload = grant.json
    assert upload["url"].startswith(local.emulator.url)
    body, content_type = multipart(upload["fields"], "frame.png", content)
    page = "http://localhost:5173"
    request = urllib.request.Request(
        upload["url"], data=body, method="POST",
        headers={"content-type": content_type, "origin": page},
    )  # fmt: skip
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status in (200, 201, 204)
        # The template's CorsConfiguration, deployed with the bucket, lets the page read it.
        assert response.headers["access-control-allow-origin"] == page
        assert response.headers["access-control-expose-headers"] == "ETag"
    bucket = upload["url"].rstrip("/").rsplit("/", 1)[-1]
    # S3 takes presigned URLs signed with SigV4 only; botocore presigns with SigV2 unless told.
    s3 = local.emulator.client("s3", local.region, signature_version="s3v4")
    url = s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": upload["key"]})
    request = urllib.request.Request(url, headers={"origin": page})
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.read() == content
        assert response.headers["content-type"] == "image/png"
        # The bucket's only rule allows POST: a GET is served, with no CORS header for the
        # page ("uses the first CORSRule rule that matches", by origin and method:
        # https://docs.aws.amazon.com/AmazonS3/latest/userguide/cors.html).
        assert response.headers["access-control-allow-origin"] is None


def test_a_second_region_serves_its_own_stack(built: None, tmp_path: Path) -> None:
    with serving(tmp_path, "eu-west-1") as stack:
        token = stack.token("carol")
        created = stack.request("POST", "/items", token=token, body={"name": "Regional"})
        assert created.status == 201
        assert stack.request("GET", f"/items/{created.json['id']}", token=token).status == 200
        buckets = {b["Name"] for b in stack.client("s3").list_buckets()["Buckets"]}
        assert any(name.endswith("-123456789012-eu-west-1") for name in buckets)


def test_a_taken_port_fails_at_once_naming_it(local: ServeProcess) -> None:
    import subprocess
    import sys

    from tests.e2e.conftest import ROOT

    port = local.url.rsplit(":", 1)[-1]
    result = subprocess.run(
        [sys.executable, "-m", "offline", "serve", "--port", port],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 2
    assert f"port {port} on 127.0.0.1 is taken (HTTP API)" in result.stderr


def test_what_the_emulator_skips_is_created_by_offline(local: ServeProcess) -> None:
    """Alarms, metric filters, the user pool and policies exist as the template declares."""
    template = json.loads(local.state.read_text())["template"]["Resources"]

    def declared(kind: str) -> int:
        return sum(1 for r in template.values() if r["Type"] == kind)

    alarms = local.client("cloudwatch").describe_alarms()["MetricAlarms"]
    assert len(alarms) == declared("AWS::CloudWatch::Alarm")
    assert all(a["AlarmActions"] and a["OKActions"] for a in alarms)
    filters = local.client("logs").describe_metric_filters()["metricFilters"]
    assert len(filters) == declared("AWS::Logs::MetricFilter")
    pools = local.client("cognito-idp").list_user_pools(MaxResults=60)["UserPools"]
    assert any(p["Name"] == "backend-kit-dev-users" for p in pools)
    topics = local.client("sns").list_topics()["Topics"]
    (topic,) = [t["TopicArn"] for t in topics if t["TopicArn"].endswith(":backend-kit-dev-alarms")]
    policy = local.client("sns").get_topic_attributes(TopicArn=topic)["Attributes"]["Policy"]
    assert "AllowStackAlarms" in policy


def test_parallel_patches_with_one_if_match_give_exactly_one_200(
    local: ServeProcess, alice: str
) -> None:
    """DynamoDB applies a condition and its write as one step; so does the emulator, under
    the gateway's and the workers' concurrency (offline/dynamodb/atomic_writes.py, whose lock
    tests/unit/test_atomic_writes.py shows failing without it)."""
    for round_ in range(5):
        item = local.request("POST", "/items", token=alice, body={"name": "raced"}).json
        path, version = f"/items/{item['id']}", item["version"]

        def patch(index: int, path: str = path, version: int = version) -> int:
            headers = {"if-match": f'"{version}"'}
            body = {"name": f"writer {index}"}
            return local.request("PATCH", path, token=alice, body=body, headers=headers).status

        with ThreadPoolExecutor(max_workers=20) as pool:
            statuses = sorted(pool.map(patch, range(20)))
        assert statuses == [200] + [412] * 19, (round_, statuses)
        after = local.request("GET", path, token=alice).json
        assert after["version"] == version + 1


def raw(
    local: ServeProcess, request: bytes, timeout_s: float = 3
) -> tuple[int, dict[str, str], bytes]:
    """One request as bytes on a fresh connection; the answer within `timeout_s`."""
    host, port = local.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=timeout_s) as connection:
        connection.sendall(request)
        received = b""
        while b"\r\n\r\n" not in received:
            chunk = connection.recv(65536)
            assert chunk, f"the gateway closed the connection after {received!r}"
            received += chunk
        head, _, body = received.partition(b"\r\n\r\n")
        lines = head.decode().split("\r\n")
        headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
        while len(body) < int(headers.get("content-length", 0)):
            chunk = connection.recv(65536)
            assert chunk, "the gateway closed the connection mid-body"
            body += chunk
    return int(lines[0].split()[1]), headers, body


def test_the_gateway_refuses_bad_lengths_at_once_in_json(local: ServeProcess) -> None:
    for length in (b"abc", b"-1"):
        status, headers, body = raw(
            local, b"POST /items HTTP/1.1\r\nHost: x\r\nContent-Length: " + length + b"\r\n\r\n"
        )
        assert status == 400 and json.loads(body) == {"message": "Bad Request"}, length
        assert headers["content-type"] == "application/json"
        assert headers["connection"] == "close"  # the gateway closes it, and says so
    status, headers, body = raw(local, b"NOT A REQUEST\r\n\r\n")
    assert status == 400 and json.loads(body) == {"message": "Bad Request"}
    assert headers["connection"] == "close"


def test_a_chunked_body_is_decoded(local: ServeProcess, alice: str) -> None:
    document = json.dumps({"name": "Chunked"}).encode()
    chunks = b"".join(b"%x\r\n%s\r\n" % (len(part), part) for part in (document[:7], document[7:]))
    status, _, body = raw(
        local,
        b"POST /items HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + alice.encode()
        + b"\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
        + chunks + b"0\r\n\r\n",
    )  # fmt: skip
    assert status == 201 and json.loads(body)["name"] == "Chunked"


def test_an_unknown_method_is_api_gateways_404_in_json(local: ServeProcess) -> None:
    for method in (b"TRACE", b"PROPFIND"):
        status, _, body = raw(local, method + b" /items HTTP/1.1\r\nHost: x\r\n\r\n")
        assert status == 404 and json.loads(body) == {"message": "Not Found"}, method


def test_the_gateways_own_errors_carry_cors_for_an_allowed_origin(local: ServeProcess) -> None:
    origin = {"origin": "http://localhost:5173"}
    too_big = local.request("POST", "/items", raw=b"x" * (10 * 1024 * 1024 + 1), headers=origin)
    assert too_big.status == 413
    assert too_big.headers["access-control-allow-origin"] == "http://localhost:5173"
    for path in ("/items", "/nowhere"):
        reply = local.request("GET", path, headers=origin)
        assert reply.status in (401, 404)
        assert reply.headers["access-control-allow-origin"] == "http://localhost:5173", path
    foreign = local.request("GET", "/items", headers={"origin": "https://evil.example"})
    assert "access-control-allow-origin" not in foreign.headers


def test_a_401_says_why_in_www_authenticate(local: ServeProcess) -> None:
    assert local.request("GET", "/items").headers["www-authenticate"] == "Bearer"
    garbage = local.request("GET", "/items", token="garbage").headers["www-authenticate"]
    assert garbage.startswith('Bearer scope="" error="invalid_token" error_description=')


def test_the_openapi_document_is_served_with_this_stack_as_its_server(local: ServeProcess) -> None:
    reply = local.request("GET", "/openapi.json", headers={"origin": "http://localhost:5173"})
    assert reply.status == 200 and reply.headers["content-type"] == "application/json"
    document = reply.json
    assert document["openapi"].startswith("3.1")
    assert document["servers"][0]["url"] == local.url
    assert "/items/{id}" in document["paths"]
    assert reply.headers["access-control-allow-origin"] == "http://localhost:5173"
