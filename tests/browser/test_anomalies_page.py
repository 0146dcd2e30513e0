"""``/anomalies`` in a real browser: loads clean, a row opens onto its chart, and
acknowledging with a note changes the record's status in place; a filter reloads the table."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect

from tests.browser.conftest import signed_in_page
from tests.web.test_anomalies_page import seeded

pytestmark = pytest.mark.browser
#: Where the page's screenshot goes when asked (to check that it reads well).
SCREENSHOT = os.environ.get("LLMLEDGER_ANOMALIES_SCREENSHOT")

DRAWN = """sel => { const c = document.querySelector(sel + ' canvas');
  const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
  let n = 0; for (let i = 3; i < d.length; i += 4) { if (d[i]) n++; } return n; }"""


def test_expand_a_row_then_acknowledge_it(browser: Browser, tmp_path: Path) -> None:
    with seeded(tmp_path) as (live, ids):
        page, console = signed_in_page(browser, live, "cfo@example.com")
        try:
            page.goto(live.url + "/anomalies")
            # the newest anomaly is open with its chart; the others wait for a click
            newest = f"#evidence-{ids['spike']} .chart"
            expect(page.locator(f"{newest}[data-ready] canvas")).to_be_visible()
            if SCREENSHOT:
                page.screenshot(path=SCREENSHOT, full_page=True)
            runaway = page.locator(f"#anomaly-{ids['runaway']}")
            chart = f"#evidence-{ids['runaway']} .chart"
            expect(runaway.locator(".anomaly-detail")).to_be_hidden()
            runaway.locator("td.description").click()
            expect(page.locator(f"{chart}[data-ready] canvas")).to_be_visible()
            assert page.evaluate(DRAWN, chart) > 1000
            assert runaway.locator("button.toggle").get_attribute("aria-expanded") == "true"

            form = runaway.locator("form.acknowledge-form")
            form.locator("button[type=submit]").click()  # no note: the browser refuses
            expect(runaway).to_have_attribute("data-status", "open")
            form.locator("input[name=note]").fill("retry storm after the deploy, fixed")
            form.locator("button[type=submit]").click()
            changed = page.locator(f"#anomaly-{ids['runaway']}")
            expect(changed).to_have_attribute("data-status", "acknowledged")
            expect(changed.locator(".badge")).to_have_text("acknowledged")
            expect(changed.locator("td.note")).to_have_text("retry storm after the deploy, fixed")
            expect(page.locator(f"{chart}[data-ready] canvas")).to_be_visible()  # redrawn
            page.reload()
            page.wait_for_load_state("networkidle")
            expect(page.locator(f"#anomaly-{ids['runaway']}")).to_have_attribute(
                "data-status", "acknowledged"
            )
            page.select_option("select[name=status]", "acknowledged")  # an htmx reload
            expect(page).to_have_url(re.compile("status=acknowledged"))
            expect(page.locator("#anomalies tbody.anomaly")).to_have_count(1)
            expect(
                page.locator(f"#evidence-{ids['runaway']} .chart[data-ready] canvas")
            ).to_be_visible()
            assert console.errors == []
        finally:
            page.context.close()
