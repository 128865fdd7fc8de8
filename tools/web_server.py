"""`make web`: the example web client (examples/web) on http://localhost:5173, pointed at the
running `make local`, or with REGION and ENV at a deployed stack (docs/web-client.md).

    python -m tools.web_server [--user alice] [--region eu-west-1 --env dev] [--port 5173]

The page needs no build step: this serves examples/web as it is, the sign-in library from
node_modules at one allow-listed path, and `/config.json`, made at start-up from the local
stack's state file or the deployed stack's outputs. It writes nothing anywhere. Locally it
also gives a demo user a fresh password to sign in with; it never creates users in AWS.
Every failure before serving is one line naming what is wrong and the command that fixes it.
"""

from __future__ import annotations

import argparse
import json
import re
import signal
import sys
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[1]
PAGE = ROOT / "examples" / "web"
HOST = "127.0.0.1"
# The API's default allowed origin (ALLOWED_ORIGINS, the AllowedOrigins parameter): the page
# must be opened by this name, or the browser refuses every answer of the API.
PORT = 5173
# The only files served from outside examples/web, each at a fixed path: never a CDN, and
# never a path a request can steer into node_modules.
VENDOR = {
    "/vendor/amazon-cognito-identity.min.js": ROOT
    / "node_modules/amazon-cognito-identity-js/dist/amazon-cognito-identity.min.js",
}
TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
}
# One file directly in examples/web: no slash, no dot first (no `..`, no hidden file), and no
# percent sign, so no encoded form of either gets through.
FILE_NAME = re.compile(r"^/([A-Za-z0-9_-][A-Za-z0-9._-]*)$")
DEMO_USER = "alice"


class WebError(Exception):
    """One line for the person running `make web`: what is wrong and how to fix it."""


@dataclass(frozen=True)
class Stack:
    """What the page talks to: its /config.json, and the origins its requests go to."""

    config: dict[str, str]
    connect: list[str]  # origins for the CSP's connect-src: the API, Cognito, S3
    allowed_origins: list[str] = field(default_factory=list)  # the API's CORS origins
    environment: str = "dev"


def origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def listed(value: Any) -> list[str]:
    """A CommaDelimitedList parameter: a list in the local state, a string from CloudFormation."""
    items = value if isinstance(value, list) else str(value or "").split(",")
    return [item.strip() for item in items if item.strip()]


# --- the local stack -----------------------------------------------------------------------


def local_stack() -> tuple[Stack, dict[str, Any]]:
    """The running `make local`, from the state file it writes (OFFLINE_STATE moves it)."""
    from offline.stack.state_file import read_state

    state = read_state()
    if state is None:
        raise WebError(
            "make local is not running: start it (make local) in another terminal, then run"
            " make web again; make web REGION=.. ENV=.. serves a deployed stack instead"
        )
    emulator = state["endpoint"].rstrip("/")
    stack = Stack(
        config={
            "apiUrl": state["api"].rstrip("/"),
            "region": state["region"],
            "userPoolId": state["user_pool_id"],
            "clientId": state["client_id"],
            # The emulator answers for Cognito and S3 alike, at one origin.
            "cognitoEndpoint": f"{emulator}/",
        },
        connect=[origin(state["api"]), origin(emulator)],
        allowed_origins=listed(state.get("parameters", {}).get("AllowedOrigins")),
        environment=state.get("environment", "dev"),
    )
    return stack, state


def demo_password(state: dict[str, Any], user: str) -> str:
    """Creates `user` in the local pool if needed and sets a fresh permanent password, as an
    administrator does: the pool lets only administrators create users."""
    from botocore.exceptions import BotoCoreError, ClientError

    from offline.common.endpoint import Endpoint
    from offline.stack.sign_in import with_fresh_password

    cognito = Endpoint(state["endpoint"]).client("cognito-idp", state["region"])
    pool = state["user_pool_id"]
    try:
        password = with_fresh_password(cognito, pool, user)[1]
    except (BotoCoreError, ClientError) as error:
        raise WebError(
            f"could not give {user} a password in the local pool {pool}: {error}"
        ) from None
    return password


# --- a deployed stack ----------------------------------------------------------------------

# Codes with which AWS refuses the credentials themselves, rather than the call.
CREDENTIAL_CODES = {
    "ExpiredToken",
    "ExpiredTokenException",
    "InvalidClientTokenId",
    "UnrecognizedClientException",
    "SignatureDoesNotMatch",
    "RequestExpired",
}


def check_target(region: str, environment: str) -> None:
    """REGION and ENV together, ENV one of the spec's, REGION one AWS has: before any call."""
    from template_gen.spec import SPEC

    if not region or not environment:
        missing = "REGION" if not region else "ENV"
        raise WebError(
            f"{missing} is required for a deployed stack: make web REGION={region or 'eu-west-1'}"
            f" ENV={environment or 'dev'} (make web alone serves make local's stack)"
        )
    if environment not in SPEC.environments:
        raise WebError(
            f"ENV={environment} is not an environment; use one of"
            f" {', '.join(SPEC.environments)}: make web REGION={region} ENV=dev"
        )
    import boto3

    session = boto3.session.Session()
    known = {
        name
        for partition in session.get_available_partitions()
        for name in session.get_available_regions("cloudformation", partition)
    }
    if region not in known:
        raise WebError(
            f"'{region}' is not an AWS region: use one such as us-east-1 or eu-west-1"
            f" (make web REGION=eu-west-1 ENV={environment})"
        )


def deployed_stack(region: str, environment: str) -> Stack:
    """The stack `make deploy REGION=.. ENV=..` made, from its outputs (DescribeStacks);
    check_target has checked both first."""
    import boto3
    from botocore.exceptions import BotoCoreError, ClientError

    from ops.config import deploy_parameters
    from ops.preflight import credentials_failure

    name = str(deploy_parameters(environment)["stack_name"])
    try:
        cloudformation = boto3.client("cloudformation", region_name=region)
        stacks = cloudformation.describe_stacks(StackName=name)["Stacks"]
    except ClientError as error:
        info = error.response.get("Error", {})
        code, message = str(info.get("Code", "")), str(info.get("Message", ""))
        if code == "ValidationError" and "does not exist" in message:
            raise WebError(
                f"no stack {name} in {region}: deploy it first"
                f" (make deploy REGION={region} ENV={environment})"
            ) from None
        if code in CREDENTIAL_CODES:
            raise WebError(str(credentials_failure(error, region))) from None
        raise WebError(f"AWS refused DescribeStacks on {name}: {code}: {message}") from None
    except BotoCoreError as error:
        raise WebError(str(credentials_failure(error, region))) from None
    stack = stacks[0]
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}
    needed = ["ApiUrl", "UserPoolId", "UserPoolClientId", "AssetsBucketName"]
    missing = [key for key in needed if key not in outputs]
    if missing:
        raise WebError(
            f"{name} in {region} ({stack['StackStatus']}) has no output {', '.join(missing)}:"
            f" deploy it (make deploy REGION={region} ENV={environment})"
        )
    parameters = {p["ParameterKey"]: p.get("ParameterValue", "") for p in stack["Parameters"]}
    return Stack(
        config={
            "apiUrl": outputs["ApiUrl"].rstrip("/"),
            "region": region,
            "userPoolId": outputs["UserPoolId"],
            "clientId": outputs["UserPoolClientId"],
        },
        connect=[
            origin(outputs["ApiUrl"]),
            f"https://cognito-idp.{region}.amazonaws.com",
            # Where the presigned POSTs point (functions/items/attachments.py).
            f"https://{outputs['AssetsBucketName']}.s3.{region}.amazonaws.com",
        ],
        allowed_origins=listed(parameters.get("AllowedOrigins")),
        environment=environment,
    )


# --- serving -------------------------------------------------------------------------------


def security_policy(connect: list[str]) -> str:
    """Scripts and styles from this server only (no inline code), requests to it and to the
    stack's origins only, and no framing."""
    return "; ".join([
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        f"connect-src 'self' {' '.join(dict.fromkeys(connect))}",
        "base-uri 'none'",
        "form-action 'none'",
        "frame-ancestors 'none'",
    ])  # fmt: skip


def handler_for(stack: Stack) -> type[BaseHTTPRequestHandler]:
    config = json.dumps(stack.config, indent=2).encode()
    policy = security_policy(stack.connect)

    class Handler(BaseHTTPRequestHandler):
        def version_string(self) -> str:
            return "make-web"  # not the Python version

        def do_GET(self) -> None:
            self.answer(head=False)

        def do_HEAD(self) -> None:
            self.answer(head=True)

        def answer(self, *, head: bool) -> None:
            path = urlsplit(self.path).path
            if path == "/config.json":
                self.send(HTTPStatus.OK, config, "application/json", head)
                return
            source = VENDOR.get(path) or self.page_file("/index.html" if path == "/" else path)
            if source is None or not source.is_file():
                self.send(HTTPStatus.NOT_FOUND, b"not found\n", "text/plain; charset=utf-8", head)
                return
            # Read on each request, so a saved edit shows on the next reload.
            self.send(HTTPStatus.OK, source.read_bytes(), TYPES[source.suffix], head)

        def page_file(self, path: str) -> Path | None:
            match = FILE_NAME.match(path)
            if match is None or Path(match[1]).suffix not in TYPES:
                return None
            return PAGE / match[1]

        def send(self, status: HTTPStatus, body: bytes, kind: str, head: bool) -> None:
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if not head:
                self.wfile.write(body)

        def end_headers(self) -> None:
            # On every answer, errors from http.server itself included.
            self.send_header("X-Content-Type-Options", "nosniff")
            self.send_header("Content-Security-Policy", policy)
            self.send_header("Referrer-Policy", "no-referrer")
            self.send_header("Cache-Control", "no-store")
            super().end_headers()

        def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
            if isinstance(code, int) and code >= 400:  # quiet while all goes well
                sys.stdout.write(f"web: {code} {self.command} {self.path}\n")
                sys.stdout.flush()

    return Handler


class WebServer(ThreadingHTTPServer):
    daemon_threads = True  # Ctrl-C does not wait for an open keep-alive connection
    request_queue_size = 64  # a page's files are asked for at once

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A browser that drops a connection mid-answer is no error of the server's.
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


def bind(port: int) -> WebServer:
    """The listening socket first: a taken port fails at once, before any AWS call. The
    handler is set once the stack is known; a request that comes sooner waits in the backlog."""
    try:
        return WebServer((HOST, port), BaseHTTPRequestHandler)
    except OSError:
        raise WebError(
            f"port {port} on {HOST} is taken (the web client); free it, then run make web"
            " again: the page must be served on the API's allowed origin"
        ) from None


def say(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def serve(args: argparse.Namespace) -> int:
    if not all(path.is_file() for path in VENDOR.values()):
        raise WebError("node_modules/amazon-cognito-identity-js is missing: run make install")
    deployed = bool(args.region or args.env)
    if deployed:
        check_target(args.region, args.env)
    server = bind(args.port)
    try:
        url = f"http://localhost:{args.port}"
        if deployed:
            stack = deployed_stack(args.region, args.env)
            where = f"{args.env} in {args.region}"
        else:
            stack, state = local_stack()
            where = f"make local ({stack.environment}, {state['region']})"
        server.RequestHandlerClass = handler_for(stack)
        say(f"web client  {url}   (open it by this name: the API allows this origin)")
        say(f"stack       {where}: API {stack.config['apiUrl']}")
        if deployed:
            say(
                "sign in     as a user an administrator created in the pool"
                f" {stack.config['userPoolId']} (aws cognito-idp admin-create-user); the first"
                " sign-in asks for a new password"
            )
        else:
            user = args.user or DEMO_USER
            say(f"sign in     {user} / {demo_password(state, user)}   (a new password each start)")
        if stack.environment == "prod":
            say("note        the pool requires MFA: setting up TOTP is not part of this example")
        if url not in stack.allowed_origins:
            say(
                f"warning     the API allows {', '.join(stack.allowed_origins) or 'no origin'},"
                f" not {url}: the browser will refuse its answers (make local"
                f" ALLOWED_ORIGINS={url}, or AllowedOrigins in samconfig.toml)"
            )
        say("Ctrl-C stops it.")
        server.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        say("\nweb client stopped")
    finally:
        server.server_close()
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.web_server", description=__doc__)
    parser.add_argument("--port", type=int, default=PORT)
    parser.add_argument("--user", default="", help=f"the local demo user (default {DEMO_USER})")
    parser.add_argument("--region", default="", help="a deployed stack's region (with --env)")
    parser.add_argument("--env", default="", help="a deployed stack's environment")
    args = parser.parse_args(argv)
    # Ctrl-C and SIGTERM both stop it, even where SIGINT was inherited ignored.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    try:
        return serve(args)
    except WebError as error:
        print(f"make web: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130  # stopped while starting


if __name__ == "__main__":
    sys.exit(main())
