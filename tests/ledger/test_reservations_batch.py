"""The gateway's batched reserve and settle (`reserve_many`, `settle_many`, merged in one
writer transaction) book exactly what reserving and settling one by one books."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, func, select

from llmledger.guardrails.book import BudgetBook
from llmledger.guardrails.budgets import set_budget
from llmledger.ledger import reservations, rollups, schema
from llmledger.ledger.event import EventSource, EventStatus, UsageEvent
from llmledger.ledger.recording import usage_rows
from llmledger.ledger.store import Store
from llmledger.ledger.writer import LedgerWriter
from tests.conftest import ZONE
from tests.ledger.factory import random_events
from tests.ledger.test_rollups import snapshot

NOW = datetime.now(UTC)


def gateway_events(count: int) -> list[UsageEvent]:
    out = []
    for ev in random_events(7, count):
        out.append(
            replace(
                ev,
                ts=NOW,
                source=EventSource.GATEWAY,
                status=EventStatus.RESERVED,
                reserved_nanos=ev.cost_nanos + 1_000,
            )
        )
    return out


def test_batches_book_what_single_writes_book(store: Store) -> None:
    with store.write() as conn:
        set_budget(conn, scope="org", limit_usd=Decimal("100000"))
    book = BudgetBook(store, ZONE, 1)
    book.load()
    events = gateway_events(40)
    with_budget = {ev.id for ev in events[::2]}  # half held against the org budget
    requests = [(ev, book.holds(["org"], NOW) if ev.id in with_budget else []) for ev in events]
    with store.write() as conn:
        assert reservations.reserve_many(conn, requests) == [None] * len(events)
    with store.read() as conn:
        held = conn.execute(select(func.count()).select_from(schema.reservation_holds))
        assert held.scalar_one() == len(with_budget)
        period = conn.execute(select(schema.budget_periods.c.reserved_nanos)).scalar_one()
    assert period == sum(ev.reserved_nanos for ev in events if ev.id in with_budget)
    settled = [replace(ev, status=EventStatus.SETTLED, http_status=200) for ev in events]
    with store.write() as conn:
        # The first one alone (the single path), the rest at once, one of them twice.
        assert reservations.settle_many(conn, settled[:1], ZONE) == [True]
        assert reservations.settle_many(conn, settled[1:] + settled[1:2], ZONE) == (
            [True] * (len(events) - 1) + [False]
        )
    with store.read() as conn:
        rows = {r["id"]: r for r in conn.execute(select(schema.events)).mappings()}
        usage = sorted(
            tuple(sorted(r.items())) for r in conn.execute(select(schema.event_usage)).mappings()
        )
        spent, reserved = conn.execute(
            select(schema.budget_periods.c.spent_nanos, schema.budget_periods.c.reserved_nanos)
        ).one()
        assert (
            conn.execute(select(func.count()).select_from(schema.reservation_holds)).scalar_one()
            == 0
        )
    assert all(rows[ev.id]["status"] == "settled" for ev in events)
    assert all(rows[ev.id]["cost_nanos"] == ev.cost_nanos for ev in events)
    assert (spent, reserved) == (sum(ev.cost_nanos for ev in events if ev.id in with_budget), 0)
    expected = sorted(tuple(sorted(r.items())) for ev in settled for r in usage_rows(ev))
    assert usage == expected
    maintained = snapshot(store)
    with store.write() as conn:
        rollups.rebuild(conn, ZONE)
    assert snapshot(store) == maintained


async def test_writer_merges_items_and_retries_a_bad_one_alone(sqlite_store: Store) -> None:
    calls: list[list[int]] = []

    def write_many(conn: Connection, items: list[Any]) -> list[Any]:
        calls.append(list(items))
        if -1 in items:
            raise ValueError("bad item")
        return [i * 10 for i in items]

    writer = LedgerWriter(sqlite_store)
    writer.start()
    try:
        results = await asyncio.gather(
            *(writer.submit_many(write_many, i) for i in (1, 2, -1, 3)),
            return_exceptions=True,
        )
    finally:
        writer.close()
    assert results[:2] == [10, 20] and results[3] == 30
    assert isinstance(results[2], Exception)
    assert [1, 2, -1, 3] in calls or any(len(c) > 1 for c in calls)
    assert [-1] in calls  # retried alone


def _whole_store(store: Store) -> dict[str, list[tuple[object, ...]]]:
    out = snapshot(store)
    with store.read() as conn:
        for table in (
            schema.events,
            schema.event_usage,
            schema.budget_periods,
            schema.reservation_holds,
        ):
            cols = list(table.columns)
            out[table.name] = [tuple(r) for r in conn.execute(select(*cols).order_by(*cols))]
    return out


def _call_writes(store: Store) -> list[list[reservations.CallWrite]]:
    """Reservations (half under the org budget) and their settlements, as the gateway
    queues them; returned as [reservations, settlements, one late settlement twice]."""
    with store.write() as conn:
        set_budget(conn, scope="org", limit_usd=Decimal("100000"))
    book = BudgetBook(store, ZONE, 1)
    book.load()
    holds = book.holds(["org"], NOW)
    with store.write() as conn:
        for hold in holds:
            reservations.open_period(conn, hold)
    events = gateway_events(30)
    held = [
        reservations.CallWrite(reservations.HELD, ev, tuple(holds) if i % 2 else ())
        for i, ev in enumerate(events)
    ]
    done = [
        reservations.CallWrite(
            reservations.SETTLED,
            replace(ev, status=EventStatus.SETTLED if i % 5 else EventStatus.FAILED),
        )
        for i, ev in enumerate(events)
    ]
    return [held, done[:-1], done[-1:] * 2]


def test_a_call_reserved_and_settled_in_one_group_is_written_once_alike(store: Store) -> None:
    """The coalesced write (reservation and settlement in one writer batch) leaves the
    same rows as the reservation and the settlement written in turn."""
    apart = _call_writes(store)
    with store.write() as conn:
        assert reservations.write_calls(conn, apart[0], ZONE) == [True] * 30
        assert reservations.write_calls(conn, apart[1], ZONE) == [True] * 29
        assert reservations.write_calls(conn, apart[2], ZONE) == [True, False]
    expected = _whole_store(store)
    with store.write() as conn:
        for table in (schema.events, schema.event_usage, schema.reservation_holds):
            conn.execute(table.delete())
        for table in rollups.ROLLUP_TABLES:
            conn.execute(table.delete())
        conn.execute(schema.budget_periods.update().values(spent_nanos=0, reserved_nanos=0))
    together = _call_writes(store)
    with store.write() as conn:
        # Interleaved as the writer's queue has them: each settlement after its
        # reservation, the last one's settlement in the next group, listed twice.
        group = [w for pair in zip(together[0], together[1], strict=False) for w in pair]
        group.append(together[0][-1])
        assert reservations.write_calls(conn, group, ZONE) == [True] * 59
        assert reservations.write_calls(conn, together[2], ZONE) == [True, False]
    assert _whole_store(store) == expected
    with store.read() as conn:  # and what both wrote is the settled calls, not nothing
        statuses = conn.execute(
            select(schema.events.c.status, func.count()).group_by(schema.events.c.status)
        ).all()
        spent, reserved = conn.execute(
            select(schema.budget_periods.c.spent_nanos, schema.budget_periods.c.reserved_nanos)
        ).one()
    assert sorted(statuses) == [("failed", 6), ("settled", 24)]
    odd = [w.event for w in together[0] if w.holds]
    assert (spent, reserved) == (sum(ev.cost_nanos for ev in odd), 0)
