"""The child side of a function sandbox (offline/lambda_/sandbox_pool.py is the parent): one Lambda
sandbox, one process.

It sets the function's environment, puts its code and layers on the path as Lambda does
(/var/task, /opt/python), imports the handler once (with SnapStart, then runs its snapshot
and restore hooks: offline/lambda_/snapshot_restore.py), then serves invocations from a pipe. The
handler's own prints and logs go to the inherited stdout and stderr, and to the function's
log group as the execution role (offline/lambda_/log_delivery.py).
"""

from __future__ import annotations

import importlib
import os
import signal
import sys
import time
import traceback
from multiprocessing.connection import Connection
from typing import Any

from offline.lambda_ import snapshot_restore
from offline.lambda_.log_delivery import deliver_output

# https://docs.aws.amazon.com/lambda/latest/api/API_SnapStart.html
SNAPSTART_ON = "PublishedVersions"


class LambdaContext:
    def __init__(self, function: dict[str, Any], request_id: str, deadline: float) -> None:
        self.function_name = function["name"]
        self.function_version = "$LATEST"
        self.invoked_function_arn = function["arn"]
        self.memory_limit_in_mb = function["memory_mb"]
        self.aws_request_id = request_id
        self.log_group_name = f"/aws/lambda/{function['name']}"
        self.log_stream_name = "offline"
        self._deadline = deadline

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def serve(connection: Connection, function: dict[str, Any]) -> None:
    # Ctrl-C reaches the whole process group; the parent stops its sandboxes itself.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    os.environ.clear()
    os.environ.update(function["environment"])
    sys.path[:0] = [function["task"], os.path.join(function["opt"], "python")]
    os.chdir(function["task"])
    deliver_output()
    module_name, _, attribute = function["handler"].rpartition(".")
    hooks = snapshot_restore.install()
    try:
        handler = getattr(importlib.import_module(module_name), attribute)
        if function.get("snap_start") == SNAPSTART_ON:
            snapshot_restore.snapshot_then_restore(hooks)
    except Exception as error:  # the init phase failed, as Runtime.ImportModuleError would
        traceback.print_exc()
        connection.send({"ready": False, "error": f"{type(error).__name__}: {error}"})
        return
    connection.send({"ready": True})
    while True:
        try:
            request = connection.recv()
        except EOFError:
            return
        context = LambdaContext(
            function, request["request_id"], time.monotonic() + function["timeout_s"]
        )
        try:
            result = handler(request["event"], context)
            connection.send({"ok": True, "result": result})
        except Exception as error:
            traceback.print_exc()
            connection.send({"ok": False, "error": type(error).__name__, "message": str(error)})
        sys.stdout.flush()
        sys.stderr.flush()
