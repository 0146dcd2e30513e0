"""The in-memory budget counters of a store one process owns: a hold is granted in every
budget of the chain or in none, never past an enforced limit, from many threads at once;
a counter opens from the store (spent plus open holds)."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy import Connection

from llmledger.guardrails.book import BudgetBook
from llmledger.guardrails.budgets import set_budget
from llmledger.guardrails.counters import LocalCounters
from llmledger.ledger.reservations import Hold, open_period
from llmledger.ledger.store import Store
from llmledger.ledger.writer import LedgerWriter
from tests.conftest import ZONE

NOW = datetime.now(UTC)


def hold(budget_id: str, limit: int, enforced: bool = True) -> Hold:
    return Hold(budget_id, f"agent:D/P/{budget_id}", 1_000, limit, enforced)


async def opened(counters: LocalCounters, holds: list[Hold], state: tuple[int, int]) -> None:
    async def submit(fn: Callable[[Connection], list[tuple[int, int]]]) -> object:
        return [state for _ in holds]

    await counters.open(holds, submit)


async def test_all_or_nothing_and_never_past_a_limit() -> None:
    counters = LocalCounters()
    small, big, advisory = hold("b1", 100), hold("b2", 1_000), hold("b3", 10, enforced=False)
    chain = [small, big, advisory]
    assert counters.missing(chain) == chain
    await opened(counters, chain, (20, 0))
    assert counters.missing(chain) == []
    assert counters.hold("a", chain, 50) is None
    refusal = counters.hold("b", chain, 40)  # 20 + 50 + 40 > 100
    assert refusal is not None and refusal.hold is small
    assert (refusal.spent_nanos, refusal.reserved_nanos) == (20, 50)
    # Nothing was held for the refused call, in any budget (the advisory one included).
    assert counters.state("b2", 1_000) == (20, 50)
    assert counters.state("b3", 1_000) == (20, 50)
    assert counters.settle("a", 30)
    assert not counters.settle("a", 30)  # once
    assert [counters.state(b, 1_000) for b in ("b1", "b2", "b3")] == [(50, 0)] * 3
    assert counters.hold("c", chain, 50) is None  # exactly at the limit
    assert counters.hold("d", chain, 1) is not None


async def test_threads_at_once_never_overshoot() -> None:
    counters = LocalCounters()
    chain = [hold("b1", 1_000_000), hold("b2", 700_000)]
    await opened(counters, chain, (0, 0))
    granted: list[str] = []
    lock = threading.Lock()

    def worker(n: int) -> None:
        for i in range(200):
            call = f"{n}-{i}"
            if counters.hold(call, chain, 997) is None:
                with lock:
                    granted.append(call)
                counters.settle(call, 991)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    spent, reserved = counters.state("b2", 1_000) or (0, 0)
    assert reserved == 0 and counters.in_flight == 0
    assert spent == len(granted) * 991 <= 700_000
    assert spent + 997 > 700_000 - 991 * 8  # filled, not refused wholesale


async def test_a_counter_opens_from_the_store(sqlite_store: Store) -> None:
    with sqlite_store.write() as conn:
        set_budget(conn, scope="org", limit_usd=Decimal("1"))
    book = BudgetBook(sqlite_store, ZONE)
    book.load()
    holds = book.holds(["org"], NOW)
    with sqlite_store.write() as conn:
        open_period(conn, holds[0])
        conn.exec_driver_sql("UPDATE budget_periods SET spent_nanos = 400, reserved_nanos = 7")
    writer = LedgerWriter(sqlite_store)
    writer.start()
    try:
        counters = LocalCounters()
        await asyncio.gather(
            counters.open(holds, writer.submit), counters.open(holds, writer.submit)
        )
        assert counters.state(holds[0].budget_id, holds[0].period_start_us) == (400, 7)
    finally:
        writer.close()
