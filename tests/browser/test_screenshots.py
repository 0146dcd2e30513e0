"""Screenshots of every page from a populated store (docs/screenshots when asked).

``LLMLEDGER_SCREENSHOTS=docs/screenshots pytest tests/browser -k screenshots`` rewrites
the documentation's images; otherwise they go to a temporary folder.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from playwright.sync_api import Page

from tests.browser.conftest import Console
from tests.web.harness import Running

PAGES = {
    "executive": "/",
    "organisation": "/organisation",
    "attribution": "/attribution",
    "guardrails": "/guardrails",
    "requests": "/requests",
    "savings": "/savings",
    "anomalies": "/anomalies",
    "settings": "/settings",
}

pytestmark = pytest.mark.browser


def test_screenshots(admin_page: tuple[Page, Console], running: Running, tmp_path: Path) -> None:
    page, console = admin_page
    folder = Path(os.environ.get("LLMLEDGER_SCREENSHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    for name, path in PAGES.items():
        page.goto(running.url + path)
        page.wait_for_load_state("networkidle")
        if page.locator(".chart[data-chart]").count():
            page.wait_for_selector(".chart[data-ready] canvas")
        page.screenshot(path=str(folder / f"{name}.png"), full_page=True)
        assert (folder / f"{name}.png").stat().st_size > 10_000
    assert console.errors == []
