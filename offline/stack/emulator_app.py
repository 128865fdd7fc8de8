"""The emulator process: moto in server mode on loopback, with the CloudFormation of
offline/cloudformation/engine.py and, in front of it all, the authorization of
offline/enforcement/gate.py. `make emulator` runs it in the foreground; `make local` and the tests
start it as a child process (offline/stack/emulator_process.py)."""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
from pathlib import Path

from offline.common.console import say
from offline.common.endpoint import CREDENTIALS

HOST = "127.0.0.1"


def serve(port: int, enforce: bool = True, state: Path | None = None, quiet: bool = False) -> int:
    """Serve until SIGINT or SIGTERM; with `state`, start from the snapshot there (if any)
    and write the state back to it on the way out (offline/stack/emulator_state.py).
    `quiet` leaves out the banner, which `make local` gives in its own words."""
    started = time.monotonic()
    url = f"http://{HOST}:{port}"
    # Regions are checked against botocore's list, as AWS answers for an unknown one.
    os.environ["MOTO_ALLOW_NONEXISTENT_REGION"] = "false"
    os.environ["OFFLINE_EMULATOR_URL"] = url
    from moto.moto_server.werkzeug_app import (
        DomainDispatcherApplication,
        MotoRequestHandler,
        create_backend_app,
    )
    from werkzeug.serving import make_server

    from offline.backup import rules as backup_rules
    from offline.cloudformation import engine, iam_resources
    from offline.cognito import rules as cognito_rules
    from offline.dynamodb import atomic_writes
    from offline.enforcement import gate
    from offline.iam import callers

    engine.install()
    backup_rules.install()
    cognito_rules.install()
    iam_resources.install()
    atomic_writes.install()
    callers.install()
    if state is not None:
        from offline.stack import emulator_state

        emulator_state.restore_or_start_empty(state, say)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no line per request
    # The translator's feature-toggle and metrics notices are not about the template.
    logging.getLogger("samtranslator").setLevel(logging.ERROR)
    app = DomainDispatcherApplication(create_backend_app)
    served = gate.wrap(app) if enforce else app
    server = make_server(HOST, port, served, threaded=True, request_handler=MotoRequestHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    if not quiet:
        _banner(url, started, enforce)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        if not quiet:
            say("stopping the emulator")
    finally:
        # Ctrl-C reaches the whole process group and `make local` stops us with SIGTERM too:
        # a second signal must not cut the snapshot short.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        server.shutdown()
        thread.join()
        if state is not None:
            _save(state)
    return 0


def _banner(url: str, started: float, enforce: bool) -> None:
    say(
        f"emulator ready on {url} in {time.monotonic() - started:.1f}s"
        " (CloudFormation with the SAM transform and resource import)"
    )
    if enforce:
        say("  every request's SigV4 signature checked; IAM, key, bucket and POST policies")
        say("  enforced for every role's call")
    else:
        say("  ENFORCEMENT OFF (--no-enforcement): every call is allowed, as plain moto does")
    key, secret = CREDENTIALS["aws_access_key_id"], CREDENTIALS["aws_secret_access_key"]
    say(
        f"  point AWS tools at it: AWS_ENDPOINT_URL={url} AWS_ACCESS_KEY_ID={key} "
        f"AWS_SECRET_ACCESS_KEY={secret} (its administrator); Ctrl-C stops it"
    )


def _save(state: Path) -> None:
    from offline.stack import emulator_state

    try:
        saved = emulator_state.save(state)
    except Exception as error:  # whatever a backend's object raises while it is pickled
        say(f"could not save the emulator's state to {state} ({type(error).__name__}: {error});"
            " the previous snapshot, if any, is kept")  # fmt: skip
        return
    say(f"saved the emulator's state to {state} ({saved.services} services,"
        f" {saved.size / 1e6:.1f} MB, {saved.seconds:.1f}s)")  # fmt: skip
