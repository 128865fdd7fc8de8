"""The emulator process: moto in server mode on loopback, with the CloudFormation of
offline/cloudformation/engine.py and, in front of it all, the authorization of
offline/enforcement/gate.py. `make emulator` runs it in the foreground; `make local` and the tests
start it as a child process (offline/stack/emulator_process.py)."""

from __future__ import annotations

import logging
import os
import threading
import time

from offline.common.console import say
from offline.common.endpoint import CREDENTIALS

HOST = "127.0.0.1"


def serve(port: int, enforce: bool = True) -> int:
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
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no line per request
    # The translator's feature-toggle and metrics notices are not about the template.
    logging.getLogger("samtranslator").setLevel(logging.ERROR)
    app = DomainDispatcherApplication(create_backend_app)
    served = gate.wrap(app) if enforce else app
    server = make_server(HOST, port, served, threaded=True, request_handler=MotoRequestHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
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
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        say("stopping the emulator")
    finally:
        server.shutdown()
        thread.join()
    return 0
