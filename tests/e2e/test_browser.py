"""The example web client (`make web`, examples/web) and the API explorer (`/docs`) in a real
browser: Debian's chromium, headless, driven by Playwright, against the local stack. What a
browser enforces and Python cannot see is exercised here: CORS preflights on the API, on the
Cognito endpoint and on the bucket a presigned POST goes to; SRP sign-in; error bodies a page
can read. A page served from an origin the API does not allow is refused by the browser.
Screenshots of each step go to build/browser/."""

from __future__ import annotations

import json
import os
import re
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, FilePayload, Page, expect, sync_playwright

from offline.stack.driver import ServeProcess
from tests.e2e.conftest import WEB_PORT
from tests.make_web import serving

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "build" / "browser"
WAIT_MS = 30_000
# Tall enough for the whole example page in one screenshot, its status bar where it sits.
VIEWPORT: Any = {"width": 1100, "height": 1500}
SIGN_IN = re.compile(r"^sign in\s+(\S+) / (\S+)")
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
FRAME = FilePayload(name="frame.png", mimeType="image/png", buffer=PNG)


@dataclass
class WebClient:
    """`make web` (tools/web_server.py) on `port`, pointed at the local stack."""

    url: str
    user: str
    password: str
    lines: list[str]


@contextmanager
def web_client(stack: ServeProcess, port: int, user: str) -> Iterator[WebClient]:
    """Served as a user runs it (tests/make_web.py), the credentials read from its banner."""
    environment = {**os.environ, "OFFLINE_STATE": str(stack.state)}
    with serving(environment, "--user", user, port=port) as served:
        credentials = next(filter(None, map(SIGN_IN.match, served.stdout)), None)
        assert credentials, f"no credentials in the banner:\n{served.stdout}"
        yield WebClient(f"http://localhost:{port}", credentials[1], credentials[2], served.stdout)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    executable = shutil.which("chromium")
    if executable is None:
        pytest.fail("chromium is not installed: `make test` installs it (apt-get install chromium)")
    # Chromium's sandbox needs an unprivileged user; as root (a CI container) it is off.
    args = ["--no-sandbox"] if os.geteuid() == 0 else []
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=executable, args=args)
        yield launched
        launched.close()


def shot(page: Page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"))


def status(page: Page, kind: str, text: str | re.Pattern[str] = "") -> None:
    found = page.locator("#status")
    expect(found).to_have_attribute("data-kind", kind, timeout=WAIT_MS)
    if text:
        expect(found).to_contain_text(text, timeout=WAIT_MS)


def sign_in(page: Page, web: WebClient) -> None:
    page.goto(web.url)
    expect(page.locator("#signin-form")).to_be_visible(timeout=WAIT_MS)
    page.fill("#username", web.user)
    page.fill("#password", web.password)
    page.click("#signin-submit")
    expect(page.locator("#app")).to_be_visible(timeout=WAIT_MS)


def open_item(page: Page, item_id: str) -> None:
    row = page.locator(f'li[data-testid="item-row"][data-item-id="{item_id}"]')
    row.locator('button[data-testid="item-open"]').click()
    expect(page.locator("#edit-id")).to_have_text(item_id, timeout=WAIT_MS)


def fresh_user(stem: str) -> str:
    # The session's stack is shared with other files' users: never one of theirs.
    return f"{stem}-{uuid.uuid4().hex[:8]}"


def test_the_whole_flow_in_chromium(local: ServeProcess, browser: Browser) -> None:
    user = fresh_user("browser")
    with web_client(local, WEB_PORT, user) as web:
        context = browser.new_context(viewport=VIEWPORT)
        page = context.new_page()
        failures: list[str] = []
        page.on("pageerror", lambda error: failures.append(str(error)))

        page.goto(web.url)
        expect(page.locator("#signin-form")).to_be_visible(timeout=WAIT_MS)
        page.fill("#username", web.user)
        page.fill("#password", web.password + "-wrong")
        page.click("#signin-submit")
        expect(page.locator("#status")).to_have_attribute(
            "data-code", "NotAuthorizedException", timeout=WAIT_MS
        )
        shot(page, "01-wrong-password")
        sign_in(page, web)
        shot(page, "02-signed-in")

        expect(page.locator("#profile-form")).to_be_visible(timeout=WAIT_MS)
        page.fill("#profile-name", "Browser Tester")
        page.fill("#profile-email", f"{user}@example.com")
        page.click("#profile-submit")
        status(page, "success", "Profile created")
        expect(page.locator("#profile-view")).to_contain_text("Browser Tester")

        page.fill("#item-name", "Desk lamp")
        page.fill("#item-price", "1999")
        page.click("#item-create-submit")
        status(page, "success", "Desk lamp")
        row = page.locator('li[data-testid="item-row"]', has_text="Desk lamp")
        expect(row).to_have_count(1, timeout=WAIT_MS)
        item_id = str(row.get_attribute("data-item-id"))
        shot(page, "03-item-created")

        open_item(page, item_id)
        page.fill("#edit-name", "Desk lamp, brass")
        page.click("#edit-save")
        status(page, "success", "version 2")

        # Another tab changes the item; this tab's save then carries a stale If-Match.
        other = context.new_page()
        sign_in(other, web)
        open_item(other, item_id)
        other.fill("#edit-name", "Desk lamp, changed elsewhere")
        other.click("#edit-save")
        status(other, "success", "version 3")
        other.close()
        page.fill("#edit-name", "Desk lamp, stale")
        page.click("#edit-save")
        expect(page.locator("#status")).to_have_attribute(
            "data-code", "precondition_failed", timeout=WAIT_MS
        )
        expect(page.locator("#status")).to_have_attribute("data-http-status", "412")
        expect(page.locator("#edit-conflict")).to_be_visible()
        shot(page, "04-precondition-failed")
        page.click("#edit-reload")
        expect(page.locator("#edit-name")).to_have_value("Desk lamp, changed elsewhere",
                                                         timeout=WAIT_MS)  # fmt: skip

        page.set_input_files("#attachment-file", files=[FRAME])
        page.click("#attachment-upload")
        status(page, "success", "Uploaded frame.png")
        key = page.locator("#attachment-result").inner_text().strip()
        assert key, "no S3 key shown after the upload"
        shot(page, "05-uploaded")
        bucket = local_bucket(local)
        stored = local.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read()
        assert stored == PNG

        page.click("#edit-delete")
        status(page, "success", "Item deleted")
        expect(page.locator(f'li[data-item-id="{item_id}"]')).to_have_count(0)
        shot(page, "06-deleted")
        assert failures == []
        context.close()


def local_bucket(stack: ServeProcess) -> str:
    return str(json.loads(stack.state.read_text())["physical_ids"]["AssetsBucket"])


def test_a_page_from_a_foreign_origin_is_refused_by_the_browser(
    local: ServeProcess, browser: Browser
) -> None:
    """Served from a port the API does not list: sign-in works (Cognito allows any origin),
    then the browser refuses the API's answers, and the page can only say it got none."""
    from offline.common.ports import free_ports

    foreign = free_ports(1)[0]
    with web_client(local, foreign, fresh_user("foreign")) as web:
        assert any("warning" in line and web.url in line for line in web.lines)
        context = browser.new_context(viewport=VIEWPORT)
        page = context.new_page()
        console: list[str] = []
        page.on("console", lambda message: console.append(message.text))
        sign_in(page, web)
        expect(page.locator("#status")).to_have_attribute("data-kind", "error", timeout=WAIT_MS)
        expect(page.locator("#status")).to_have_attribute("data-http-status", "0")
        assert any("CORS policy" in line for line in console), console
        shot(page, "07-foreign-origin-refused")
        context.close()


def test_swagger_ui_authorizes_with_a_token_and_tries_a_route(
    local: ServeProcess, browser: Browser, alice: str
) -> None:
    context = browser.new_context(viewport=VIEWPORT)
    page = context.new_page()
    outside: list[str] = []
    page.on("request", lambda request: outside.append(request.url)
            if not request.url.startswith((local.url, "data:")) else None)  # fmt: skip
    page.goto(f"{local.url}/docs")
    page.wait_for_selector(".opblock", timeout=WAIT_MS)
    items = page.locator(".opblock-get:has(.opblock-summary-path[data-path='/items'])").first
    items.locator(".opblock-summary").click()
    items.get_by_role("button", name="Try it out").click()
    execute(items)
    expect(answer_status(items)).to_have_text("401", timeout=WAIT_MS)
    page.locator(".auth-wrapper button.authorize").click()
    page.locator(".auth-container input").first.fill(alice)
    page.locator(".auth-btn-wrapper button.authorize").first.click()
    page.locator(".auth-btn-wrapper button.btn-done").first.click()
    execute(items)
    expect(answer_status(items)).to_have_text("200", timeout=WAIT_MS)
    shot(page, "08-api-explorer")
    assert outside == []
    context.close()


def execute(operation: Any) -> None:
    operation.get_by_role("button", name="Execute").click()


def answer_status(operation: Any) -> Any:
    return operation.locator(".live-responses-table tbody .response-col_status").first
