"""Monthly event partitions on PostgreSQL and raw-event retention on both backends."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select, text
from typer.testing import CliRunner

from llmledger.cli.main import app
from llmledger.ledger import audit, migrate, partitions, reservations, retention, rollups, schema
from llmledger.ledger.event import EventSource, EventStatus, LineCost, UsageEvent
from llmledger.ledger.partitions import add_months, month_of, month_start_us, partition_name
from llmledger.ledger.recording import record_events
from llmledger.ledger.store import Store
from llmledger.usage import Usage, UsageType
from tests.ledger.factory import random_events
from tests.ledger.test_rollups import snapshot


def where_rows_live(store: Store) -> dict[str, int]:
    with store.read() as conn:
        rows = conn.execute(
            text("SELECT tableoid::regclass::text, count(*) FROM events GROUP BY 1")
        ).all()
    return {str(name): int(n) for name, n in rows}


def all_events(store: Store) -> list[tuple[object, ...]]:
    e = schema.events
    with store.read() as conn:
        return [tuple(r) for r in conn.execute(select(e).order_by(e.c.id))]


@pytest.mark.postgres
def test_partitions_for_the_coming_months_and_a_default(postgres_store: Store) -> None:
    now = datetime.now(UTC)
    this_month = month_of(now)
    with postgres_store.read() as conn:
        assert partitions.is_partitioned(conn)
        names = [p.name for p in partitions.partitions(conn)]
        pk = conn.execute(
            text(
                "SELECT pg_get_constraintdef(oid) FROM pg_constraint "
                "WHERE conrelid = 'events'::regclass AND contype = 'p'"
            )
        ).scalar_one()
    assert names == [partition_name(add_months(this_month, n)) for n in range(4)] + [
        partitions.DEFAULT
    ]
    assert pk == "PRIMARY KEY (id, ts_us)"
    with postgres_store.write() as conn:
        created = partitions.ensure(conn, now, ahead=6)
    assert created == [partition_name(add_months(this_month, n)) for n in (4, 5, 6)]
    with postgres_store.write() as conn:
        assert partitions.ensure(conn, now, ahead=6) == []  # idempotent
    with postgres_store.read() as conn:
        bounds = {p.name: (p.lo_us, p.hi_us) for p in partitions.partitions(conn)}
    assert bounds[partition_name(this_month)] == (
        month_start_us(this_month),
        month_start_us(add_months(this_month, 1)),
    )


def test_sqlite_keeps_one_plain_table(sqlite_store: Store) -> None:
    with sqlite_store.write() as conn:
        assert not partitions.is_partitioned(conn)
        assert partitions.ensure(conn, datetime.now(UTC)) == []


@pytest.mark.postgres
def test_past_and_future_events_land_in_the_default_then_in_their_month(
    postgres_store: Store,
) -> None:
    past = random_events(seed=5, count=400, start=datetime(2019, 1, 1, tzinfo=UTC))
    future = random_events(seed=6, count=50, start=datetime(2031, 1, 1, tzinfo=UTC))
    with postgres_store.write() as conn:
        assert len(record_events(conn, past + future, postgres_store.zone)) == 450
    assert where_rows_live(postgres_store) == {partitions.DEFAULT: 450}
    rows, sums = all_events(postgres_store), snapshot(postgres_store)

    with postgres_store.write() as conn:
        created = partitions.ensure(conn, datetime.now(UTC))
    months = {month_of(ev.ts) for ev in past + future}
    assert {partition_name(m) for m in months} <= set(created)
    live = where_rows_live(postgres_store)
    assert partitions.DEFAULT not in live  # emptied: every month has its own partition
    assert sum(live.values()) == 450
    assert all_events(postgres_store) == rows
    assert snapshot(postgres_store) == sums


def reserved_event(event_id: str, at: datetime) -> UsageEvent:
    return UsageEvent(
        id=event_id,
        ts=at,
        provider="openai",
        model_requested="gpt-4o",
        model_used="gpt-4o",
        source=EventSource.GATEWAY,
        status=EventStatus.RESERVED,
        department="Engineering",
        project="alpha",
        agent="bot",
        reserved_nanos=9_000_000,
    )


def settle_as(ev: UsageEvent, cost: int) -> UsageEvent:
    ev.status = EventStatus.SETTLED
    ev.usage = Usage({UsageType.OUTPUT_TOKENS: Decimal(100)})
    ev.costs = {UsageType.OUTPUT_TOKENS: LineCost(cost, cost)}
    ev.http_status = 200
    return ev


@pytest.mark.postgres
def test_settle_finds_events_in_every_partition(postgres_store: Store) -> None:
    now = datetime.now(UTC)
    moments = [
        now - timedelta(days=800),  # no partition: the default
        now,
        add_months_dt(now, 1),
        add_months_dt(now, 3),
        now - timedelta(days=400),
    ]
    events = [reserved_event(f"call-{i}", at) for i, at in enumerate(moments)]
    zone = postgres_store.zone
    with postgres_store.write() as conn:
        reservations.reserve_many(conn, [(ev, ()) for ev in events])
    with postgres_store.write() as conn:
        assert reservations.settle(conn, settle_as(events[0], 1_000), zone)
        assert reservations.settle_many(
            conn, [settle_as(ev, 1_000 * (i + 2)) for i, ev in enumerate(events[1:4])], zone
        ) == [True, True, True]
    with postgres_store.write() as conn:  # never twice
        assert not reservations.settle(conn, events[0], zone)
        assert reservations.settle_many(conn, events[:3], zone) == [False, False, False]
        # The last one is left open, as by a dead replica: the lease finds it.
        assert reservations.settle_abandoned(conn, zone, older_than_us=10**17) == 1
        assert reservations.settle_abandoned(conn, zone, older_than_us=10**17) == 0
    e, u = schema.events, schema.event_usage
    with postgres_store.read() as conn:
        status = dict(conn.execute(select(e.c.id, e.c.status)).all())
        lines = conn.execute(select(func.count()).select_from(u)).scalar_one()
        booked = conn.execute(select(func.sum(schema.calls_hourly.c.cost_nanos))).scalar_one()
    assert status == {
        "call-0": "settled",
        "call-1": "settled",
        "call-2": "settled",
        "call-3": "settled",
        "call-4": "unsettled",
    }
    assert lines == 5
    assert booked == 1_000 + 2_000 + 3_000 + 4_000 + 9_000_000


def add_months_dt(moment: datetime, n: int) -> datetime:
    month = add_months(month_of(moment), n)
    return datetime(month.year, month.month, 15, tzinfo=UTC)


@pytest.mark.postgres
def test_import_deduplicates_by_id_across_partitions(postgres_store: Store) -> None:
    now = datetime.now(UTC)
    events = random_events(seed=8, count=600, start=now - timedelta(days=200))
    with postgres_store.write() as conn:
        assert len(record_events(conn, events, postgres_store.zone)) == 600
    sums = snapshot(postgres_store)
    with postgres_store.write() as conn:
        partitions.ensure(conn, now)  # months in the default move out: still found
        assert record_events(conn, events, postgres_store.zone) == set()
        # The same id at another time is the same record: not counted again.
        moved = random_events(seed=8, count=1, start=now - timedelta(days=30))[0]
        assert moved.ts != events[0].ts
        assert record_events(conn, [moved], postgres_store.zone) == set()
    assert len(all_events(postgres_store)) == 600
    assert snapshot(postgres_store) == sums


@pytest.mark.postgres
def test_migration_converts_an_existing_events_table(postgres_url: str) -> None:
    store = Store.open(postgres_url, ZoneInfo("America/New_York"))
    try:
        migrate.upgrade(store, "0008")
        events = random_events(seed=4, count=800, start=datetime(2025, 3, 1, tzinfo=UTC))
        with store.write() as conn:
            assert not partitions.is_partitioned(conn)
            record_events(conn, events, store.zone)
        rows, sums = all_events(store), snapshot(store)
        store.upgrade()
        with store.read() as conn:
            assert partitions.is_partitioned(conn)
            names = {p.name for p in partitions.partitions(conn)}
        assert {partition_name(month_of(ev.ts)) for ev in events} <= names
        assert partitions.DEFAULT not in where_rows_live(store)
        assert all_events(store) == rows
        assert snapshot(store) == sums
    finally:
        store.close()


def cli_json(runner: CliRunner, *args: str) -> dict[str, object]:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, (result.stdout, result.stderr)
    out: dict[str, object] = json.loads(result.stdout)
    return out


@pytest.fixture
def runner(store: Store, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("LLMLEDGER_STORE__URL", store.url)
    monkeypatch.setenv("LLMLEDGER_ORGANISATION__TIMEZONE", "America/New_York")
    monkeypatch.setenv("LLMLEDGER_ORGANISATION__ANNUAL_BUDGET_USD", "1000")
    monkeypatch.setenv("LLMLEDGER_ORGANISATION__MONTHLY_BUDGET_USD", "100")
    monkeypatch.delenv("LLMLEDGER_CONFIG", raising=False)
    return CliRunner()


def test_retention_drops_old_raw_events_and_keeps_every_figure(
    store: Store, runner: CliRunner
) -> None:
    now = datetime.now(UTC)
    events = random_events(seed=9, count=3_000, start=now - timedelta(days=330))
    with store.write() as conn:
        record_events(conn, events, store.zone)
        partitions.ensure(conn, now, ahead=3)  # PostgreSQL: each month its partition
    cut = month_start_us(add_months(month_of(now), -3))
    kept = [ev for ev in events if ev.ts_us >= cut]
    assert 0 < len(kept) < len(events)
    sums = snapshot(store)
    today = now.astimezone(store.zone).date().isoformat()
    figures = cli_json(runner, "report", "summary", "--as-of", today, "--json")
    last_year = cli_json(runner, "report", "summary", "--as-of", "2026-01-31", "--json")

    dry = cli_json(runner, "db", "retention", "--keep-months", "3", "--dry-run", "--json")
    assert dry["dry_run"] and dry["events_deleted"] == len(events) - len(kept)
    assert len(all_events(store)) == len(events)  # a dry run changes nothing

    done = cli_json(runner, "db", "retention", "--keep-months", "3", "--json")
    assert done["cut_us"] == cut and done["changed"]
    assert done["events_deleted"] == len(events) - len(kept)

    e, u = schema.events, schema.event_usage
    with store.read() as conn:
        assert conn.execute(select(func.min(e.c.ts_us))).scalar_one() >= cut
        assert sorted(conn.execute(select(e.c.id)).scalars()) == sorted(ev.id for ev in kept)
        orphans = conn.execute(
            select(func.count()).select_from(u).where(u.c.event_id.not_in(select(e.c.id)))
        ).scalar_one()
        assert orphans == 0
        assert retention.horizon_us(conn) == cut
        logged = [a for a in audit.entries(conn) if a["action"] == retention.ACTION]
        if store.dialect == "postgresql":
            left = [p for p in partitions.partitions(conn) if p.hi_us is not None]
            assert min(p.lo_us or 0 for p in left) == cut
    assert len(logged) == 1 and logged[0]["actor"] == "cli"
    if store.dialect == "postgresql":
        dropped = done["partitions_dropped"]
        assert isinstance(dropped, list) and len(dropped) >= 8
    assert snapshot(store) == sums  # every rollup kept
    assert cli_json(runner, "report", "summary", "--as-of", today, "--json") == figures
    assert cli_json(runner, "report", "summary", "--as-of", "2026-01-31", "--json") == last_year

    with store.write() as conn:
        # Re-importing the old records adds nothing: their months are closed.
        assert record_events(conn, events, store.zone) == set()
        # A rebuild recomputes only what follows the horizon, and equals the rollups.
        rollups.rebuild(conn, store.zone)
    assert snapshot(store) == sums
    again = cli_json(runner, "db", "retention", "--keep-months", "5", "--json")
    assert not again["changed"]  # the cut never moves back
