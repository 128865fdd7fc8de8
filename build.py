"""Build every function and layer into a deterministic, content-hashed zip, write
build/manifest.json, and render build/template.yaml against the zips.

    python build.py [--jobs N] [--out DIR]

The same sources give the same bytes from any directory, under any umask, time zone and hash
seed, whatever the files' mtimes. An unchanged source rebuilds nothing and rewrites nothing.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT))

from artifacts import manifest  # noqa: E402
from artifacts.builder import Builder, BuildError, build_manifest  # noqa: E402
from template_gen.render import render  # noqa: E402
from template_gen.spec import SPEC  # noqa: E402
from template_gen.validate import SpecError, check_sources, validate_spec  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--jobs", type=int, default=None, help="parallel builds (default: CPUs)")
    parser.add_argument("--out", type=Path, default=ROOT / "build", help="build folder")
    args = parser.parse_args(argv)
    started = time.monotonic()
    out = args.out.resolve()
    try:
        validate_spec(SPEC)
        check_sources(SPEC, ROOT)
        built = Builder(SPEC, ROOT, out).build(args.jobs)
    except (BuildError, SpecError) as error:
        print(f"build failed: {error}", file=sys.stderr)
        return 1
    built_manifest = build_manifest(SPEC, built)
    changed = manifest.write(out / "manifest.json", built_manifest)
    print(f"  manifest {'written' if changed else 'unchanged'}: {out.name}/manifest.json")
    # The template lives beside the manifest, whose paths are relative to that folder.
    render(SPEC, built_manifest.paths(), built_manifest.version, out / "template.yaml", ROOT)
    print(f"build done in {time.monotonic() - started:.2f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
