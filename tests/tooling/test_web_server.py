"""`make web` (tools/web_server.py) as a subprocess: what it serves and with which headers,
`/config.json` from a local stack's state file and from a deployed stack's outputs (moto in
this process, over AWS_ENDPOINT_URL), and its one-line refusals. No browser: the page's own
flow is for a browser test."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from moto.server import ThreadedMotoServer

from offline.common.endpoint import Endpoint
from offline.common.ports import free_ports
from tests.conftest import aws_environment
from tests.make_web import START_TIMEOUT_S, Served, serving

ROOT = Path(__file__).resolve().parents[2]
VENDOR = ROOT / "node_modules/amazon-cognito-identity-js/dist/amazon-cognito-identity.min.js"
REGION = "us-east-1"
DEPLOYED_REGION = "eu-west-1"
OUTPUTS = {
    "ApiUrl": "https://abc123def4.execute-api.eu-west-1.amazonaws.com/",
    "UserPoolId": "eu-west-1_Example1",
    "UserPoolClientId": "4example5client6id7",
    "AssetsBucketName": "backend-kit-dev-assets-123456789012-eu-west-1",
}


def run(environment: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    """A start that must fail at once."""
    return subprocess.run(
        [sys.executable, "-m", "tools.web_server", "--port", str(free_ports(1)[0]), *args],
        cwd=ROOT,
        env=environment,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=START_TIMEOUT_S,
    )


@pytest.fixture(scope="module")
def moto_url() -> Iterator[str]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=free_ports(1)[0], verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


@pytest.fixture(scope="module")
def local_state(moto_url: str, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """A state file as `make local` writes it, whose emulator (moto) has the user pool."""
    cognito = Endpoint(moto_url).client("cognito-idp", REGION)
    pool = cognito.create_user_pool(PoolName="web-test")["UserPool"]["Id"]
    client = cognito.create_user_pool_client(UserPoolId=pool, ClientName="web")
    state = {
        "api": "http://127.0.0.1:3999",
        "endpoint": moto_url,
        "region": REGION,
        "environment": "dev",
        "stack": "backend-kit-dev",
        "user_pool_id": pool,
        "client_id": client["UserPoolClient"]["ClientId"],
        "parameters": {"AllowedOrigins": ["http://localhost:5173"]},
        "physical_ids": {},
        "template": {},
    }
    path = tmp_path_factory.mktemp("web") / "state.json"
    path.write_text(json.dumps(state))
    return {**state, "path": str(path)}


@pytest.fixture(scope="module")
def local(moto_url: str, local_state: dict[str, Any]) -> Iterator[Served]:
    environment = {**aws_environment(credentials=False), "OFFLINE_STATE": local_state["path"]}
    with serving(environment, "--user", "webtester") as served:
        yield served


@pytest.fixture(scope="module")
def deployed(moto_url: str) -> Iterator[Served]:
    cloudformation = Endpoint(moto_url).client("cloudformation", DEPLOYED_REGION)
    template = {
        "Parameters": {
            "AllowedOrigins": {"Type": "CommaDelimitedList", "Default": "http://localhost:5173"}
        },
        "Resources": {"Topic": {"Type": "AWS::SNS::Topic"}},
        "Outputs": {key: {"Value": value} for key, value in OUTPUTS.items()},
    }
    cloudformation.create_stack(StackName="backend-kit-dev", TemplateBody=json.dumps(template))
    environment = aws_environment(moto_url)
    with serving(environment, "--region", DEPLOYED_REGION, "--env", "dev") as served:
        yield served


def test_serves_the_page_as_it_is(local: Served) -> None:
    status, headers, body = local.get("/")
    assert (status, headers["Content-Type"]) == (200, "text/html; charset=utf-8")
    assert body == (ROOT / "examples/web/index.html").read_bytes()
    status, headers, body = local.get("/app.js?reload=1")
    assert (status, headers["Content-Type"]) == (200, "text/javascript; charset=utf-8")
    assert body == (ROOT / "examples/web/app.js").read_bytes()


def test_serves_the_sign_in_library_from_node_modules(local: Served) -> None:
    status, headers, body = local.get("/vendor/amazon-cognito-identity.min.js")
    assert (status, headers["Content-Type"]) == (200, "text/javascript; charset=utf-8")
    assert body == VENDOR.read_bytes()


@pytest.mark.parametrize(
    "path",
    [
        "/../Makefile",
        "/%2e%2e/Makefile",
        "/..%2fMakefile",
        "/vendor/../../Makefile",
        "/node_modules/amazon-cognito-identity-js/package.json",
        "/.hidden.js",
        "/web_server.py",
        "/missing.js",
    ],
)
def test_refuses_anything_else(local: Served, path: str) -> None:
    status, headers, _ = local.get(path)
    assert status == 404
    assert headers["X-Content-Type-Options"] == "nosniff"


def test_every_answer_carries_the_security_headers(local: Served) -> None:
    for path in ("/", "/app.js", "/config.json", "/vendor/amazon-cognito-identity.min.js"):
        _, headers, _ = local.get(path)
        assert headers["X-Content-Type-Options"] == "nosniff", path
        policy = dict(part.split(" ", 1) for part in headers["Content-Security-Policy"].split("; "))
        assert policy["script-src"] == "'self'", path
        assert policy["connect-src"].split() == [
            "'self'",
            "http://127.0.0.1:3999",
            local_origin(local),
        ], path
        assert policy["frame-ancestors"] == "'none'", path


def local_origin(served: Served) -> str:
    config = json.loads(served.get("/config.json")[2])
    return str(config["cognitoEndpoint"]).rstrip("/")


def test_config_of_the_local_stack(local: Served, local_state: dict[str, Any]) -> None:
    status, headers, body = local.get("/config.json")
    assert (status, headers["Content-Type"]) == (200, "application/json")
    assert json.loads(body) == {
        "apiUrl": "http://127.0.0.1:3999",
        "region": REGION,
        "userPoolId": local_state["user_pool_id"],
        "clientId": local_state["client_id"],
        "cognitoEndpoint": f"{local_state['endpoint']}/",
    }


def test_the_local_demo_user_signs_in_with_the_printed_password(
    local: Served, local_state: dict[str, Any]
) -> None:
    line = next(line for line in local.stdout if line.startswith("sign in"))
    user, password = line.split()[2], line.split()[4]
    assert user == "webtester"
    cognito = Endpoint(local_state["endpoint"]).client("cognito-idp", REGION)
    found = cognito.admin_get_user(UserPoolId=local_state["user_pool_id"], Username=user)
    assert found["UserStatus"] == "CONFIRMED"  # AdminSetUserPassword Permanent=True
    answer = cognito.admin_initiate_auth(
        UserPoolId=local_state["user_pool_id"],
        ClientId=local_state["client_id"],
        AuthFlow="ADMIN_USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": user, "PASSWORD": password},
    )
    assert "AccessToken" in answer["AuthenticationResult"]


def test_config_of_a_deployed_stack_from_its_outputs(deployed: Served) -> None:
    status, headers, body = deployed.get("/config.json")
    assert status == 200
    assert json.loads(body) == {
        "apiUrl": "https://abc123def4.execute-api.eu-west-1.amazonaws.com",
        "region": DEPLOYED_REGION,
        "userPoolId": OUTPUTS["UserPoolId"],
        "clientId": OUTPUTS["UserPoolClientId"],
    }
    policy = headers["Content-Security-Policy"]
    assert (
        "connect-src 'self' https://abc123def4.execute-api.eu-west-1.amazonaws.com"
        " https://cognito-idp.eu-west-1.amazonaws.com"
        f" https://{OUTPUTS['AssetsBucketName']}.s3.eu-west-1.amazonaws.com;"
    ) in policy
    # Users of a deployed pool come from an administrator, never from make web.
    assert any("administrator" in line for line in deployed.stdout)
    assert not any(line.startswith("sign in     ") and " / " in line for line in deployed.stdout)


def test_a_taken_port_fails_at_once_naming_it(local_state: dict[str, Any]) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        environment = {**aws_environment(credentials=False), "OFFLINE_STATE": local_state["path"]}
        result = run(environment, "--port", str(port))
    assert result.returncode == 1
    assert result.stderr.splitlines() == [result.stderr.strip()]
    assert f"port {port} on 127.0.0.1 is taken" in result.stderr


def test_without_make_local_one_line_says_how_to_start_it(tmp_path: Path) -> None:
    environment = {
        **aws_environment(credentials=False),
        "OFFLINE_STATE": str(tmp_path / "no-state.json"),
    }
    result = run(environment)
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr.startswith("make web: make local is not running: start it (make local)")
    assert len(result.stderr.splitlines()) == 1


def test_a_deployed_stack_without_credentials_is_one_line() -> None:
    result = run(aws_environment(credentials=False), "--region", "eu-west-1", "--env", "dev")
    assert result.returncode == 1
    assert result.stderr.startswith("make web: no AWS credentials: set AWS_PROFILE")
    assert len(result.stderr.splitlines()) == 1


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--env", "dev"], "make web: REGION is required for a deployed stack"),
        (["--region", "eu-west-1"], "make web: ENV is required for a deployed stack"),
        (["--region", "eu-west-1", "--env", "qa"], "make web: ENV=qa is not an environment"),
        (["--region", "mars-1", "--env", "dev"], "make web: 'mars-1' is not an AWS region"),
    ],
)
def test_region_and_env_are_checked_first(args: list[str], expected: str) -> None:
    result = run(aws_environment(credentials=False), *args)
    assert result.returncode == 1
    assert result.stderr.startswith(expected)
    assert len(result.stderr.splitlines()) == 1
