"""`make local WATCH=1`: a saved change under functions/ or layers/ goes live without a restart,
as `sam sync --code --watch` pushes one to a deployed stack
(https://docs.aws.amazon.com/serverless-application-model/latest/developerguide/sam-cli-command-reference-sam-sync.html):

1. the build runs (`build.py`: only the zips whose inputs changed are remade, with their 3.14
   bytecode); a build that fails (a syntax error, say) is reported in one line and the code
   already deployed keeps serving;
2. each function whose zip, or one of whose layers' zips, changed is updated in the emulator as
   `sam sync --code` updates it: a new layer version where a layer changed, the function's new
   code (UpdateFunctionCode), a published version, and its `live` alias moved to it;
3. that function's sandboxes are replaced, so the next request runs the new code.

A change to template_gen/ or the spec is not code: it needs the real deploy, which is said on
screen (stop and run `make local` again).
"""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from artifacts import manifest
from offline.cloudformation.deployed_stack import DeployedStack
from offline.common.console import say
from offline.lambda_.sandbox_pool import SandboxPool
from template_gen.model import Spec

ROOT = Path(__file__).resolve().parents[2]
CODE = ("functions", "layers")
NOT_CODE = ("template_gen",)
POLL_S = 0.2
# A save often arrives as several writes; the build starts once they settle.
SETTLE_S = 0.1
BUILD_TIMEOUT_S = 300
ALIAS = "live"

Stamps = dict[Path, tuple[int, int]]


def stamps(root: Path, folders: Iterable[str]) -> Stamps:
    """Each file's (mtime, size) under `folders`, caches left out."""
    found: Stamps = {}
    for folder in folders:
        for path in (root / folder).rglob("*"):
            if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc":
                status = path.stat()
                found[path] = (status.st_mtime_ns, status.st_size)
    return found


def changed(before: Stamps, after: Stamps) -> set[Path]:
    return {p for p in before.keys() | after.keys() if before.get(p) != after.get(p)}


def build(root: Path) -> str | None:
    """None when the build passed, else its one line of failure."""
    try:
        result = subprocess.run(
            [sys.executable, "build.py"], cwd=root, capture_output=True, text=True,
            timeout=BUILD_TIMEOUT_S,
        )  # fmt: skip
    except subprocess.TimeoutExpired:
        return f"the build did not finish in {BUILD_TIMEOUT_S} s"
    if result.returncode == 0:
        return None
    lines = (result.stderr or result.stdout).strip().splitlines()
    return lines[-1] if lines else f"build.py failed (exit code {result.returncode})"


Built = dict[tuple[str, str], manifest.Built]


def built_zips(path: Path) -> Built:
    """The manifest's zips by (kind, name): a function and a layer may share a name."""
    return {(a.kind, a.name): a for a in manifest.load(path).artifacts}


class Watcher:
    """Polls the code folders of `root` and pushes each change to the running stack."""

    def __init__(
        self,
        stack: DeployedStack,
        sandboxes: SandboxPool,
        spec: Spec,
        root: Path = ROOT,
        report: Callable[[str], None] = say,
    ) -> None:
        self.stack, self.sandboxes, self.spec = stack, sandboxes, spec
        self.root, self.report = root, report
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._run, name="watch", daemon=True)
        self.code = stamps(root, CODE)
        self.not_code = stamps(root, NOT_CODE)
        self.built = built_zips(self.manifest)

    @property
    def manifest(self) -> Path:
        return self.stack.build / "manifest.json"

    def start(self) -> None:
        self.report(f"watching {', '.join(f'{f}/' for f in CODE)}: a saved change goes live")
        self.thread.start()

    def stop(self) -> None:
        self.stopping.set()
        self.thread.join(timeout=BUILD_TIMEOUT_S + 5)

    def _run(self) -> None:
        while not self.stopping.wait(POLL_S):
            not_code = stamps(self.root, NOT_CODE)
            if changed(self.not_code, not_code):
                self.not_code = not_code
                self.report(
                    "watch: template_gen/ changed: that needs the real deploy; stop and run"
                    " `make local` again"
                )
            code = stamps(self.root, CODE)
            if not changed(self.code, code):
                continue
            time.sleep(SETTLE_S)
            self.code = stamps(self.root, CODE)
            try:
                self.push()
            except Exception as error:
                self.report(f"watch: could not update the stack: {error}")

    def push(self) -> list[str]:
        """Build, then update every function whose code or layers changed; their names."""
        started = time.monotonic()
        failure = build(self.root)
        if failure:
            self.report(f"watch: {failure}; the deployed code keeps serving")
            return []
        built = built_zips(self.manifest)
        remade = {
            key for key, zipped in built.items()
            if key not in self.built or self.built[key].zip_sha256 != zipped.zip_sha256
        }  # fmt: skip
        self.built = built
        if not remade:
            return []
        updated = self.update(remade)
        took = time.monotonic() - started
        self.report(f"watch: {', '.join(updated) or 'nothing'} live in {took:.1f}s")
        return updated

    def update(self, remade: set[tuple[str, str]]) -> list[str]:
        lambda_ = self.stack.client("lambda")
        new_layers = {
            name: self._publish_layer(lambda_, name)
            for kind, name in sorted(remade) if kind == "layer"
        }  # fmt: skip
        updated = []
        for function in self.spec.functions:
            uses = [layer.name for layer in self.spec.layers_of(function)]
            code_changed = ("function", function.name) in remade
            if not code_changed and not any(layer in new_layers for layer in uses):
                continue
            sandboxes = self.sandboxes.find(function.name)
            deployed = sandboxes.config.name
            code = self.stack.build / self.built[("function", function.name)].path
            if code_changed:
                lambda_.update_function_code(FunctionName=deployed, ZipFile=code.read_bytes())
            if any(layer in new_layers for layer in uses):
                self._point_at(lambda_, deployed, new_layers)
            version = lambda_.publish_version(FunctionName=deployed)["Version"]
            lambda_.update_alias(FunctionName=deployed, Name=ALIAS, FunctionVersion=version)
            self.sandboxes.replace(
                sandboxes.config.logical_id,
                code=code,
                layers=[self.stack.build / self.built[("layer", name)].path for name in uses],
            )
            updated.append(f"{function.name} (version {version})")
        return updated

    def _publish_layer(self, lambda_: Any, name: str) -> str:
        """A new version of the deployed layer `name`; its ARN."""
        for resource in self.stack.of_type("AWS::Lambda::LayerVersion").values():
            properties = resource["Properties"]
            deployed_name = self.stack.resolve(properties["LayerName"])
            if deployed_name.endswith(f"-{name}") or deployed_name == name:
                zipped = self.stack.build / self.built[("layer", name)].path
                published = lambda_.publish_layer_version(
                    LayerName=deployed_name,
                    Content={"ZipFile": zipped.read_bytes()},
                    CompatibleRuntimes=properties.get("CompatibleRuntimes", []),
                    CompatibleArchitectures=properties.get("CompatibleArchitectures", []),
                )
                return str(published["LayerVersionArn"])
        raise LookupError(f"no deployed layer for {name}")

    @staticmethod
    def _point_at(lambda_: Any, function: str, new: dict[str, str]) -> None:
        """The function's layers, each changed one at its new version."""
        deployed = lambda_.get_function_configuration(FunctionName=function)
        arns = [layer["Arn"] for layer in deployed.get("Layers", [])]

        def base(arn: str) -> str:
            return arn.rsplit(":", 1)[0]

        by_base = {base(arn): arn for arn in new.values()}
        lambda_.update_function_configuration(
            FunctionName=function, Layers=[by_base.get(base(arn), arn) for arn in arns]
        )
