"""One cold import, measured the same way in both interpreters of bench_cold_import.py: run
as a script by CPython 3.11 (`python -I -S -B cold_import_child.py JOB`), and read and run
by cold_import.mjs in CPython 3.14 (pyodide), which then calls `measure`.

The job: {"path": [sys.path entries, first first], "target": "module.attribute" or "floor"}.
The answer: {"seconds", "source", "compiled": [modules compiled from source meanwhile]}.
Everything the timing wraps is what the handler (or the floor) costs; nothing is written.
"""

from __future__ import annotations

import importlib
import importlib.machinery
import json
import sys
import time

# Not `typing`: it would be imported before the timing starts, and the handlers import it.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

FLOOR = "floor"  # `import boto3; boto3.client("dynamodb")`, what any DynamoDB handler pays
RESULT = "bench-cold-import:"  # marks the answer's line among the handler's own output


def measure(job: dict[str, Any]) -> dict[str, Any]:
    sys.dont_write_bytecode = True  # /var/task and /opt are read-only on Lambda
    sys.path[:0] = job["path"]
    importlib.invalidate_caches()
    # Every module whose bytecode is missing (or unusable) is compiled from its source here.
    compiled: list[str] = []
    loader: Any = importlib.machinery.SourceFileLoader  # its method is wrapped in place
    original = loader.source_to_code

    def counted(self: Any, data: bytes, path: str, *args: Any, **kwargs: Any) -> Any:
        compiled.append(path)
        return original(self, data, path, *args, **kwargs)

    loader.source_to_code = counted
    if job["target"] == FLOOR:
        started = time.perf_counter()
        import boto3

        boto3.client("dynamodb")
        elapsed = time.perf_counter() - started
        source: str | None = boto3.__file__
    else:
        module_name, _, attribute = job["target"].rpartition(".")
        started = time.perf_counter()
        module = importlib.import_module(module_name)
        handler = getattr(module, attribute)
        elapsed = time.perf_counter() - started
        source = module.__file__
        if not callable(handler):
            raise SystemExit(job["target"] + " is not callable")
    return {"seconds": elapsed, "source": source, "compiled": compiled}


if __name__ == "__main__":
    del sys.path[0]  # this script's folder: Lambda's path has no benchmarks in it
    print(RESULT + json.dumps(measure(json.loads(sys.argv[1]))), flush=True)
