"""What a page shows equals the API and ``llmledger report`` for the same period."""

from __future__ import annotations

import csv
import io
import json
import re
from decimal import ROUND_HALF_EVEN, Decimal
from html.parser import HTMLParser
from pathlib import Path

from typer.testing import CliRunner

from llmledger.cli.main import app as cli
from tests.web.dataset import PASSWORD
from tests.web.harness import Client, Running


def cents(usd: str) -> str:
    value = Decimal(usd).quantize(Decimal("0.01"), rounding=ROUND_HALF_EVEN)
    return f"{'-' if value < 0 else ''}${abs(value):,.2f}"


class Cells(HTMLParser):
    """Text of elements carrying ``data-usd`` (their exact amount) by attribute."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[tuple[str, str]] = []
        self._open: list[str | None] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._open.append(dict(attrs).get("data-usd"))
        if self._open[-1] is not None:
            self.found.append((self._open[-1] or "", ""))

    def handle_endtag(self, tag: str) -> None:
        if self._open:
            self._open.pop()

    def handle_data(self, data: str) -> None:
        if self._open and self._open[-1] is not None and self.found:
            usd, text = self.found[-1]
            self.found[-1] = (usd, text + data.strip())


def shown(html: str) -> list[tuple[str, str]]:
    parser = Cells()
    parser.feed(html)
    return parser.found


def report(tmp_path: Path, db: Path, *args: str) -> dict[str, object]:
    config = tmp_path / "llmledger.toml"
    config.write_text(
        f'[store]\nurl = "sqlite:///{db}"\n[organisation]\ntimezone = "America/New_York"\n'
        'annual_budget_usd = "80000"\nmonthly_budget_usd = "15000"\n'
    )
    result = CliRunner().invoke(cli, ["--config", str(config), "report", *args, "--json"])
    assert result.exit_code == 0, result.output
    data: dict[str, object] = json.loads(result.stdout)
    return data


def admin(live: Running) -> Client:
    client = live.client()
    client.sign_in("admin@example.com", PASSWORD)
    return client


def test_executive_equals_api_and_report(
    running: Running, populated_db: Path, tmp_path: Path
) -> None:
    api = running.api("/api/v1/summary").json()
    assert report(tmp_path, populated_db, "summary") == api
    html = admin(running).get("/").text
    cells = shown(html)
    for usd in (
        api["ytd"]["spend_usd"],
        api["ytd"]["variance_usd"],
        api["mtd"]["spend_usd"],
        api["projected_annual_usd"],
        api["savings_mtd_usd"],
    ):
        assert (usd, cents(usd)) in cells
    assert api["ytd"]["status"] == "red"  # the known company is over its annual budget
    assert 'class="card kpi status-red" data-kpi="ytd"' in html
    assert f'data-q="requests">{api["requests_mtd"]:,}<' in html
    assert api["projection_method"] in html


def test_organisation_equals_api_and_report(
    running: Running, populated_db: Path, tmp_path: Path
) -> None:
    html = admin(running).get("/organisation?period=ytd").text
    period = re.search(r"(\d+ \w+ \d{4}) – (\d+ \w+ \d{4})", html)
    assert period
    api_path = "/api/v1/costs?group_by=department&from={}&to={}"
    from datetime import datetime

    start, end = (datetime.strptime(p, "%d %b %Y").date().isoformat() for p in period.groups())
    api = running.api(api_path.format(start, end)).json()
    cli = report(
        tmp_path, populated_db, "costs", "--by", "department", "--from", start, "--to", end
    )
    assert {r["department"]: r["cost_usd"] for r in cli["rows"]} == {  # type: ignore[attr-defined]
        r["department"]: r["cost_usd"] for r in api["rows"]
    }
    cells = shown(html)
    for r in api["rows"]:
        assert (r["cost_usd"], cents(r["cost_usd"])) in cells
    assert (api["total_usd"], cents(api["total_usd"])) in cells


def test_attribution_csv_is_what_the_table_shows(running: Running) -> None:
    client = admin(running)
    query = "period=12m&provider=openai&sort=images&order=desc"
    html = client.get("/attribution?" + query).text
    reply = client.get("/attribution.csv?" + query)
    assert reply.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(reply.text)))
    table_paths = re.findall(r'data-path="([^"]*)"', html)
    csv_paths = [
        " / ".join(p for p in (r["department"], r["project"], r["agent"]) if p) for r in rows
    ]
    assert csv_paths == table_paths
    assert rows[0]["department"] == "Engineering" and rows[1]["project"] == "QA"
    costs = re.findall(r'data-col="cost">([^<]+)<', html)
    assert [cents(r["cost"]) for r in rows] == costs[: len(rows)]
    tree = running.api(
        "/api/v1/hierarchy?provider=openai&from={}&to={}".format(
            *re.findall(r"(\d{4}-\d\d-\d\d)", reply.headers["content-disposition"])
        )
    ).json()
    top = sum((Decimal(r["cost"]) for r in rows if r["level"] == "department"), Decimal(0))
    assert top == Decimal(tree["total_usd"])


def test_guardrails_equal_the_budgets_api(running: Running) -> None:
    html = admin(running).get("/guardrails").text
    for b in running.api("/api/v1/budgets").json()["budgets"]:
        row = html[html.index(f'id="budget-{b["id"]}"') :]
        row = row[: row.index("</tr>")]
        assert f'data-status="{b["status"]}"' in row
        assert f'data-usd="{b["spent_usd"]}">{cents(b["spent_usd"])}<' in row
        assert f'data-usd="{b["limit_usd"]}">{cents(b["limit_usd"])}<' in row
    assert 'data-scope="agent:Marketing/Content/seo" data-status="blocked"' in html
