"""Every page in a real browser: loads clean, charts draw, drill-down and raise-cap work."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import Console, signed_in_page
from tests.web.harness import Running

pytestmark = pytest.mark.browser
PAGES = (
    "/",
    "/organisation",
    "/attribution",
    "/guardrails",
    "/requests",
    "/savings",
    "/anomalies",
    "/settings",
)


def test_every_page_loads_without_console_errors(
    admin_page: tuple[Page, Console], running: Running
) -> None:
    page, console = admin_page
    for path in PAGES:
        response = page.goto(running.url + path)
        assert response is not None and response.status == 200, path
        page.wait_for_load_state("networkidle")
        expect(page.locator("main h1")).to_be_visible()
    assert console.errors == []


def test_charts_render(admin_page: tuple[Page, Console], running: Running) -> None:
    page, console = admin_page
    for path, chart in (("/", "#trend-chart"), ("/organisation", "#org-chart")):
        page.goto(running.url + path)
        canvas = page.locator(f"{chart}[data-ready] canvas")
        expect(canvas.first).to_be_visible()
        box = canvas.first.bounding_box()
        assert box is not None and box["width"] > 300 and box["height"] > 200
        # something was drawn: the canvas is not blank
        drawn = page.evaluate(
            """sel => { const c = document.querySelector(sel + ' canvas');
                        const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
                        let n = 0; for (let i = 3; i < d.length; i += 4) { if (d[i]) n++; }
                        return n; }""",
            chart,
        )
        assert drawn > 1000
    assert console.errors == []


def test_organisation_period_switch(admin_page: tuple[Page, Console], running: Running) -> None:
    page, console = admin_page
    page.goto(running.url + "/organisation")
    page.click("a[data-period='1m']")
    expect(page.locator("a[data-period='1m']")).to_have_class(re.compile("active"))
    expect(page).to_have_url(re.compile(r"period=1m"))
    expect(page.locator("#org-chart[data-ready] canvas")).to_be_visible()
    assert console.errors == []


def test_attribution_drill_down_and_sort(
    admin_page: tuple[Page, Console], running: Running
) -> None:
    page, console = admin_page
    page.goto(running.url + "/attribution?period=12m")
    agent = page.locator("tr[data-path='Engineering / QA / visual-tester']")
    expect(agent).to_be_hidden()
    qa = page.locator("tr[data-path='Engineering / QA']")
    qa.locator("button.toggle").click()
    expect(agent).to_be_visible()
    expect(agent.locator("td[data-col='images']")).not_to_have_text("0")
    page.locator("tr[data-path='Engineering'] button.toggle").click()
    expect(qa).to_be_hidden()
    expect(agent).to_be_hidden()
    page.locator("th a[data-sort='video_seconds']").click()
    expect(page).to_have_url(re.compile("sort=video_seconds"))
    expect(page.locator("#attr-table tbody tr").first).to_have_attribute("data-path", "Engineering")
    # The sort swapped the view in: let htmx finish and wire up the new filter form
    # before changing it, or the change lands on a form nothing listens to yet.
    page.wait_for_function(
        "() => { const f = document.querySelector('form.filters');"
        " return !!f && !!f['htmx-internal-data']"
        " && !document.querySelector('.htmx-request, .htmx-swapping, .htmx-settling'); }"
    )
    page.select_option("select[name=provider]", "bedrock")
    expect(page).to_have_url(re.compile("provider=bedrock"))
    names = page.locator("#attr-table tr.level-0").evaluate_all(
        "rows => rows.map(r => r.dataset.path)"
    )
    assert set(names) == {"Engineering", "Finance"}
    href = page.locator("#csv-link").get_attribute("href")
    assert href is not None and "provider=bedrock" in href and "sort=video_seconds" in href
    assert console.errors == []


def test_requests_keyset_pagination(admin_page: tuple[Page, Console], running: Running) -> None:
    page, console = admin_page
    page.goto(running.url + "/requests?department=Engineering")
    first = page.locator("#events tbody tr").first.get_attribute("data-id")
    page.click("#older")
    expect(page).to_have_url(re.compile("cursor="))
    expect(page.locator("#events tbody tr").first).not_to_have_attribute("data-id", first or "")
    expect(page.locator("#events tbody tr")).to_have_count(50)
    assert console.errors == []


def test_raise_cap_unblocks_the_seo_agent(browser: Browser, fresh: Running) -> None:
    page, console = signed_in_page(browser, fresh, "cfo@example.com")
    try:
        page.goto(fresh.url + "/guardrails")
        row = page.locator("tr[data-scope='agent:Marketing/Content/seo']")
        expect(row).to_have_attribute("data-status", "blocked")
        row.locator("summary").click()
        row.locator("input[name=limit_usd]").fill("abc")
        row.locator("input[name=reason]").fill("launch week")
        row.locator("button[type=submit]").click()  # refused by the browser's own check
        expect(row).to_have_attribute("data-status", "blocked")
        row.locator("input[name=limit_usd]").fill("8000")
        row.locator("button[type=submit]").click()
        updated = page.locator("tr[data-scope='agent:Marketing/Content/seo']")
        expect(updated).to_have_attribute("data-status", "ok")
        expect(updated.locator(".limit")).to_have_text("$8,000.00")
        expect(updated).to_have_class(re.compile("changed"))
        page.reload()
        expect(page.locator("tr[data-scope='agent:Marketing/Content/seo']")).to_have_attribute(
            "data-status", "ok"
        )
        assert console.errors == []
    finally:
        page.context.close()
