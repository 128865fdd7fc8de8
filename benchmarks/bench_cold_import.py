"""Cold import of each built handler against the floor of any DynamoDB-backed Python Lambda.

    python benchmarks/bench_cold_import.py [--runs N]

Each function zip and every layer zip are laid out as Lambda would (`task/`, `opt/python/`),
and each handler is imported in a fresh interpreter whose path is the task folder, then
`opt/python`, then a stand-in for the runtime's own packages: this interpreter's boto3 and its
dependencies, and nothing else from site-packages, since Lambda provides only those. The floor
is `import boto3; boto3.client("dynamodb")` in the same kind of interpreter. The time is taken
inside the child around the import, so interpreter start-up is left out. The children write
no bytecode, as /var/task and /opt are read-only on Lambda: what the zips do not ship as .pyc
is compiled on every cold start, there as here. No child may reach the network.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from template_gen.functions import environment_variable  # noqa: E402
from template_gen.spec import SPEC  # noqa: E402

BUILD = ROOT / "build"
MANIFEST = BUILD / "manifest.json"
TARGET = 1.3
FLOOR = "floor"
# What Lambda's Python runtime ships in /var/runtime; awscrt, for one, is not among them.
RUNTIME_DISTRIBUTIONS = (
    "boto3", "botocore", "s3transfer", "jmespath", "python-dateutil", "urllib3", "six",
)  # fmt: skip
RESULT = "bench-cold-import:"
# Runs in the child as `python -I -S -B -c CHILD <path>... <target>`: isolated, no site, no
# bytecode written. Everything the timing wraps is what the handler (or the floor) costs.
CHILD = f"""
import importlib, sys, time
*paths, target = sys.argv[1:]
sys.path[:0] = paths
if target == {FLOOR!r}:
    started = time.perf_counter()
    import boto3
    boto3.client("dynamodb")
    elapsed = time.perf_counter() - started
    source = boto3.__file__
else:
    module_name, _, attribute = target.rpartition(".")
    started = time.perf_counter()
    module = importlib.import_module(module_name)
    handler = getattr(module, attribute)
    elapsed = time.perf_counter() - started
    source = module.__file__
    if not callable(handler):
        sys.exit(f"{{target}} is not callable")
import json
print({RESULT!r} + json.dumps({{"seconds": elapsed, "source": source}}), flush=True)
"""


def load_manifest() -> dict:
    if not MANIFEST.is_file():
        print(f"no {MANIFEST.relative_to(ROOT)}: running build.py first", flush=True)
        result = subprocess.run([sys.executable, str(ROOT / "build.py")], cwd=ROOT)
        if result.returncode != 0 or not MANIFEST.is_file():
            sys.exit("build.py failed")
    return json.loads(MANIFEST.read_text())


def runtime_packages(into: Path) -> Path:
    """Links to boto3 and its dependencies only, the stand-in for Lambda's /var/runtime."""
    into.mkdir()
    for name in RUNTIME_DISTRIBUTIONS:
        try:
            distribution = importlib.metadata.distribution(name)
        except importlib.metadata.PackageNotFoundError:
            sys.exit(f"{name} is not installed for {sys.executable}: run `make install`")
        for file in distribution.files or ():
            if file.parts[0] == "..":
                continue  # console scripts
            # A top-level module's bytecode sits in site-packages/__pycache__: link the file.
            top = Path(*file.parts[:2]) if file.parts[0] == "__pycache__" else Path(file.parts[0])
            link = into / top
            if not link.exists():
                link.parent.mkdir(exist_ok=True)
                link.symlink_to(distribution.locate_file(top))
    return into


def lay_out(work: Path, manifest: dict) -> dict[str, tuple[Path, Path]]:
    """Each function's zip in `<function>/task`, every layer's in `<function>/opt`."""
    artifacts = manifest["artifacts"]
    layers = [BUILD / a["path"] for a in artifacts if a["kind"] == "layer"]
    folders: dict[str, tuple[Path, Path]] = {}
    for artifact in artifacts:
        if artifact["kind"] != "function":
            continue
        task, opt = work / artifact["name"] / "task", work / artifact["name"] / "opt"
        for archive, into in [(BUILD / artifact["path"], task), *((z, opt) for z in layers)]:
            if not archive.is_file():
                sys.exit(f"{archive} is missing: run build.py")
            with zipfile.ZipFile(archive) as zipped:
                zipped.extractall(into)
        folders[artifact["name"]] = (task, opt / "python")
    return folders


def environment(function: str) -> dict[str, str]:
    """What Lambda would set, with dummy names for every resource any function reads."""
    variables = {
        "PATH": os.defpath,
        "LANG": "C.UTF-8",
        "TZ": "UTC",
        "AWS_REGION": "us-east-1",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        # Nothing from this machine's AWS setup, and any accidental call fails at once.
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_ENDPOINT_URL": "http://127.0.0.1:9",
        "AWS_MAX_ATTEMPTS": "1",  # else legacy retries back off for seconds first
        "AWS_EXECUTION_ENV": f"AWS_Lambda_python{sys.version_info.major}.{sys.version_info.minor}",
        "AWS_LAMBDA_FUNCTION_NAME": function,
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
        "POWERTOOLS_SERVICE_NAME": function,
        "POWERTOOLS_METRICS_NAMESPACE": "bench",
    }
    for spec in SPEC.functions:
        for relation in spec.relations:
            resource = SPEC.resource(relation.target)
            key = environment_variable(resource.name, type(resource))
            variables[key] = f"bench-{resource.name}"
    return variables


def cold_import(paths: list[Path], target: str, function: str) -> tuple[float, str]:
    command = [sys.executable, "-I", "-S", "-B", "-c", CHILD, *map(str, paths), target]
    try:
        result = subprocess.run(command, capture_output=True, text=True, timeout=60,
                                env=environment(function), cwd=paths[0])  # fmt: skip
    except subprocess.TimeoutExpired:
        sys.exit(f"cold import of {function} took over 60s: is it waiting on the network?")
    lines = [line for line in result.stdout.splitlines() if line.startswith(RESULT)]
    if result.returncode != 0 or not lines:
        sys.exit(f"cold import of {function} failed:\n{result.stdout}\n{result.stderr}")
    measured = json.loads(lines[-1].removeprefix(RESULT))
    return measured["seconds"], measured["source"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    manifest = load_manifest()
    handlers = {function.name: function.handler for function in SPEC.functions}
    work = Path(tempfile.mkdtemp(prefix="bench-cold-import-"))
    try:
        runtime = runtime_packages(work / "runtime")
        folders = lay_out(work, manifest)
        if set(folders) != set(handlers):
            sys.exit(f"the manifest's functions {sorted(folders)} are not the spec's"
                     f" {sorted(handlers)}: run build.py")  # fmt: skip
        cases = {FLOOR: ([runtime], FLOOR)}
        cases |= {name: ([*paths, runtime], handlers[name]) for name, paths in folders.items()}
        times: dict[str, list[float]] = {name: [] for name in cases}
        target = manifest.get("target", {})
        python = sys.version.split()[0]
        print(f"benchmark: {args.runs} runs each, {len(folders)} functions and the floor,"
              f" python {python} (layers built for {target.get('runtime', '?')}"
              f" {target.get('architecture', '?')})", flush=True)  # fmt: skip
        for run in range(args.runs):
            # Alternate who goes first, so a warming page cache favours no one.
            order = list(cases) if run % 2 == 0 else list(reversed(cases))
            for name in order:
                paths, handler = cases[name]
                seconds, source = cold_import(paths, handler, name)
                if name != FLOOR and not Path(source).is_relative_to(paths[0]):
                    sys.exit(f"{name}: {handler} came from {source}, not from its zip")
                times[name].append(seconds)
            print(f"  run {run + 1}/{args.runs} done", flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    medians = {name: statistics.median(values) for name, values in times.items()}
    floor = medians[FLOOR]
    print(f"\n{'function':<12} {'import':>10} {'ratio':>7} {'target':>8}")
    print(f"{FLOOR:<12} {floor * 1000:>8.1f}ms {1:>6.2f}x {'':>8} boto3 + dynamodb client")
    failed = False
    for name in folders:
        ratio = medians[name] / floor
        verdict = "ok" if ratio <= TARGET else "MISSED"
        failed |= verdict != "ok"
        print(f"{name:<12} {medians[name] * 1000:>8.1f}ms {ratio:>6.2f}x"
              f" {'<= ' + str(TARGET) + 'x':>8} {verdict}")  # fmt: skip
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
