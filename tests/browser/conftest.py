"""A real Chromium (Debian's) driven by Playwright, against the real server."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, Request, sync_playwright

from tests.services import missing
from tests.web.conftest import fresh, populated_db, running  # noqa: F401  (fixtures)
from tests.web.dataset import PASSWORD
from tests.web.harness import Running

CHROMIUM = os.environ.get("LLMLEDGER_CHROMIUM", "/usr/bin/chromium")
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        missing(
            f"Chromium is not installed at {CHROMIUM}: apt-get install -y chromium "
            "(make test installs it)"
        )
    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


class Console:
    """Console errors and failed requests of a page: every test ends with none."""

    def __init__(self, page: Page) -> None:
        self.errors: list[str] = []
        page.on("console", self._message)
        page.on("pageerror", lambda exc: self.errors.append(f"page error: {exc}"))
        page.on("requestfailed", self._failed)

    def _failed(self, request: Request) -> None:
        # A request the browser abandoned because the page navigated away is not an error
        # of the page (a favicon still loading when a link is followed, say).
        if request.failure == "net::ERR_ABORTED":
            return
        self.errors.append(f"failed: {request.url} ({request.failure})")

    def _message(self, msg: ConsoleMessage) -> None:
        if msg.type == "error":
            self.errors.append(msg.text)


def signed_in_page(
    browser: Browser,
    live: Running,
    email: str = "admin@example.com",
) -> tuple[Page, Console]:
    context = browser.new_context(
        viewport={"width": 1440, "height": 900}, timezone_id="America/New_York"
    )
    page = context.new_page()
    console = Console(page)
    page.goto(live.url + "/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(live.url + "/")
    return page, console


@pytest.fixture
def admin_page(
    browser: Browser,
    running: Running,  # noqa: F811
) -> Iterator[tuple[Page, Console]]:
    page, console = signed_in_page(browser, running)
    try:
        yield page, console
    finally:
        page.context.close()
