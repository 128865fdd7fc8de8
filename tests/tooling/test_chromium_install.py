"""`make chromium` run for real, on a PATH of stand-ins: `id` says who runs it, `apt-get` and
`sudo` record what they were asked. It installs Debian's chromium only when it is missing,
as root or through sudo, and otherwise says in one line how to install it."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
MAKE = shutil.which("make") or "make"
INSTALL = "install -y -qq --no-install-recommends chromium"


def stand_ins(folder: Path, *, uid: int, sudo: bool, chromium: bool) -> Path:
    """A PATH folder: what the Makefile reads while parsing, and the stand-ins."""
    folder.mkdir()
    for tool in ("sha256sum", "cut"):  # the install stamps' names are made with them
        (folder / tool).symlink_to(shutil.which(tool) or tool)
    scripts = {
        "id": f"#!/bin/bash\necho {uid}\n",
        "apt-get": f'#!/bin/bash\necho "apt-get $*" >> {folder}/calls\n',
    }
    if sudo:
        scripts["sudo"] = f'#!/bin/bash\necho "sudo" >> {folder}/calls\nexec "$@"\n'
    if chromium:
        scripts["chromium"] = "#!/bin/bash\n"
    for name, text in scripts.items():
        (folder / name).write_text(text)
        (folder / name).chmod(0o755)
    return folder


def make_chromium(path: Path) -> tuple[subprocess.CompletedProcess[str], list[str]]:
    result = subprocess.run(
        [MAKE, "--no-print-directory", "-s", "chromium"],
        cwd=ROOT, env={"PATH": str(path)}, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    calls = path / "calls"
    return result, calls.read_text().splitlines() if calls.is_file() else []


def test_as_root_it_installs_the_package(tmp_path: Path) -> None:
    result, calls = make_chromium(stand_ins(tmp_path / "bin", uid=0, sudo=False, chromium=False))
    assert result.returncode == 0, result.stderr
    assert calls == ["apt-get update -qq", f"apt-get {INSTALL}"]
    assert "installing chromium" in result.stdout


def test_as_a_user_with_sudo_it_installs_through_sudo(tmp_path: Path) -> None:
    result, calls = make_chromium(stand_ins(tmp_path / "bin", uid=1000, sudo=True, chromium=False))
    assert result.returncode == 0, result.stderr
    assert calls == ["sudo", "apt-get update -qq", "sudo", f"apt-get {INSTALL}"]


def test_without_root_or_sudo_it_says_how_in_one_line(tmp_path: Path) -> None:
    result, calls = make_chromium(stand_ins(tmp_path / "bin", uid=1000, sudo=False, chromium=False))
    assert result.returncode != 0 and calls == []
    said = [line for line in result.stderr.splitlines() if not line.startswith("make")]
    assert said == [
        "chromium is needed for the browser tests: run `apt-get install chromium` as root,"
        " then make again"
    ]


def test_when_chromium_is_there_nothing_is_installed(tmp_path: Path) -> None:
    result, calls = make_chromium(stand_ins(tmp_path / "bin", uid=0, sudo=False, chromium=True))
    assert result.returncode == 0 and calls == [] and result.stdout == ""
