"""``/roi`` and ``/reconciliation`` in a real browser: they load clean and draw what they show."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import signed_in_page
from tests.web.harness import Running
from tests.web.outcomes import serve_with_outcomes

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def with_outcomes(
    populated_db: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Running]:
    with serve_with_outcomes(populated_db, tmp_path_factory.mktemp("roi-pages")) as (live, _):
        yield live


def charts_drawn(page: Page) -> None:
    """Every chart of the page is initialised and has a canvas that is not blank."""
    charts = page.locator(".chart[data-chart]")
    for i in range(charts.count()):
        expect(charts.nth(i)).to_have_attribute("data-ready", "1")
        drawn = charts.nth(i).evaluate(
            """el => { const c = el.querySelector('canvas');
                       const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
                       let n = 0; for (let i = 3; i < d.length; i += 4) { if (d[i]) n++; }
                       return n; }"""
        )
        assert drawn > 1000


def test_roi_and_reconciliation_load_clean(browser: Browser, with_outcomes: Running) -> None:
    page, console = signed_in_page(browser, with_outcomes)
    try:
        for path, table in (("/roi", "#roi"), ("/reconciliation", "#providers")):
            response = page.goto(with_outcomes.url + path)
            assert response is not None and response.status == 200, path
            page.wait_for_load_state("networkidle")
            expect(page.locator("main h1")).to_be_visible()
            expect(page.locator(table)).to_be_visible()
            charts_drawn(page)
        # /roi lists the measured agent, and the risers when there are any
        page.goto(with_outcomes.url + "/roi")
        expect(page.locator("#roi tbody tr", has_text="coder")).to_have_count(1)
        expect(page.locator("#no-outcomes", has_text="reviews_done")).to_be_visible()
        assert console.errors == []
    finally:
        page.context.close()


def test_attribution_outcome_columns(browser: Browser, with_outcomes: Running) -> None:
    page, console = signed_in_page(browser, with_outcomes)
    try:
        page.goto(with_outcomes.url + "/attribution?period=last")
        page.click("[data-expand-all]")
        coder = page.locator("tr[data-path='Engineering / Backend / coder']")
        expect(coder.locator("td[data-col='cost_per_outcome']")).to_contain_text("/ pull request")
        page.select_option("select[name=period]", "12m")  # an htmx swap keeps the columns
        expect(page).to_have_url(re.compile(r"period=12m"))
        expect(page.locator("thead th[data-col='cost_per_outcome']")).to_have_text("Cost / outcome")
        page.click("[data-expand-all]")
        expect(coder.locator("td[data-col='outcomes']")).to_contain_text("20 pull request")
        assert console.errors == []
    finally:
        page.context.close()
