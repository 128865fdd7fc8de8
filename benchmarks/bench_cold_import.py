"""Cold import of each built handler against the floor of any DynamoDB-backed Python Lambda,
in CPython 3.14 as Lambda's python3.14 runtime loads it.

    python benchmarks/bench_cold_import.py [--runs N] [--runs-311 N]

Each function zip and every layer zip are laid out as Lambda would (`task/`, `opt/python/`).
The measured interpreter is CPython 3.14 (pyodide, the build's own compiler, run by Node.js),
fresh for every import: the zip is mounted at /var/task, the layers at /opt, and a stand-in for
the runtime's own packages at /var/runtime: this machine's boto3 and its dependencies, copied,
with the 3.14 bytecode the runtime ships (compiled by the same compiler, for /var/runtime).
sys.path is Lambda's order, nothing else from site-packages is there, and no bytecode is
written, as /var/task and /opt are read-only on Lambda. The floor is `import boto3;
boto3.client("dynamodb")` in the same kind of interpreter. The time is taken inside the
interpreter around the import, so start-up is left out. Every module compiled from source
during an import is counted (a hook on SourceFileLoader.source_to_code, which runs only when
no usable pyc is there): the target is none, and each handler that talks to DynamoDB at most
1.2 times the floor, medians over the runs. WebAssembly runs slower than native code, so only
the ratios carry over.

The same measurement in this machine's Python (3.11) follows for information: its
interpreter finds no bytecode of its own in the zips, so it compiles every module from
source, as the runtime did before the zips carried 3.14's. No child may reach the network.
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
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from cold_import_child import FLOOR, RESULT  # noqa: E402  (beside this script)

from artifacts import manifest  # noqa: E402
from artifacts.bytecode import INSTALL_HINT, Compiler, Source, pyc_arcname  # noqa: E402
from template_gen.model import environment_variable  # noqa: E402
from template_gen.spec import SPEC  # noqa: E402

BUILD = ROOT / "build"
MANIFEST = BUILD / "manifest.json"
TARGET = 1.2
RUNNER_314 = Path(__file__).with_name("cold_import.mjs")
# Lambda's sys.path for python3.14: the function, the layers, then the runtime's own packages.
PATH_314 = ["/var/task", "/opt/python/lib/python3.14/site-packages", "/opt/python", "/var/runtime"]
# The target is for what talks to DynamoDB; health imports the standard library only.
DYNAMODB_FUNCTIONS = frozenset(
    f.name for f in SPEC.functions if any(r.target in {t.name for t in SPEC.tables}
                                          for r in f.relations)
)  # fmt: skip
# What Lambda's Python runtime ships in /var/runtime; awscrt, for one, is not among them.
RUNTIME_DISTRIBUTIONS = (
    "boto3", "botocore", "s3transfer", "jmespath", "python-dateutil", "urllib3", "six",
)  # fmt: skip
# The measurement, one file for both interpreters.
CHILD = Path(__file__).with_name("cold_import_child.py")


def load_manifest() -> manifest.Manifest:
    if not MANIFEST.is_file():
        print(f"no {MANIFEST.relative_to(ROOT)}: running build.py first", flush=True)
        result = subprocess.run([sys.executable, str(ROOT / "build.py")], cwd=ROOT, timeout=900)
        if result.returncode != 0 or not MANIFEST.is_file():
            sys.exit("build.py failed")
    try:
        return manifest.load(MANIFEST)
    except manifest.ManifestError as error:
        sys.exit(str(error))


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
                target = distribution.locate_file(top)
                # Found on sys.path, so a PathDistribution: its files are pathlib paths.
                assert isinstance(target, Path), target
                link.symlink_to(target)
    return into


def lay_out(work: Path, built: manifest.Manifest) -> dict[str, tuple[Path, Path]]:
    """Each function's zip in `<function>/task`, every layer's in `<function>/opt`."""
    layers = [BUILD / layer.path for layer in built.of_kind("layer")]
    folders: dict[str, tuple[Path, Path]] = {}
    for function in built.of_kind("function"):
        task, opt = work / function.name / "task", work / function.name / "opt"
        for archive, into in [(BUILD / function.path, task), *((z, opt) for z in layers)]:
            if not archive.is_file():
                sys.exit(f"{archive} is missing: run build.py")
            with zipfile.ZipFile(archive) as zipped:
                zipped.extractall(into)
        folders[function.name] = (task, opt / "python")
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
            key = environment_variable(resource)
            variables[key] = f"bench-{resource.name}"
    return variables


def cold_import(paths: list[Path], target: str, function: str) -> tuple[float, str]:
    job = {"path": [str(p) for p in paths], "target": target}
    command = [sys.executable, "-I", "-S", "-B", str(CHILD), json.dumps(job)]
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


def runtime_314(work: Path, runtime: Path, compiler: Compiler) -> Path:
    """Lambda's /var/runtime for python3.14: the same boto3 files, copied, with the bytecode
    the runtime ships (compiled by the build's compiler, as if at /var/runtime)."""
    into = work / "runtime-314"
    shutil.copytree(runtime, into, symlinks=False, ignore=shutil.ignore_patterns("__pycache__"))
    sources = [
        Source(path, rel, f"/var/runtime/{rel}")
        for path in sorted(into.rglob("*.py"))
        if (rel := path.relative_to(into).as_posix())
    ]
    pycs, _ = compiler.compile(sources, lambda line: print(line, flush=True))
    for source, pyc in pycs.items():
        target = into / pyc_arcname(source.arcname, compiler.cache_tag)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(pyc, target)
    return into


def cold_import_314(
    pyodide: Pyodide, task: Path, opt: Path, runtime: Path, target: str, function: str
) -> tuple[float, str, list[str]]:
    """One import in a fresh pyodide: the zip at /var/task, layers at /opt, boto3 at
    /var/runtime, Lambda's sys.path order, no bytecode written."""
    environment_314 = environment(function) | {"AWS_EXECUTION_ENV": "AWS_Lambda_python3.14"}
    job = {
        "mounts": {"/var/task": str(task), "/opt": str(opt), "/var/runtime": str(runtime)},
        "path": PATH_314,
        "env": {k: v for k, v in environment_314.items() if k != "PATH"},
        "target": target,
    }
    try:
        command = [pyodide.node, str(RUNNER_314), str(pyodide.package), json.dumps(job)]
        result = subprocess.run(command, capture_output=True, text=True, timeout=120)
    except subprocess.TimeoutExpired:
        sys.exit(f"cold import of {function} in 3.14 took over 120s")
    if result.returncode != 0 or not result.stdout.strip():
        sys.exit(f"cold import of {function} in 3.14 failed:\n{result.stdout}\n{result.stderr}")
    measured = json.loads(result.stdout.strip().splitlines()[-1])
    return measured["seconds"], measured["source"], measured["compiled"]


@dataclass(frozen=True)
class Pyodide:
    """What runs a 3.14 import: node, and the pinned pyodide package (the build's compiler)."""

    node: str
    package: Path

    @classmethod
    def find(cls, compiler: Compiler) -> Pyodide:
        node = shutil.which("node")
        if node is None:
            sys.exit(f"node is not on PATH: {INSTALL_HINT}")
        return cls(node, compiler.package)


def measure(
    runs: int, cases: list[str], one: Callable[[str], tuple[float, str, list[str]]], label: str
) -> tuple[dict[str, list[float]], dict[str, set[str]]]:
    times: dict[str, list[float]] = {name: [] for name in cases}
    compiled: dict[str, set[str]] = {name: set() for name in cases}
    for run in range(runs):
        # Alternate who goes first, so a warming page cache favours no one.
        order = cases if run % 2 == 0 else list(reversed(cases))
        for name in order:
            seconds, _, from_source = one(name)
            times[name].append(seconds)
            compiled[name] |= set(from_source)
        print(f"  {label}: run {run + 1}/{runs} done", flush=True)
    return times, compiled


def table(label: str, times: dict[str, list[float]], compiled: dict[str, set[str]] | None) -> bool:
    """Medians against the floor. With `compiled` (the 3.14 run) each DynamoDB handler is held
    to TARGET and every handler to no module compiled from source; without, for information."""
    medians = {name: statistics.median(values) for name, values in times.items()}
    floor = medians[FLOOR]
    held = compiled is not None
    header = f" {'target':>8} {'from source':>12}" if held else ""
    print(f"\n{label}\n{'function':<12} {'import':>10} {'ratio':>7}{header}")
    count = f" {'':>8} {len(compiled[FLOOR]):>12}" if compiled is not None else ""
    print(f"{FLOOR:<12} {floor * 1000:>8.1f}ms {1:>6.2f}x{count} boto3 + dynamodb client")
    failed = False
    for name in (n for n in times if n != FLOOR):
        ratio = medians[name] / floor
        line = f"{name:<12} {medians[name] * 1000:>8.1f}ms {ratio:>6.2f}x"
        if compiled is not None:
            dynamodb = name in DYNAMODB_FUNCTIONS
            verdict = ("ok" if ratio <= TARGET else "MISSED") if dynamodb else "(no DynamoDB)"
            if compiled[name]:
                verdict = "MISSED: compiled " + ", ".join(sorted(compiled[name])[:5])
            failed |= verdict.startswith("MISSED")
            line += f" {'<= ' + str(TARGET) + 'x' if dynamodb else '':>8}"
            line += f" {len(compiled[name]):>12} {verdict}"
        print(line)
    return failed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=7, help="fresh CPython 3.14 runs per case")
    parser.add_argument("--runs-311", type=int, default=15, help="fresh 3.11 runs per case")
    args = parser.parse_args()
    built = load_manifest()
    handlers = {function.name: function.handler for function in SPEC.functions}
    work = Path(tempfile.mkdtemp(prefix="bench-cold-import-"))
    try:
        runtime = runtime_packages(work / "runtime")
        folders = lay_out(work, built)
        if set(folders) != set(handlers):
            sys.exit(f"the manifest's functions {sorted(folders)} are not the spec's"
                     f" {sorted(handlers)}: run build.py")  # fmt: skip
        compiler = Compiler.pinned("3.14")
        pyodide = Pyodide.find(compiler)
        runtime314 = runtime_314(work, runtime, compiler)
        cases = [FLOOR, *folders]
        target = built.target
        print(f"benchmark: {len(folders)} functions and the floor, layers built for"
              f" {target.runtime} {target.architecture}:"
              f" {args.runs} runs in CPython 3.14 (pyodide {compiler.version}),"
              f" {args.runs_311} in this python {sys.version.split()[0]}", flush=True)  # fmt: skip

        empty = work / "empty"
        empty.mkdir()
        mounts = {name: (task, opt.parent) for name, (task, opt) in folders.items()}
        mounts[FLOOR] = (empty, empty)

        def in_314(name: str) -> tuple[float, str, list[str]]:
            handler = FLOOR if name == FLOOR else handlers[name]
            seconds, source, compiled = cold_import_314(
                pyodide, *mounts[name], runtime314, handler, name
            )
            if name != FLOOR and not source.startswith("/var/task/"):
                sys.exit(f"{name}: {handler} came from {source}, not from its zip")
            return seconds, source, compiled

        def in_311(name: str) -> tuple[float, str, list[str]]:
            paths = [runtime] if name == FLOOR else [*folders[name], runtime]
            seconds, source = cold_import(paths, FLOOR if name == FLOOR else handlers[name], name)
            if name != FLOOR and not Path(source).is_relative_to(paths[0]):
                sys.exit(f"{name}: {handlers[name]} came from {source}, not from its zip")
            return seconds, source, []

        times_314, compiled_314 = measure(args.runs, cases, in_314, "3.14")
        times_311, _ = measure(args.runs_311, cases, in_311, sys.version.split()[0])
    finally:
        shutil.rmtree(work, ignore_errors=True)
    failed = table("CPython 3.14 (pyodide), as python3.14 on Lambda", times_314, compiled_314)
    python = sys.version.split()[0]
    table(f"python {python} (information: the zips' bytecode is 3.14's)", times_311, None)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
