from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
# The shared layer's package, importable as it is inside Lambda (/opt/python).
sys.path.insert(0, str(ROOT / "layers" / "shared" / "python"))
# Nothing of this machine's AWS set-up may leak into a test, nor any make state.
AWS_KEYS = frozenset({
    "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE",
    "AWS_ENDPOINT_URL", "AWS_DEFAULT_REGION", "AWS_REGION", "MAKEFLAGS", "MAKELEVEL", "MFLAGS",
})  # fmt: skip


# The longest file (it lints and tests a whole copy of the project, then starts its stack)
# runs first: with `--dist loadfile`, a file that starts last keeps one worker busy alone
# while the other has finished (longest-processing-time-first scheduling).
FIRST = ("tests/integration/test_adding_a_function.py",)


# Files that use one session-scoped stack only to read from it (or to write under users of
# their own) run on one worker, so the stack starts once: `--dist loadfile` would otherwise
# give each file to whichever worker is free, and each worker would start its own.
SHARED_STACK = {
    "tests/e2e/test_local_stack.py": "the local stack (tests/e2e/conftest.py's `local`)",
    "tests/e2e/test_fuzz.py": "the local stack (tests/e2e/conftest.py's `local`)",
    "tests/e2e/test_api_docs.py": "the local stack (tests/e2e/conftest.py's `local`)",
    "tests/e2e/test_browser.py": "the local stack (tests/e2e/conftest.py's `local`)",
}


def scope_of(nodeid: str) -> str:
    """The unit of work a worker takes whole: the file, or the stack files share."""
    path = nodeid.split("::")[0]
    return SHARED_STACK.get(path, path)


def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    from xdist.scheduler import LoadFileScheduling

    class LoadFileSharingStacks(LoadFileScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return scope_of(nodeid)

    return LoadFileSharingStacks(config, log)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    def first(item: pytest.Item) -> bool:
        return item.nodeid.split("::")[0] not in FIRST

    items.sort(key=first)  # stable: the rest keeps its order


def aws_environment(endpoint: str | None = None, credentials: bool = True) -> dict[str, str]:
    """This process's environment without its AWS set-up; AWS calls go to `endpoint`."""
    kept = {k: v for k, v in os.environ.items() if k not in AWS_KEYS}
    environment = {
        **kept,
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        "AWS_EC2_METADATA_DISABLED": "true",
        "SAM_CLI_TELEMETRY": "0",
    }
    if endpoint:
        environment["AWS_ENDPOINT_URL"] = endpoint
    if credentials:
        # The emulator's administrator key: the emulator verifies every signature.
        from offline.common.endpoint import CREDENTIALS

        environment.update({
            "AWS_ACCESS_KEY_ID": CREDENTIALS["aws_access_key_id"],
            "AWS_SECRET_ACCESS_KEY": CREDENTIALS["aws_secret_access_key"],
        })  # fmt: skip
    return environment


@pytest.fixture(scope="session")
def template() -> dict[str, Any]:
    from template_gen.spec import SPEC
    from template_gen.template import build_template

    return build_template(SPEC).to_dict()


@pytest.fixture(scope="session")
def resources(template: dict[str, Any]) -> dict[str, Any]:
    return template["Resources"]


@pytest.fixture(scope="session")
def expanded(template: dict[str, Any]) -> dict[str, Any]:
    from template_gen.expand import expand

    return expand(template)


def of_type(resources: dict[str, Any], type_: str) -> dict[str, dict[str, Any]]:
    return {name: r for name, r in resources.items() if r["Type"] == type_}
