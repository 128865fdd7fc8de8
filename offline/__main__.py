"""`python -m offline serve|emulator|token|invoke|fuzz`: the stack on this machine
(docs/local-stack.md)."""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from offline.common.console import say
from offline.common.ports import PortTaken
from offline.fuzz import CONFIG as FUZZ_CONFIG
from offline.stack.running_stack import check_ports, start
from template_gen.spec import SPEC

# Each command imports what it needs (boto3 and the gateway among them) itself: `make local`
# starts its emulator first and imports the rest while the emulator starts.

ROOT = Path(__file__).resolve().parents[1]


def serve(args: argparse.Namespace) -> int:
    origins = [o.strip() for o in args.origins.split(",") if o.strip()]
    check_ports(args.port, args.emulator_port)
    # Ctrl-C and SIGTERM both stop everything, even where SIGINT was inherited ignored.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    say(f"make local: starting the stack in {args.region} ({args.environment})")
    with ExitStack() as exits:
        running = start(
            exits,
            SPEC,
            emulator_port=args.emulator_port,
            region=args.region,
            environment=args.environment,
            origins=origins,
            enforce=not args.no_enforcement,
            state=args.state,
            fresh=args.fresh,
        )
        from offline.apigateway.gateway import make_server
        from offline.common.endpoint import CREDENTIALS
        from offline.stack.state_file import STATE, write_state
        from offline.stack.watch import Watcher

        if args.watch:
            watcher = Watcher(running.stack, running.sandboxes, SPEC)
            watcher.start()
            exits.callback(watcher.stop)
        server = make_server(running.gateway, "127.0.0.1", args.port)
        exits.callback(server.server_close)
        write_state(running, args.port)
        exits.callback(lambda: STATE.unlink(missing_ok=True))
        url = f"http://127.0.0.1:{args.port}"
        emulator = running.stack.endpoint.url
        say("")
        say(f"API         {url}   (GET {url}/health needs no token)")
        say(f"OpenAPI     {url}/openapi.json   (point any OpenAPI client at it; docs/api.md)")
        say(f"API docs    {url}/docs   (Swagger UI: Authorize with make token's output)")
        say("token       make token USER=alice     (prints the access token last)")
        say(
            f'try         curl -H "Authorization: Bearer $(make -s token USER=alice | tail -n1)"'
            f" {url}/items"
        )
        key, secret = CREDENTIALS["aws_access_key_id"], CREDENTIALS["aws_secret_access_key"]
        say(f"emulator    {emulator}   administrator key: {key} / {secret}, e.g.")
        say(
            f"            AWS_ACCESS_KEY_ID={key} AWS_SECRET_ACCESS_KEY={secret} "
            f"aws --endpoint-url {emulator} dynamodb list-tables"
        )
        say("Ctrl-C stops everything.")
        try:
            server.serve_forever(poll_interval=0.2)
        except KeyboardInterrupt:
            say("\nstopping: gateway, sandboxes, emulator")
    return 0


def token(args: argparse.Namespace) -> int:
    from offline.stack.sign_in import access_token
    from offline.stack.state_file import read_state

    state = read_state()
    if state is None:
        say("make local is not running here: start it first, then run `make token` again")
        return 1
    say(access_token(state, args.user))
    return 0


def invoke(args: argparse.Namespace) -> int:
    from offline.lambda_.sandbox_pool import InvocationError, InvocationTimeout, SandboxPool
    from offline.stack.state_file import attach, read_state

    event: Any = json.loads(Path(args.event).read_text())
    with ExitStack() as exits:
        state = read_state()
        if state:
            say(f"invoking against the running local stack at {state['endpoint']}")
            sandboxes = SandboxPool.for_stack(attach(state))
            exits.callback(sandboxes.stop)
        else:
            from offline.common.ports import free_ports

            say("no local stack is running: starting one for this invocation")
            sandboxes = start(
                exits,
                SPEC,
                emulator_port=free_ports(1)[0],
                region=args.region,
                environment="dev",
                origins=["http://localhost:5173"],
                warm=False,
            ).sandboxes
        try:
            function = sandboxes.find(args.function)
        except KeyError:
            names = sorted(
                f.config.spec_name or f.config.name for f in sandboxes.by_logical_id.values()
            )
            say(f"no function {args.function!r}; the stack has: {', '.join(names)}")
            return 2
        say(f"--- {function.config.name} logs ---")
        try:
            result = function.invoke(event)
        except (InvocationError, InvocationTimeout) as error:
            say(f"--- the invocation failed: {type(error).__name__}: {error} ---")
            return 1
        say("--- response ---")
        say(json.dumps(result, indent=2, sort_keys=True))
    return 0


def fuzz(args: argparse.Namespace) -> int:
    from offline.fuzz import fuzz as run_fuzz
    from offline.stack.sign_in import access_token
    from offline.stack.state_file import STATE, read_state

    state = read_state()
    if state is None:
        say("make local is not running here: start it first, then run `make fuzz` again")
        return 1
    return run_fuzz(
        state,
        access_token,
        examples=args.examples,
        seed=args.seed,
        workdir=STATE.parent,
        extra=args.schemathesis,
        config=args.config,
    )


def emulator(args: argparse.Namespace) -> int:
    from offline.common.ports import ensure_free
    from offline.stack.emulator_app import serve as serve_emulator

    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    ensure_free(args.port, "emulator")
    return serve_emulator(
        args.port, enforce=not args.no_enforcement, state=args.state, quiet=args.quiet
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m offline", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("serve", help="emulator, deploy, function sandboxes and the HTTP API")
    run.add_argument("--port", type=int, default=int(os.environ.get("PORT", 3000)))
    run.add_argument(
        "--emulator-port", type=int, default=int(os.environ.get("EMULATOR_PORT", 5000))
    )
    run.add_argument(
        "--origins", default=os.environ.get("ALLOWED_ORIGINS", "http://localhost:5173")
    )
    run.add_argument("--region", default="us-east-1")
    run.add_argument(
        "--watch", action="store_true", help="push saved changes under functions/ and layers/"
    )
    run.add_argument("--environment", default="dev", choices=["dev", "staging", "prod"])
    run.add_argument(
        "--state",
        type=Path,
        default=Path(os.environ.get("OFFLINE_LOCAL_STATE", ROOT / "build" / "local")),
        help="the folder the emulator's state is kept in between runs",
    )
    run.add_argument("--fresh", action="store_true", help="start from nothing: drop that state")
    emu = sub.add_parser("emulator", help="the local AWS emulator alone, in the foreground")
    emu.add_argument("--port", type=int, default=int(os.environ.get("EMULATOR_PORT", 5000)))
    emu.add_argument(
        "--state", type=Path, help="start from the snapshot there, if any; save to it on stop"
    )
    emu.add_argument("--quiet", action="store_true", help="no banner, only the state's lines")
    for command in (run, emu):
        command.add_argument(
            "--no-enforcement",
            action="store_true",
            help="allow every call, as plain moto does (the start-up banner says so)",
        )
    tok = sub.add_parser("token", help="a user's access token from the local user pool")
    tok.add_argument("user")
    call = sub.add_parser("invoke", help="one invocation with an event file")
    call.add_argument("function")
    call.add_argument("event")
    call.add_argument("--region", default="us-east-1")
    fuzzing = sub.add_parser("fuzz", help="schemathesis, every check, against make local")
    fuzzing.add_argument("--examples", type=int, default=25, help="examples per operation")
    fuzzing.add_argument("--seed", type=int, default=20261201)
    fuzzing.add_argument("--config", type=Path, default=FUZZ_CONFIG, help="schemathesis.toml")
    fuzzing.add_argument("schemathesis", nargs="*", help="more schemathesis run options")
    args = parser.parse_args(argv)
    try:
        commands = {
            "serve": serve,
            "emulator": emulator,
            "token": token,
            "invoke": invoke,
            "fuzz": fuzz,
        }
        return commands[args.command](args)
    except (PortTaken, FileNotFoundError) as error:
        print(f"offline: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130  # stopped during start-up; everything started was stopped on the way out


if __name__ == "__main__":
    sys.exit(main())
