"""``/attribution``'s outcome columns: the ROI API's figures for the same period, in the
table and in its CSV."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from llmledger.analytics.periods import DateRange
from tests.web import dataset
from tests.web.harness import Client, Running
from tests.web.outcomes import (
    CODER,
    CODER_PRS,
    OUTREACH_MEETINGS,
    expected_cost_usd,
    per_outcome,
    serve_with_outcomes,
)
from tests.web.test_figures_agree import admin, cents


@pytest.fixture(scope="module")
def live(
    populated_db: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Running, DateRange]]:
    with serve_with_outcomes(populated_db, tmp_path_factory.mktemp("outcomes")) as served:
        yield served


def row_of(html: str, path: str) -> str:
    start = html.index(f'data-path="{path}"')
    return html[start : html.index("</tr>", start)]


def cell(row: str, column: str) -> str:
    match = re.search(rf'<td [^>]*data-col="{column}"[^>]*>(.*?)</td>', row, re.S)
    assert match, column
    return match.group(1)


def query(period: DateRange) -> str:
    return f"from={period.start}&to={period.end}"


def test_cost_per_outcome_on_the_attribution_page(live: tuple[Running, DateRange]) -> None:
    running, period = live
    today = datetime.now(UTC).astimezone(dataset.ZONE).date()
    html = admin(running).get("/attribution?" + query(period)).text

    coder = row_of(html, "Engineering / Backend / coder")
    expected = per_outcome(expected_cost_usd(CODER, period, today), CODER_PRS)
    usd = re.search(r'data-usd="([^"]+)">([^<]+)<', cell(coder, "cost_per_outcome"))
    assert usd and Decimal(usd.group(1)) == expected and usd.group(2) == cents(str(expected))
    assert "/ pull request" in cell(coder, "cost_per_outcome")
    assert re.sub(r"<[^>]+>", "", cell(coder, "outcomes")).split() == ["20", "pull", "request"]

    # outcomes recorded without an agent count against the whole project
    outreach = row_of(html, "Sales / Outreach")
    cost = expected_cost_usd(("Sales", "Outreach"), period, today)
    assert f'data-usd="{per_outcome(cost, OUTREACH_MEETINGS).normalize():f}"' in outreach
    assert "/ meeting" in cell(outreach, "cost_per_outcome")

    # a declared metric with no outcome, and no metric at all: unknown, not zero
    for path in ("Engineering / Backend / reviewer", "Engineering / DevOps / deployer"):
        row = row_of(html, path)
        assert cell(row, "outcomes").strip() == "—", path
        assert cell(row, "cost_per_outcome").strip() == "—", path
    assert "reviews_done: no outcome" in row_of(html, "Engineering / Backend / reviewer")
    # the agents under the project show their own figures, not the project's
    assert cell(row_of(html, "Sales / Outreach / sdr-agent"), "outcomes").strip() == "—"


def test_the_page_equals_the_roi_api(live: tuple[Running, DateRange]) -> None:
    running, period = live
    html = admin(running).get("/attribution?" + query(period)).text
    api = running.api("/api/v1/roi?" + query(period)).json()
    assert (api["from"], api["to"]) == (str(period.start), str(period.end))
    measured = [r for r in api["rows"] if r["cost_per_outcome_usd"] is not None]
    assert len(measured) == 2
    for r in measured:
        path = " / ".join(p for p in (r["department"], r["project"], r["agent"]) if p)
        shown = cell(row_of(html, path), "cost_per_outcome")
        usd = r["cost_per_outcome_usd"]
        assert f'data-usd="{usd}">{cents(usd)}<' in shown, path


def test_the_csv_has_the_outcome_columns(live: tuple[Running, DateRange]) -> None:
    running, period = live
    client: Client = admin(running)
    html = client.get("/attribution?" + query(period)).text
    reply = client.get("/attribution.csv?" + query(period))
    assert reply.status == 200
    rows = list(csv.DictReader(io.StringIO(reply.text)))
    assert rows and list(rows[0])[-4:] == [
        "outcome_metric",
        "outcomes",
        "outcome_unit",
        "cost_per_outcome",
    ]
    paths = [" / ".join(p for p in (r["department"], r["project"], r["agent"]) if p) for r in rows]
    assert paths == re.findall(r'data-path="([^"]*)"', html)
    by_path = dict(zip(paths, rows, strict=True))
    api = {
        (r["department"], r["project"], r["agent"]): r
        for r in running.api("/api/v1/roi?" + query(period)).json()["rows"]
    }
    coder = by_path["Engineering / Backend / coder"]
    expected = api[CODER]
    assert (coder["outcome_metric"], coder["outcomes"], coder["outcome_unit"]) == (
        "prs_merged",
        "20",
        "pull request",
    )
    assert coder["cost_per_outcome"] == expected["cost_per_outcome_usd"]
    outreach = by_path["Sales / Outreach"]
    assert outreach["cost_per_outcome"] == api[("Sales", "Outreach", "")]["cost_per_outcome_usd"]
    for path in ("Engineering / Backend / reviewer", "Engineering / DevOps / deployer"):
        empty = [by_path[path][k] for k in ("outcome_metric", "outcomes", "cost_per_outcome")]
        assert empty == ["", "", ""], path
