"""The example web client's whole flow in Chromium against `make local`: how long it takes, and
how many requests the page makes for it, CORS preflights included.

    python benchmarks/bench_browser.py [--runs N]

One local stack (`python -m offline serve`, allowing the page's origin) and one `make web`
server (`tools/web_server.py`) on free loopback ports; Debian's chromium, headless, driven by
Playwright. Each run is a new browser context (no session, no cache) that opens the page and
goes through the flow `tests/e2e/test_browser.py` checks: sign in (SRP), create the profile
(first run) or load it, create an item, edit it with `If-Match`, upload an attachment by the
presigned POST, delete the item. The clock runs from opening the page to the delete's answer.
Requests are counted by the browser's own network events (the DevTools protocol's
`Network.requestWillBeSent`, which lists each preflight as an OPTIONS request of its own), by
origin: the page's, the API's, the emulator's (Cognito and S3). The page's own files are
counted too, so a change that doubles preflights, or fetches a file twice, is seen.

There is no peer to run beside it: the figure is a baseline for the page itself, to compare a
later change against (a counts table that moves means the page's traffic changed). Only
127.0.0.1 is contacted.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from playwright.sync_api import (  # noqa: E402
    Browser,
    FilePayload,
    Page,
    expect,
    sync_playwright,
)

from offline.common.ports import free_ports  # noqa: E402
from offline.stack.driver import DriverError, ServeProcess  # noqa: E402

WAIT_MS = 30_000
START_TIMEOUT_S = 60.0
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


class WebServer:
    """`make web`'s server on `port`, pointed at the stack's state file."""

    def __init__(self, stack: ServeProcess, port: int, user: str, log: Path) -> None:
        self.url = f"http://localhost:{port}"
        self.log = log
        with log.open("wb") as output:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "tools.web_server", "--port", str(port), "--user", user],
                cwd=ROOT, env={**os.environ, "OFFLINE_STATE": str(stack.state)},
                stdout=output, stderr=subprocess.STDOUT,
            )  # fmt: skip
        deadline = time.monotonic() + START_TIMEOUT_S
        while "Ctrl-C" not in log.read_text():
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise DriverError(f"make web did not start:\n{log.read_text()}")
            time.sleep(0.1)
        line = next(ln for ln in log.read_text().splitlines() if ln.startswith("sign in"))
        self.user, self.password = line.split()[2], line.split()[4]

    def stop(self) -> None:
        self.process.send_signal(signal.SIGINT)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=15)


def flow(page: Page, web: WebServer) -> None:
    page.goto(web.url)
    page.fill("#username", web.user)
    page.fill("#password", web.password)
    page.click("#signin-submit")
    expect(page.locator("#app")).to_be_visible(timeout=WAIT_MS)
    profile = page.locator("#profile-form")
    expect(page.locator("#profile-view, #profile-form:visible").first).to_be_visible(
        timeout=WAIT_MS
    )
    if profile.is_visible():
        page.fill("#profile-name", "Bench")
        page.fill("#profile-email", f"{web.user}@example.com")
        page.click("#profile-submit")
        expect(page.locator("#status")).to_contain_text("Profile created", timeout=WAIT_MS)
    name = f"item-{uuid.uuid4().hex[:6]}"
    page.fill("#item-name", name)
    page.click("#item-create-submit")
    row = page.locator('li[data-testid="item-row"]', has_text=name)
    expect(row).to_have_count(1, timeout=WAIT_MS)
    row.locator('button[data-testid="item-open"]').click()
    expect(page.locator("#item-editor")).to_be_visible(timeout=WAIT_MS)
    page.fill("#edit-name", f"{name} 2")
    page.click("#edit-save")
    expect(page.locator("#status")).to_contain_text("version 2", timeout=WAIT_MS)
    page.set_input_files(
        "#attachment-file", files=[FilePayload(name="frame.png", mimeType="image/png", buffer=PNG)]
    )
    page.click("#attachment-upload")
    expect(page.locator("#status")).to_contain_text("Uploaded frame.png", timeout=WAIT_MS)
    page.click("#edit-delete")
    expect(page.locator("#status")).to_contain_text("Item deleted", timeout=WAIT_MS)


def one_run(browser: Browser, web: WebServer, origins: dict[str, str]) -> tuple[float, Counter]:
    context = browser.new_context()
    page = context.new_page()
    cdp = context.new_cdp_session(page)
    cdp.send("Network.enable")
    counted: Counter[str] = Counter()

    def seen(event: dict[str, Any]) -> None:
        request = event["request"]
        where = next((name for prefix, name in origins.items()
                      if request["url"].startswith(prefix)), "other")  # fmt: skip
        kind = "preflight" if request["method"] == "OPTIONS" else "request"
        counted[f"{where} {kind}"] += 1

    cdp.on("Network.requestWillBeSent", seen)
    started = time.perf_counter()
    flow(page, web)
    took = time.perf_counter() - started
    context.close()
    return took, counted


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    executable = shutil.which("chromium")
    if executable is None:
        sys.exit("chromium is not installed: run `make chromium`")
    port = free_ports(1)[0]
    times: list[float] = []
    counts: list[Counter] = []
    with tempfile.TemporaryDirectory(prefix="bench-browser-") as folder:
        work = Path(folder)
        print(f"browser flow: starting the local stack ({args.runs} runs)", flush=True)
        stack = ServeProcess(work, "browser", origins=f"http://localhost:{port}")
        web: WebServer | None = None
        try:
            stack.wait_healthy()
            web = WebServer(stack, port, f"bench-{uuid.uuid4().hex[:6]}", work / "web.log")
            origins = {web.url: "page", stack.url: "API", stack.emulator.url: "Cognito/S3"}
            no_sandbox = ["--no-sandbox"] if os.geteuid() == 0 else []
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=executable, args=no_sandbox)
                for n in range(1, args.runs + 1):
                    took, counted = one_run(browser, web, origins)
                    times.append(took)
                    counts.append(counted)
                    print(f"  run {n}: {took:.2f} s, {sum(counted.values())} requests", flush=True)
                browser.close()
        except DriverError as error:
            print(f"browser flow failed: {error}", file=sys.stderr)
            return 1
        finally:
            if web is not None:
                web.stop()
            stack.stop()
    print()
    print("| the flow, sign-in to delete | median | range |")
    print("|---|---:|---|")
    median = statistics.median(times)
    print(f"| time ({len(times)} runs, a new browser context each) | {median:.2f} s"
          f" | {min(times):.2f} to {max(times):.2f} s |")  # fmt: skip
    # The first run creates the profile; the others load it: counts from the last run.
    last = counts[-1]
    print()
    print("| requests in one flow (the last run) | count |")
    print("|---|---:|")
    for key in sorted(last):
        print(f"| {key} | {last[key]} |")
    print(f"| all | {sum(last.values())} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
