"""The digest's figures equal the analytics (the API's figures) for the same week, and
the movers are the ones the data was built to have."""

from __future__ import annotations

import datetime as dt

from llmledger.analytics.costs import breakdown
from llmledger.analytics.periods import DateRange
from llmledger.analytics.summary import summary
from llmledger.guardrails.budgets import set_budget
from llmledger.ledger.store import Store
from llmledger.money import usd_to_nanos
from llmledger.reports.digest import DigestOptions, build_digest, render_slack
from llmledger.reports.weeks import parse_week
from llmledger.settings import Settings
from tests.digest.data import load

NOW = dt.datetime(2026, 11, 30, 13, 0, tzinfo=dt.UTC)  # Monday 08:00 in New York


def settings() -> Settings:
    return Settings.model_validate(
        {
            "organisation": {
                "name": "Acme",
                "timezone": "America/New_York",
                "annual_budget_usd": "80000",
                "monthly_budget_usd": "15000",
            },
            "server": {"public_url": "https://ledger.example.com"},
        }
    )


def test_figures_equal_analytics_and_known_movers(store: Store) -> None:
    load(store)
    with store.write() as conn:
        set_budget(conn, scope="department:Marketing", limit_usd="1000")
    week = parse_week("2026-W48")
    with store.read() as conn:
        f = build_digest(conn, week, DigestOptions.from_settings(settings()), now=NOW)
        api_summary = summary(
            conn,
            week.end,
            fiscal_start_month=1,
            annual_budget_usd=settings().organisation.annual_budget_usd,
            monthly_budget_usd=settings().organisation.monthly_budget_usd,
        ).as_json()
        this = breakdown(conn, DateRange(week.start, week.end), ["department"]).as_json()
        last_w = week.previous()
        last = breakdown(conn, DateRange(last_w.start, last_w.end), ["department"]).as_json()
    data = f.as_json()
    assert (
        data["week"] == "2026-W48" and data["from"] == "2026-11-23" and data["to"] == "2026-11-29"
    )
    assert data["spend"] == {
        "current_usd": this["total_usd"],
        "previous_usd": last["total_usd"],
        "change_usd": "2500",
        "change_percent": "67.6",
    }
    assert this["total_usd"] == "6200" and last["total_usd"] == "3700"
    assert data["ytd"] == api_summary["ytd"] and data["mtd"] == api_summary["mtd"]
    assert data["projected_annual_usd"] == api_summary["projected_annual_usd"]
    assert data["savings_mtd_usd"] == api_summary["savings_mtd_usd"] == "20"
    assert data["savings_week_usd"] == "20"
    assert sum(usd_to_nanos(d["spend_usd"]) for d in data["daily"]) == usd_to_nanos("6200")

    depts = [(m.department, m.change.delta_nanos, m.reason) for m in f.department_movers]
    assert depts == [
        ("Engineering", usd_to_nanos("3000"), "new model gpt-image-1 ($3,000.00 this week)"),
        ("Sales", usd_to_nanos("-1500"), "agent Outreach/mailer stopped (-$1,500.00 last week)"),
        ("Marketing", usd_to_nanos("1000"), "new agent SEO/seo-writer ($1,000.00 this week)"),
    ]
    projects = [(m.name, m.change.percent, m.reason) for m in f.project_movers]
    assert projects == [
        ("Engineering / QA", 300, "new model gpt-image-1 ($3,000.00 this week)"),
        ("Sales / Outreach", -75, "agent mailer stopped (-$1,500.00 last week)"),
        ("Marketing / SEO", 250, "new agent seo-writer ($1,000.00 this week)"),
    ]
    # each mover's figures are the API's rows for the two weeks
    rows_now = {r["department"]: r["cost_usd"] for r in this["rows"]}  # type: ignore[index]
    rows_then = {r["department"]: r["cost_usd"] for r in last["rows"]}  # type: ignore[index]
    for m in data["movers"]["departments"]:  # type: ignore[index]
        assert m["current_usd"] == rows_now[m["department"]]
        assert m["previous_usd"] == rows_then[m["department"]]
    # Marketing spent $1,800 in November against $1,000: blocked
    assert [(b.scope, b.status) for b in f.budgets] == [("department:Marketing", "blocked")]
    assert f.anomalies == []
    slack = render_slack(f)
    assert slack["text"].startswith("Acme LLM spend, week 2026-W48: $6,200.00")
    assert any("new model gpt-image-1" in str(b) for b in slack["blocks"])


def test_department_scope(sqlite_store: Store) -> None:
    load(sqlite_store)
    with sqlite_store.write() as conn:
        set_budget(conn, scope="department:Engineering", limit_usd="5000")
    week = parse_week("2026-W48")
    with sqlite_store.read() as conn:
        f = build_digest(
            conn, week, DigestOptions.from_settings(settings()), now=NOW, department="Engineering"
        )
    assert f.spend.current_nanos == usd_to_nanos("4000")
    assert f.department_movers == []
    assert [m.name for m in f.project_movers] == ["Engineering / QA"]
    assert f.mtd.budget_nanos == usd_to_nanos("5000") and f.mtd.spend_nanos == usd_to_nanos("5000")
    assert f.ytd.spend_nanos == usd_to_nanos("7000")
    assert [b.scope for b in f.budgets] == ["department:Engineering"]


def test_reasons_fall_back_to_the_model_that_moved(sqlite_store: Store) -> None:
    from llmledger.ledger.recording import record_events
    from tests.digest.data import W47, W48, event

    events = [
        event(W47, "Ops", "Run", "a", "100"),
        event(W48, "Ops", "Run", "a", "400"),
    ]
    with sqlite_store.write() as conn:
        record_events(conn, events, sqlite_store.zone)
    with sqlite_store.read() as conn:
        f = build_digest(
            conn, parse_week("2026-W48"), DigestOptions.from_settings(settings()), now=NOW
        )
    assert f.project_movers[0].reason == "mostly gpt-4o (+$300.00)"
