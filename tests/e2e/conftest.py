"""`python -m offline serve` on free ports, driven by offline/stack/driver.py (as the local-stack
benchmark drives it): started and stopped in a process group the tests own; requests over
real HTTP on loopback."""

from __future__ import annotations

import subprocess
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from offline.common.ports import free_ports
from offline.stack.driver import ServeProcess

ROOT = Path(__file__).resolve().parents[2]
# The browser tests serve the example client here (make web's 5173 may be in use by a user).
WEB_PORT = free_ports(1)[0]
ORIGINS = f"http://localhost:5173,https://app.example.com,http://localhost:{WEB_PORT}"


def multipart(
    fields: dict[str, str], filename: str, content: bytes, after: dict[str, str] | None = None
) -> tuple[bytes, str]:
    """A browser's form upload: the presigned fields, then the file, then `after`."""
    boundary = uuid.uuid4().hex

    def field(name: str, value: str) -> bytes:
        disposition = f'Content-Disposition: form-data; name="{name}"'
        return f"--{boundary}\r\n{disposition}\r\n\r\n{value}\r\n".encode()

    parts = [field(k, v) for k, v in fields.items()]
    parts.append(
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
        f'filename="{filename}"\r\n\r\n'.encode()
        + content
        + b"\r\n"
    )
    parts += [field(k, v) for k, v in (after or {}).items()]
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


@contextmanager
def serving(
    tmp: Path,
    region: str,
    env: dict[str, str] | None = None,
    root: Path = ROOT,
    watch: bool = False,
    origins: str = ORIGINS,
    fresh: bool = False,
) -> Iterator[ServeProcess]:
    """`offline serve` of the project at `root` in `region`, healthy; then SIGTERM to the
    process group we own, which nothing may survive. A later call with the same `tmp` and
    `region` starts from the emulator state this one saved."""
    stack = ServeProcess(
        tmp, region, region=region, origins=origins, env=env, root=root, watch=watch,
        fresh=fresh,
    )  # fmt: skip
    try:
        stack.wait_healthy()
        yield stack
    finally:
        stack.stop()
        assert not stack.forced, f"offline did not stop on SIGTERM:\n{stack.log_tail()}"
        assert not stack.leftovers, f"processes outlived the stop: {stack.leftovers}"


@pytest.fixture(scope="session")
def built() -> None:
    subprocess.run(
        [sys.executable, "build.py"], cwd=ROOT, check=True, capture_output=True, timeout=600
    )


@pytest.fixture(scope="session")
def local(built: None, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServeProcess]:
    with serving(tmp_path_factory.mktemp("offline"), "us-east-1") as stack:
        yield stack


@pytest.fixture(scope="session")
def alice(local: ServeProcess) -> str:
    return local.token("alice")


@pytest.fixture(scope="session")
def bob(local: ServeProcess) -> str:
    return local.token("bob")
