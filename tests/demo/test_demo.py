from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import orjson
import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from llmledger.analytics.summary import summary
from llmledger.cli.main import app
from llmledger.demo import company
from llmledger.demo.setup import Demo, build_demo, demo_settings
from llmledger.guardrails.status import all_statuses
from llmledger.ledger import queries, rollups, schema
from llmledger.ledger.event import EventFlag
from llmledger.ledger.store import Store
from llmledger.pricing import PriceCatalog
from llmledger.usage import TEXT_TOKEN_TYPES

#: A Thursday afternoon late in a month: the generator's clock, fixed for repeatable data.
NOW = datetime(2026, 11, 19, 20, 30, tzinfo=UTC)
SCALE = Decimal("0.01")


@pytest.fixture(scope="module")
def catalog() -> PriceCatalog:
    return PriceCatalog.build()


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory, catalog: PriceCatalog) -> Demo:
    path = tmp_path_factory.mktemp("demo") / "demo.db"
    return build_demo(path, now=NOW, days=35, seed=5, scale=SCALE, catalog=catalog)


def _store(demo: Demo) -> Store:
    zone = demo_settings(demo.store_path, demo.budgets).organisation.zone
    return Store.open(f"sqlite:///{demo.store_path}", zone)


def _events(demo: Demo) -> list[tuple[object, ...]]:
    e = schema.events
    store = _store(demo)
    try:
        with store.read() as conn:
            rows = conn.execute(
                select(
                    e.c.id,
                    e.c.ts_us,
                    e.c.department,
                    e.c.project,
                    e.c.agent,
                    e.c.provider,
                    e.c.model_requested,
                    e.c.model_used,
                    e.c.cost_nanos,
                    e.c.requested_cost_nanos,
                ).order_by(e.c.id)
            )
            return [tuple(r) for r in rows]
    finally:
        store.close()


def test_same_seed_same_events(demo: Demo, catalog: PriceCatalog, tmp_path: Path) -> None:
    again = build_demo(
        tmp_path / "again.db", now=NOW, days=35, seed=5, scale=SCALE, catalog=catalog
    )
    other = build_demo(
        tmp_path / "other.db", now=NOW, days=35, seed=6, scale=SCALE, catalog=catalog
    )
    assert again.events == demo.events > 300
    assert _events(again) == _events(demo)
    assert _events(other) != _events(demo)


def test_budget_states_tell_the_story(demo: Demo) -> None:
    store = _store(demo)
    try:
        with store.read() as conn:
            statuses = {
                s.budget.scope.text: s
                for s in all_statuses(conn, NOW, store.zone, demo.budgets.fiscal_year_start_month)
            }
    finally:
        store.close()
    seo = statuses["agent:Marketing/SEO/seo-agent"]
    assert seo.status == "blocked"
    assert seo.spent_nanos > seo.budget.limit_nanos
    assert seo.spent_nanos - seo.budget.limit_nanos < seo.budget.limit_nanos // 1000
    writer = statuses["agent:Marketing/Content/content-writer"]
    assert (writer.status, writer.percent) == ("alert", Decimal("94.4"))
    invoices = statuses["agent:Finance/Payables/invoice-processing"]
    assert (invoices.status, invoices.percent) == ("alert", Decimal("96.5"))
    others = [
        s
        for scope, s in statuses.items()
        if scope.startswith("agent:")
        and s.budget.scope.parts[2] not in ("seo-agent", "content-writer", "invoice-processing")
    ]
    assert others and all(s.status == "ok" for s in others)


def test_every_event_priced_and_departments_add_up(demo: Demo) -> None:
    e = schema.events
    store = _store(demo)
    try:
        with store.read() as conn:
            unpriced = conn.execute(
                select(func.count()).where(e.c.flags.op("&")(int(EventFlag.UNPRICED)) != 0)
            ).scalar_one()
            zero = conn.execute(select(func.count()).where(e.c.cost_nanos <= 0)).scalar_one()
            by_events = dict(
                conn.execute(
                    select(e.c.department, func.sum(e.c.cost_nanos)).group_by(e.c.department)
                ).all()
            )
            day = NOW.astimezone(store.zone).date()
            by_rollups = {
                r.key[0]: r.cost_nanos
                for r in queries.call_sums(
                    conn, day - timedelta(days=350), day, group_by=("department",)
                )
            }
            providers = {
                r.key[0]
                for r in queries.call_sums(
                    conn, day - timedelta(days=350), day, group_by=("provider",)
                )
            }
    finally:
        store.close()
    assert unpriced == 0 and zero == 0
    assert set(by_events) == {
        "Engineering",
        "Sales",
        "Marketing",
        "Finance",
        "Operations",
        "Support",
    }
    assert by_rollups == by_events
    assert providers == {"openai", "anthropic", "google", "bedrock"}


def test_rollups_rebuild_equal(demo: Demo) -> None:
    store = _store(demo)
    tables = (schema.calls_daily, schema.usage_daily, schema.calls_hourly)
    try:
        with store.read() as conn:
            before = [sorted(tuple(r) for r in conn.execute(select(t))) for t in tables]
        with store.write() as conn:
            rollups.rebuild(conn, store.zone)
            after = [sorted(tuple(r) for r in conn.execute(select(t))) for t in tables]
            conn.rollback()
    finally:
        store.close()
    assert after == before


def test_qa_is_mostly_images_video_and_audio(demo: Demo) -> None:
    store = _store(demo)
    try:
        with store.read() as conn:
            day = NOW.astimezone(store.zone).date()
            rows = queries.usage_sums(
                conn,
                day - timedelta(days=60),
                day,
                filters={"department": "Engineering", "project": "QA"},
            )
    finally:
        store.close()
    cost = {r.usage_type: r.cost_nanos for r in rows}
    media = sum(
        c
        for t, c in cost.items()
        if t in ("images", "video_seconds", "audio_seconds", "speech_characters")
    )
    text = sum(c for t, c in cost.items() if t in TEXT_TOKEN_TYPES)
    assert {"images", "video_seconds", "audio_seconds"} <= set(cost)
    assert media > 0.6 * sum(cost.values()) > 0 and text < media


def test_finance_figures_over_budget_with_savings(demo: Demo) -> None:
    org = demo_settings(demo.store_path, demo.budgets).organisation
    store = _store(demo)
    try:
        with store.read() as conn:
            result = summary(
                conn,
                NOW.astimezone(store.zone).date(),
                fiscal_start_month=org.fiscal_year_start_month,
                annual_budget_usd=org.annual_budget_usd,
                monthly_budget_usd=org.monthly_budget_usd,
            )
    finally:
        store.close()
    assert org.fiscal_year_start_month == 12  # the fiscal year ends with the demo's month
    assert org.monthly_budget_usd == company.MONTHLY_ALLOCATION_USD * SCALE
    percent = result.mtd.percent
    assert percent is not None and Decimal(102) < percent < Decimal(115)
    assert result.savings_mtd_nanos > 0


def test_cli_no_serve(tmp_path: Path) -> None:
    path = tmp_path / "cli.db"
    result = CliRunner().invoke(
        app,
        [
            "demo",
            "--no-serve",
            "--days",
            "30",
            "--store",
            str(path),
            "--seed",
            "3",
            "--scale",
            "0.004",
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    data = orjson.loads(result.stdout)
    assert data["events"] > 0 and data["seed"] == 3
    assert data["admin"]["email"] == "demo@llmledger.local"
    assert data["key"]["key"].startswith("llk_")
    statuses = {b["scope"]: b["status"] for b in data["budgets"]}
    assert statuses["agent:Marketing/SEO/seo-agent"] == "blocked"
    assert Path(data["config"]).read_text(encoding="utf-8").count(str(path)) == 1
    listed = CliRunner().invoke(app, ["--config", data["config"], "budgets", "list", "--json"])
    assert listed.exit_code == 0, listed.output
    assert "blocked" in listed.stdout
