"""Invariant 5: rollups equal their events, to the nano-dollar, on SQLite and PostgreSQL."""

from __future__ import annotations

import random

from sqlalchemy import func, select

from llmledger.ledger import rollups, schema
from llmledger.ledger.recording import record_events
from llmledger.ledger.store import Store
from tests.ledger.factory import random_events


def snapshot(store: Store) -> dict[str, list[tuple[object, ...]]]:
    out = {}
    with store.read() as conn:
        for table in rollups.ROLLUP_TABLES:
            cols = list(table.columns)
            out[table.name] = [tuple(r) for r in conn.execute(select(*cols).order_by(*cols))]
    return out


def test_rebuild_equals_maintained_rollups(store: Store) -> None:
    events = random_events(seed=7, count=3_000)
    rng = random.Random(1)
    pending = list(events) + rng.sample(events, 300)  # duplicates are ignored
    rng.shuffle(pending)
    while pending:
        size = rng.randint(1, 700)
        batch, pending = pending[:size], pending[size:]
        with store.write() as conn:
            record_events(conn, batch, store.zone)
    maintained = snapshot(store)
    assert maintained["rollup_calls_daily"], "rollups were not maintained"
    assert maintained["rollup_calls_monthly"], "monthly rollups were not maintained"
    with store.write() as conn:
        rollups.rebuild(conn, store.zone)
    assert snapshot(store) == maintained


def test_rollup_totals_equal_event_totals(store: Store) -> None:
    events = random_events(seed=11, count=1_000)
    with store.write() as conn:
        record_events(conn, events, store.zone)
    counted = [e for e in events if e.status.value in rollups.COUNTED_STATUSES]
    expected = sum(e.cost_nanos for e in counted)
    with store.read() as conn:
        for table in (schema.calls_daily, schema.calls_hourly):
            total, calls = conn.execute(
                select(func.sum(table.c.cost_nanos), func.sum(table.c.calls))
            ).one()
            assert int(total) == expected
            assert int(calls) == len(counted)
        usage_total = conn.execute(select(func.sum(schema.usage_daily.c.cost_nanos))).scalar()
    assert int(usage_total) == expected


def test_reimport_adds_nothing(store: Store) -> None:
    events = random_events(seed=3, count=200)
    with store.write() as conn:
        first = record_events(conn, events, store.zone)
    before = snapshot(store)
    with store.write() as conn:
        second = record_events(conn, events, store.zone)
    assert len(first) == 200
    assert second == set()
    assert snapshot(store) == before


def test_daily_bucket_is_the_local_date(sqlite_store: Store) -> None:
    # 03:00 UTC on 1 Nov is still 31 Oct in New York.
    from datetime import UTC, datetime

    [event] = random_events(seed=5, count=1, start=datetime(2026, 11, 1, 3, tzinfo=UTC))
    event.ts = datetime(2026, 11, 1, 3, tzinfo=UTC)
    event.status = event.status.__class__("settled")
    with sqlite_store.write() as conn:
        record_events(conn, [event], sqlite_store.zone)
    with sqlite_store.read() as conn:
        days = conn.execute(select(schema.calls_daily.c.day)).scalars().all()
    assert days == ["2026-10-31"]
