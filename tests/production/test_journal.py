"""The fail_open journal (store.unreachable = "fail_open"): calls served while the store
is unreachable are kept in a local, fsynced journal and replayed into the store, exactly
once, when it returns. Unit tests on SQLite behind a store that can be switched off; an
end-to-end test stops the real PostgreSQL under a real gateway process."""

from __future__ import annotations

import asyncio
import json
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, cast

import aiohttp
import pytest
from sqlalchemy import Connection, func, select
from sqlalchemy import exc as sa_exc

from llmledger.guardrails.book import BudgetBook
from llmledger.guardrails.budgets import set_budget
from llmledger.ledger import reservations, schema
from llmledger.ledger.event import EventFlag, EventSource, LineCost, UsageEvent, to_us
from llmledger.ledger.journal import (
    Journal,
    Journaled,
    event_from_json,
    reservation_record,
    settlement_record,
)
from llmledger.ledger.reservations import Hold
from llmledger.ledger.store import Store
from llmledger.ledger.writer import LedgerWriter, WriteFailed
from llmledger.usage import Usage, UsageType
from tests.production.cluster import (
    CALL_COST_NANOS,
    Outcome,
    call,
    cluster,
    new_key,
    open_store,
    read_ledger,
)
from tests.production.test_faults import _pg, _pg_up, pg_restartable  # noqa: F401

RESERVED_NANOS = 25_000_000


def reserved_event(event_id: str, ts: datetime | None = None) -> UsageEvent:
    return UsageEvent(
        id=event_id,
        ts=ts or datetime.now(UTC),
        provider="openai",
        model_requested="gpt-4o",
        source=EventSource.GATEWAY,
        department="Marketing",
        project="SEO",
        agent="seo-agent",
        key_id="k1",
        operation="chat",
        reserved_nanos=RESERVED_NANOS,
    )


def settled_event(ev: UsageEvent, cost: int = 10_000_000) -> UsageEvent:
    ev.usage = Usage.of(input_tokens=1000, output_tokens=750)
    ev.costs = {
        UsageType.INPUT_TOKENS: LineCost(cost // 4, cost // 4),
        UsageType.OUTPUT_TOKENS: LineCost(cost - cost // 4, cost - cost // 4),
    }
    ev.http_status = 200
    ev.latency_ms = 12
    return ev


class SwitchableStore:
    """A real store that can be made unreachable (as a dead PostgreSQL would be)."""

    def __init__(self, store: Store) -> None:
        self.real = store
        self.zone = store.zone
        self.dialect = store.dialect
        self.down = False

    def _check(self) -> None:
        if self.down:
            raise sa_exc.TimeoutError("the test switched the store off")

    @contextmanager
    def write(self) -> Iterator[Connection]:
        self._check()
        with self.real.write() as conn:
            yield conn

    @contextmanager
    def read(self) -> Iterator[Connection]:
        self._check()
        with self.real.read() as conn:
            yield conn

    def ping(self) -> float:
        self._check()
        return self.real.ping()


def events(store: Store) -> dict[str, dict[str, Any]]:
    with store.read() as conn:
        return {r["id"]: dict(r) for r in conn.execute(select(schema.events)).mappings()}


def rollup_totals(store: Store) -> tuple[int, int]:
    d = schema.calls_daily
    with store.read() as conn:
        calls, cost = conn.execute(
            select(
                func.coalesce(func.sum(d.c.calls), 0), func.coalesce(func.sum(d.c.cost_nanos), 0)
            )
        ).one()
    return int(calls), int(cost)


def test_append_is_one_fsynced_line_per_record(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    journal = Journal(tmp_path / "j.jsonl")
    first = reserved_event("a")
    journal.append([reservation_record(first, [])])
    synced: list[int] = []
    real_fsync = os.fsync

    def counting(fd: int) -> None:
        synced.append(fd)
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", counting)
    group = [reservation_record(reserved_event("b"), []), settlement_record(settled_event(first))]
    journal.append(group)
    assert len(synced) == 1  # one fsync for the whole group
    lines = (tmp_path / "j.jsonl").read_bytes().split(b"\n")
    assert lines[-1] == b""
    records = [json.loads(line) for line in lines[:-1]]
    assert [(r["kind"], r["id"]) for r in records] == [
        ("reserved", "a"),
        ("reserved", "b"),
        ("settled", "a"),
    ]
    assert journal.records == 3 and journal.dirty
    assert journal.is_open("b") and not journal.is_open("a")
    journal.close()


def test_a_torn_last_line_is_ignored_and_cut_before_the_next_append(tmp_path: Path) -> None:
    path = tmp_path / "j.jsonl"
    journal = Journal(path)
    journal.append([reservation_record(reserved_event("a"), [])])
    journal.close()
    with path.open("ab") as f:  # a crash in the middle of a write
        f.write(b'{"kind":"reserved","id":"b","eve')
    again = Journal(path)
    assert [r["id"] for r in again.read()] == ["a"]
    again.append([reservation_record(reserved_event("c"), [])])
    assert [r["id"] for r in again.read()] == ["a", "c"]
    assert all(json.loads(line) for line in path.read_bytes().splitlines())
    again.close()


def test_replay_books_once_even_when_replayed_again(sqlite_store: Store, tmp_path: Path) -> None:
    with sqlite_store.write() as conn:
        set_budget(conn, scope="agent:Marketing/SEO/seo-agent", limit_usd="100")
    now = datetime.now(UTC)
    served, abandoned = reserved_event("served", now), reserved_event("abandoned", now)
    # The budget's counter is open (an earlier call), so replay must add to its spend.
    opener = reserved_event("opener", now)
    book = BudgetBook(sqlite_store, sqlite_store.zone)
    book.load()
    holds: list[Hold] = book.holds(["agent:Marketing/SEO/seo-agent"], now)
    with sqlite_store.write() as conn:
        assert reservations.reserve(conn, opener, holds) is None
        assert reservations.settle(conn, settled_event(opener), sqlite_store.zone)
    path = tmp_path / "j.jsonl"
    journal = Journal(path)
    records = [
        reservation_record(served, holds),
        reservation_record(abandoned, holds),
        settlement_record(settled_event(served, 12_000_000)),
    ]
    journal.append(records)
    journal.close()
    # A new life of the replica: nothing of the journal is in flight.
    replayed = Journal(path).replay(sqlite_store)
    assert (replayed.booked, replayed.duplicates, replayed.kept) == (2, 0, 0)
    assert path.read_bytes() == b""
    rows = events(sqlite_store)
    assert rows["served"]["status"] == "settled" and rows["served"]["cost_nanos"] == 12_000_000
    assert rows["abandoned"]["status"] == "unsettled"
    assert rows["abandoned"]["cost_nanos"] == RESERVED_NANOS
    assert rows["abandoned"]["flags"] & EventFlag.UNSETTLED
    total = 10_000_000 + 12_000_000 + RESERVED_NANOS
    assert rollup_totals(sqlite_store) == (3, total)
    spent = _period_spent(sqlite_store)
    assert spent == [total]

    # A crash after the commit, before the rename: the same journal is replayed again.
    path.write_bytes(b"".join(json.dumps(r).encode() + b"\n" for r in records))
    again = Journal(path).replay(sqlite_store)
    assert (again.booked, again.duplicates) == (0, 2)
    assert len(events(sqlite_store)) == 3
    assert rollup_totals(sqlite_store) == (3, total)
    assert _period_spent(sqlite_store) == [total]


def _period_spent(store: Store) -> list[int]:
    with store.read() as conn:
        return [int(s) for s in conn.execute(select(schema.budget_periods.c.spent_nanos)).scalars()]


async def _until(check: Callable[[], bool], timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.05)


async def test_writer_journals_while_unreachable_and_replays_on_return(
    sqlite_store: Store, tmp_path: Path
) -> None:
    switch = SwitchableStore(sqlite_store)
    journal = Journal(tmp_path / "j.jsonl", in_flight_s=600)
    writer = LedgerWriter(cast(Store, switch), journal=journal, probe_s=0.05)
    writer.start()
    try:
        switch.down = True
        first, second = reserved_event("first"), reserved_event("second")
        got = await writer.submit_many(
            reservations.reserve_many, (first, []), journal=reservation_record(first, [])
        )
        assert isinstance(got, Journaled)
        assert writer.unreachable and writer.is_journaled("first")
        # Known unreachable: the next reservation goes to the journal without a store try.
        got = await writer.submit_many(
            reservations.reserve_many, (second, []), journal=reservation_record(second, [])
        )
        assert isinstance(got, Journaled)
        writer.journal_nowait(settlement_record(settled_event(first)))
        await _until(lambda: not writer.is_journaled("first"))
        assert [r["kind"] for r in journal.read()] == ["reserved", "reserved", "settled"]
        switch.down = False  # the store returns: the probe replays the journal
        await _until(lambda: "first" in events(sqlite_store))
        await _until(lambda: journal.records == 1)
        assert not writer.unreachable
        # `second` is still in flight: kept in the journal, settled there, then replayed.
        assert "second" not in events(sqlite_store) and writer.is_journaled("second")
        writer.journal_nowait(settlement_record(settled_event(second, 7_000_000)))
        await _until(lambda: "second" in events(sqlite_store))
        await _until(lambda: journal.records == 0)
        rows = events(sqlite_store)
        assert {i: r["status"] for i, r in rows.items()} == {
            "first": "settled",
            "second": "settled",
        }
        assert rollup_totals(sqlite_store) == (2, 17_000_000)
        # The store is up: a reservation goes to the store, as without a journal.
        third = reserved_event("third")
        got = await writer.submit_many(
            reservations.reserve_many, (third, []), journal=reservation_record(third, [])
        )
        assert got is None and events(sqlite_store)["third"]["status"] == "reserved"
    finally:
        writer.close()
    assert writer.journaled == 2


async def test_fail_closed_without_a_journal(sqlite_store: Store) -> None:
    switch = SwitchableStore(sqlite_store)
    writer = LedgerWriter(cast(Store, switch))
    writer.start()
    try:
        switch.down = True
        ev = reserved_event("x")
        with pytest.raises(WriteFailed) as failed:
            await writer.submit_many(
                reservations.reserve_many, (ev, []), journal=reservation_record(ev, [])
            )
        assert failed.value.unreachable
    finally:
        writer.close()


# End to end: a real gateway process, the real PostgreSQL stopped and started again.


@pytest.mark.postgres
@pytest.mark.slow
async def test_postgresql_down_calls_served_and_booked_once(
    postgres_url: str,
    tmp_path: Path,
    pg_restartable: None,  # noqa: F811
) -> None:
    store = open_store(postgres_url)
    journal_path = tmp_path / "journal.jsonl"
    try:
        store.upgrade()
        key = new_key(store)
        with store.write() as conn:
            set_budget(conn, scope="agent:Marketing/SEO/seo-agent", limit_usd="1000")
        with cluster(
            postgres_url,
            1,
            tmp_path,
            delay_s=0.05,
            STORE__UNREACHABLE="fail_open",
            STORE__JOURNAL_PATH=str(journal_path),
            STORE__JOURNAL_PROBE_S="0.5",
            STORE__CONNECT_TIMEOUT_S="1",
        ) as running:
            url = running.replicas[0].url
            async with aiohttp.ClientSession() as session:
                before = await call(session, url, key)  # opens the budget's counter
                assert before.status == 200, running.log_text()
                store.close()
                await asyncio.to_thread(_pg, "stop")
                outcomes: list[Outcome] = []
                try:
                    for _ in range(4):
                        outcomes += await asyncio.gather(
                            *(call(session, url, key) for _ in range(5))
                        )
                    journaled = [
                        json.loads(line)["kind"] for line in journal_path.read_bytes().splitlines()
                    ]
                finally:
                    await asyncio.to_thread(_pg, "start")
            assert [o.status for o in outcomes] == [200] * 20, running.log_text()
            assert journaled.count("reserved") == 20  # fsynced before each call went out
            served = {o.request_id for o in outcomes} | {before.request_id}
            await asyncio.to_thread(_wait_booked, store, served)
            await _until(lambda: journal_path.read_bytes() == b"", timeout=30)
            ledger = await asyncio.to_thread(read_ledger, store)
    finally:
        store.close()
    assert set(ledger.by_id) == served  # each served call once, nothing else
    assert ledger.ids("settled") == served
    assert all(r["cost_nanos"] == CALL_COST_NANOS for r in ledger.by_id.values())
    total = len(served) * CALL_COST_NANOS
    assert (ledger.rollup_calls, ledger.rollup_cost) == (len(served), total)
    assert ledger.periods == [(total, 0)]  # the budget's counter got the journaled spend


def _wait_booked(store: Store, ids: set[str | None], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    found: set[str | None] = set()
    while True:
        try:
            with store.read() as conn:
                found = set(
                    conn.execute(
                        select(schema.events.c.id).where(schema.events.c.status == "settled")
                    ).scalars()
                )
            if ids <= found:
                return
        except sa_exc.OperationalError:
            pass  # PostgreSQL is still starting
        assert time.monotonic() < deadline, f"{len(ids - found)} calls not booked"
        time.sleep(0.2)


def test_usage_quantities_survive_the_journal_exactly(tmp_path: Path) -> None:
    ev = reserved_event("exact", datetime(2026, 3, 1, 12, 0, 0, 123456, tzinfo=UTC))
    ev.usage = Usage({UsageType.AUDIO_SECONDS: Decimal("12.345"), UsageType.IMAGES: Decimal(3)})
    ev.costs = {UsageType.IMAGES: LineCost(123_456_789, 200_000_000)}
    journal = Journal(tmp_path / "j.jsonl")
    journal.append([settlement_record(ev)])
    journal.close()
    back = event_from_json(journal.read()[0]["event"])
    assert back == ev and to_us(back.ts) == to_us(ev.ts)


def test_a_reservation_that_landed_anyway_is_settled_by_the_replay(
    sqlite_store: Store, tmp_path: Path
) -> None:
    # The reservation's COMMIT reached the store but its answer was lost: the writer
    # journaled the call too (the same event: same id, same time). The replay settles
    # the store's open row, once.
    at = datetime.now(UTC)
    ev = reserved_event("landed", at)
    with sqlite_store.write() as conn:
        assert reservations.reserve(conn, reserved_event("landed", at), []) is None
    journal = Journal(tmp_path / "j.jsonl")
    journal.append([reservation_record(ev, []), settlement_record(settled_event(ev))])
    journal.close()
    done = Journal(tmp_path / "j.jsonl").replay(sqlite_store)
    assert (done.booked, done.duplicates) == (0, 1)
    row = events(sqlite_store)["landed"]
    assert row["status"] == "settled" and row["cost_nanos"] == 10_000_000
    assert rollup_totals(sqlite_store) == (1, 10_000_000)
