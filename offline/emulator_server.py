"""The emulator process: moto in server mode on loopback, with the CloudFormation of
offline/cloudformation.py. `make emulator` runs it in the foreground; `make local` and the
tests start it as a child process (offline/emulator.py)."""

from __future__ import annotations

import logging
import os
import time

from offline.console import say

HOST = "127.0.0.1"


def serve(port: int) -> int:
    started = time.monotonic()
    url = f"http://{HOST}:{port}"
    # Regions are checked against botocore's list, as AWS answers for an unknown one.
    os.environ["MOTO_ALLOW_NONEXISTENT_REGION"] = "false"
    os.environ["OFFLINE_EMULATOR_URL"] = url
    from moto.server import ThreadedMotoServer

    from offline import atomic_writes, cloudformation

    cloudformation.install()
    atomic_writes.install()
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no line per request
    # The translator's feature-toggle and metrics notices are not about the template.
    logging.getLogger("samtranslator").setLevel(logging.ERROR)
    server = ThreadedMotoServer(ip_address=HOST, port=port, verbose=False)
    server.start()
    say(
        f"emulator ready on {url} in {time.monotonic() - started:.1f}s"
        " (CloudFormation with the SAM transform and resource import)"
    )
    say(f"  point AWS tools at it: AWS_ENDPOINT_URL={url}; Ctrl-C stops it")
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        say("stopping the emulator")
    finally:
        server.stop()
    return 0
