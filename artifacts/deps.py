"""Third-party dependencies installed for the Lambda target, not for this machine."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

LOCK_FILE = "requirements.txt"
# pip writes these beside each package; they record how and where it was installed.
MACHINE_RECORDS = ("RECORD", "INSTALLER", "REQUESTED", "direct_url.json")
NO_WHEEL = re.compile(r"No matching distribution found for (\S+)")


class MissingWheel(Exception):
    """A locked package has no wheel for the Lambda target."""


@dataclass(frozen=True)
class Target:
    python_version: str
    platforms: tuple[str, ...]
    implementation: str = "cp"

    @classmethod
    def for_lambda(cls, runtime: str, architecture: str) -> Target:
        """Lambda's Python runtimes run on Amazon Linux 2023 (glibc 2.34): any manylinux
        wheel up to that glibc runs there."""
        machine = {"arm64": "aarch64", "x86_64": "x86_64"}[architecture]
        return cls(
            python_version=runtime.removeprefix("python"),
            platforms=tuple(
                f"{tag}_{machine}" for tag in ("manylinux2014", "manylinux_2_28", "manylinux_2_34")
            ),
        )

    def describe(self) -> str:
        return f"{self.implementation}{self.python_version} on {', '.join(self.platforms)}"

    def pip_arguments(self) -> list[str]:
        arguments = [
            "--python-version",
            self.python_version,
            "--implementation",
            self.implementation,
        ]
        for platform in self.platforms:
            arguments += ["--platform", platform]
        return arguments


def is_dependency_layer(folder: Path) -> bool:
    return (folder / LOCK_FILE).is_file()


def install(lock: Path, target: Target, into: Path) -> None:
    """pip install the hashed lock for the target into `into`, then drop what records the
    build machine (console scripts, pip's install records)."""
    command = [
        sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
        "--require-hashes", "--no-deps", "--no-compile", "--only-binary=:all:",
        *target.pip_arguments(), "--target", str(into), "-r", str(lock),
    ]  # fmt: skip
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        missing = NO_WHEEL.search(result.stderr)
        if missing:
            raise MissingWheel(
                f"no wheel of {missing.group(1)} for {target.describe()}: pin a version that"
                f" publishes one, or drop it from {lock.parent / 'requirements.in'}"
            )
        details = "\n".join(
            line for line in result.stderr.splitlines() if not line.startswith("WARNING:")
        )
        raise RuntimeError(f"pip install of {lock} failed:\n{details}")
    shutil.rmtree(into / "bin", ignore_errors=True)
    for dist_info in into.glob("*.dist-info"):
        for record in MACHINE_RECORDS:
            (dist_info / record).unlink(missing_ok=True)
