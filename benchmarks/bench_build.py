"""build.py against `sam build` on the same functions and layers, side by side in one run.

    python benchmarks/bench_build.py [--runs N]

SAM builds with an interpreter matching the runtime, so it gets a throwaway template for this
machine's Python that points at the same function folders and the same layer lock. Both use
the same warm pip cache. `sam build` copies files and does not zip or compile; build.py zips
and compiles every source to 3.14 bytecode (pyodide under Node.js), which SAM cannot do here
at all. A clean build.py starts with an empty bytecode cache (`BYTECODE_CACHE`), so it runs
the compiler over every source, once; the same clean build with the bytecode cache warm, as
pip's cache is for both, is shown for information. In both, the compiler starts from the
memory snapshot of a started pyodide that its first run left beside the installed package
(node_modules/.cache), as an installed tool does. A no-op rebuild must not start the compiler
(the warm cache must not change). Each function's zipped code with the layers it loads must
stay under 3 MB.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from artifacts import manifest  # noqa: E402
from template_gen.spec import SPEC  # noqa: E402

SAM = Path(sys.executable).with_name("sam")
TARGETS = {"no-op": 0.15, "clean": 1.5}
MAX_FUNCTION_BYTES = 3 * 1024 * 1024  # zipped: a function's code and the layers it loads


def sam_template() -> str:
    runtime = f"python{sys.version_info.major}.{sys.version_info.minor}"
    layers = []
    lines = [
        "AWSTemplateFormatVersion: '2010-09-09'",
        "Transform: AWS::Serverless-2016-10-31",
        "Resources:",
    ]
    for layer in SPEC.layers:
        logical = f"{layer.name.capitalize()}Layer"
        layers.append(f"!Ref {logical}")
        lines += [
            f"  {logical}:",
            "    Type: AWS::Serverless::LayerVersion",
            "    Properties:",
            f"      ContentUri: {ROOT / layer.source}",
            f"      CompatibleRuntimes: [{runtime}]",
        ]
        if (ROOT / layer.source / "requirements.txt").is_file():
            lines += [
                "    Metadata:",
                f"      BuildMethod: {runtime}",
                f"      BuildArchitecture: {SPEC.architecture}",
            ]
    for function in SPEC.functions:
        lines += [
            f"  {function.name.capitalize()}Function:",
            "    Type: AWS::Serverless::Function",
            "    Properties:",
            f"      CodeUri: {ROOT / function.source}",
            f"      Handler: {function.handler}",
            f"      Runtime: {runtime}",
            f"      Architectures: [{SPEC.architecture}]",
            f"      Layers: [{', '.join(layers)}]",
        ]
    return "\n".join(lines) + "\n"


def timed(command: list[str], cwd: Path, cache: Path | None = None) -> float:
    environment = {**os.environ, "SAM_CLI_TELEMETRY": "0"}
    if cache is not None:
        environment["BYTECODE_CACHE"] = str(cache)
    started = time.perf_counter()
    result = subprocess.run(
        command, cwd=cwd, capture_output=True, text=True, env=environment, timeout=900
    )
    elapsed = time.perf_counter() - started
    if result.returncode != 0:
        sys.exit(f"{' '.join(command)} failed:\n{result.stdout}\n{result.stderr}")
    return elapsed


def function_sizes(manifest_path: Path) -> dict[str, int]:
    """Each function's zipped bytes with the zips of the layers it loads, as Lambda counts."""
    built = {a.name: a for a in manifest.load(manifest_path).artifacts}
    return {
        f.name: built[f.name].zipped_bytes
        + sum(built[x.name].zipped_bytes for x in SPEC.layers_of(f))
        for f in SPEC.functions
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    if not SAM.is_file():
        sys.exit(f"sam not found at {SAM}: run `make install`")
    work = Path(tempfile.mkdtemp(prefix="bench-build-"))
    try:
        (work / "template.yaml").write_text(sam_template())
        ours_out, sam_build, sam_cache = work / "ours", work / "sam-build", work / "sam-cache"
        ours = [sys.executable, str(ROOT / "build.py"), "--out", str(ours_out)]
        sam = [str(SAM), "build", "--template", "template.yaml", "--build-dir", str(sam_build)]
        sam_cached = [*sam, "--cached", "--cache-dir", str(sam_cache)]
        times: dict[str, list[float]] = {
            k: [] for k in ("ours clean", "sam clean", "ours warm", "ours no-op", "sam cached")
        }
        warm = work / "bytecode-warm"
        python = sys.version.split()[0]
        print(f"benchmark: {args.runs} runs each, {len(SPEC.functions)} functions,"
              f" {len(SPEC.layers)} layers, python {python}", flush=True)  # fmt: skip
        for run in range(args.runs):
            # Alternate who goes first, so a warming cache favours neither.
            cold = work / f"bytecode-{run}"  # empty: every source compiled
            pairs = [("ours clean", ours, ours_out, cold), ("sam clean", sam, sam_build, None)]
            for name, command, out, cache in pairs if run % 2 == 0 else reversed(pairs):
                shutil.rmtree(out, ignore_errors=True)
                times[name].append(timed(command, work, cache))
            shutil.rmtree(ours_out)
            if run == 0:
                timed(ours, work, warm)  # fill the warm bytecode cache
                shutil.rmtree(ours_out)
            times["ours warm"].append(timed(ours, work, warm))
            print(f"  clean run {run + 1}/{args.runs} done", flush=True)
        sizes = function_sizes(ours_out / "manifest.json")
        timed(sam_cached, work)  # fill SAM's cache; build.py's output is already in place
        for run in range(args.runs):
            before = sorted(p.name for p in warm.rglob("*"))
            times["ours no-op"].append(timed(ours, work, warm))
            if sorted(p.name for p in warm.rglob("*")) != before:
                sys.exit("a no-op build compiled bytecode")
            times["sam cached"].append(timed(sam_cached, work))
            print(f"  no-op run {run + 1}/{args.runs} done", flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    medians = {name: statistics.median(values) for name, values in times.items()}
    print(f"\n{'case':<12} {'build.py':>10} {'sam build':>10} {'ratio':>7} {'target':>8}")
    failed = False
    for case, ours_key, sam_key in (("clean", "ours clean", "sam clean"),
                                    ("no-op", "ours no-op", "sam cached")):  # fmt: skip
        ratio = medians[ours_key] / medians[sam_key]
        verdict = "ok" if ratio <= TARGETS[case] else "MISSED"
        failed |= verdict != "ok"
        print(f"{case:<12} {medians[ours_key]:>9.2f}s {medians[sam_key]:>9.2f}s"
              f" {ratio:>6.2f}x {'<= ' + str(TARGETS[case]) + 'x':>8} {verdict}")  # fmt: skip
    for name, size in sizes.items():
        verdict = "ok" if size < MAX_FUNCTION_BYTES else "MISSED"
        failed |= verdict != "ok"
        print(f"{'size ' + name:<12} {size / 1024 / 1024:>8.2f}MB {'':>10} {'':>7}"
              f" {'< 3 MB':>8} {verdict} (zipped, with its layers)")  # fmt: skip
    ratio = medians["ours warm"] / medians["sam clean"]
    print(f"{'clean, warm':<12} {medians['ours warm']:>9.2f}s {medians['sam clean']:>9.2f}s"
          f" {ratio:>6.2f}x {'':>8} (bytecode cache warm, as pip's: information)")  # fmt: skip
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
