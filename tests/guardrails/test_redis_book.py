"""Budget holds in the real Redis of this machine: one script holds a whole chain or
nothing, counters are named by period and rebuilt from the store when missing, a
settlement moves the hold into spent, and an unreachable Redis hands the decision to
the store at once."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

import pytest
import redis

from llmledger.guardrails.book import BudgetBook
from llmledger.guardrails.budgets import set_budget
from llmledger.guardrails.redis_book import RedisBudgets, RedisDown, counter_key
from llmledger.ledger.reservations import Hold, open_period
from llmledger.ledger.store import Store
from llmledger.ledger.writer import LedgerWriter
from llmledger.ops.redis_pool import connect
from tests.conftest import ZONE
from tests.production.cluster import free_port
from tests.services import redis_url

NOW = datetime.now(UTC)
CENT = 10_000_000


@dataclass
class Setup:
    budgets: RedisBudgets
    holds: list[Hold]
    store: Store
    url: str

    def counter(self, hold: Hold) -> tuple[int, int] | None:
        client = redis.Redis.from_url(self.url)
        try:
            raw = client.hgetall(counter_key(hold.budget_id, hold.period_start_us))
            return (int(raw[b"s"]), int(raw[b"r"])) if raw else None
        finally:
            client.close()


@pytest.fixture
async def setup(sqlite_store: Store) -> AsyncIterator[Setup]:
    url = redis_url()
    with sqlite_store.write() as conn:  # fresh random budget ids: nothing shared in Redis
        set_budget(conn, scope="department:Marketing", limit_usd=Decimal("0.10"))
        set_budget(conn, scope="org", limit_usd=Decimal("1.00"))
    book = BudgetBook(sqlite_store, ZONE)
    book.load()
    holds = book.holds(["org", "department:Marketing"], NOW)
    writer = LedgerWriter(sqlite_store)
    writer.start()
    budgets = RedisBudgets(connect(url, 1.0), writer.submit, lambda: book.all_holds(NOW))
    yield Setup(budgets, holds, sqlite_store, url)
    client = redis.Redis.from_url(url)
    client.delete(*(counter_key(h.budget_id, h.period_start_us) for h in holds))
    client.close()
    await budgets.close()
    writer.close()


async def settled_in_redis(setup: Setup) -> None:
    for _ in range(100):  # settlements reach Redis in the background
        if not setup.budgets._settles and (
            setup.budgets._flusher is None or setup.budgets._flusher.done()
        ):
            return
        await asyncio.sleep(0.01)


async def test_a_chain_held_in_one_script(setup: Setup) -> None:
    org, dept = setup.holds
    assert (org.scope, dept.scope) == ("org", "department:Marketing")
    # The store's counters: $0.03 spent and $0.02 held there already.
    with setup.store.write() as conn:
        open_period(conn, dept)
        conn.exec_driver_sql(
            "UPDATE budget_periods SET spent_nanos = ?, reserved_nanos = ? WHERE budget_id = ?",
            (3 * CENT, 2 * CENT, dept.budget_id),
        )
    assert await setup.budgets.hold("a", setup.holds, 2 * CENT) is None
    # Missing counters were rebuilt from the store (spent plus open holds), then held.
    assert setup.counter(dept) == (3 * CENT, 4 * CENT)
    assert setup.counter(org) == (0, 2 * CENT)
    assert await setup.budgets.hold("b", setup.holds, 3 * CENT) is None  # $0.10 exactly
    refusal = await setup.budgets.hold("c", setup.holds, 1)
    assert refusal is not None and refusal.hold.budget_id == dept.budget_id
    assert (refusal.spent_nanos, refusal.reserved_nanos) == (3 * CENT, 7 * CENT)
    assert setup.counter(org) == (0, 5 * CENT)  # nothing held for the refused call
    setup.budgets.settle("a", CENT)
    setup.budgets.release("b")
    await settled_in_redis(setup)
    assert setup.counter(dept) == (4 * CENT, 2 * CENT)
    assert setup.counter(org) == (CENT, 0)
    assert setup.budgets.refused == 1 and setup.budgets.fallbacks == 0


async def test_counters_are_named_by_period_and_expire(setup: Setup) -> None:
    assert await setup.budgets.hold("a", setup.holds, CENT) is None
    client = redis.Redis.from_url(setup.url)
    try:
        for h in setup.holds:
            key = counter_key(h.budget_id, h.period_start_us)
            assert key.endswith(f":{h.period_start_us}")
            assert 0 < client.ttl(key) < 400 * 86400  # gone a few days after its period
    finally:
        client.close()


async def test_a_resync_rebuilds_from_the_store(setup: Setup) -> None:
    assert await setup.budgets.hold("a", setup.holds, CENT) is None
    org = setup.holds[0]
    client = redis.Redis.from_url(setup.url)
    client.hset(counter_key(org.budget_id, org.period_start_us), "r", 999 * CENT)  # drifted
    client.close()
    setup.budgets.lagging()
    # The store never saw call "a" (this test holds in Redis only): rebuilt, it is $0.
    assert await setup.budgets.hold("b", setup.holds, CENT) is None
    assert setup.counter(org) == (0, CENT)


async def test_an_unreachable_redis_hands_over_at_once(sqlite_store: Store) -> None:
    writer = LedgerWriter(sqlite_store)
    writer.start()
    closed = f"redis://127.0.0.1:{free_port()}/0"  # nothing listens there
    budgets = RedisBudgets(connect(closed, 0.5), writer.submit, list, retry_s=30)
    holds = [Hold("bud_x", "org", 0, 10 * CENT, True)]
    try:
        with pytest.raises(RedisDown):
            await budgets.hold("a", holds, CENT)
        assert budgets.down
        started = time.monotonic()
        with pytest.raises(RedisDown):  # not tried again before retry_s
            await budgets.hold("b", holds, CENT)
        assert time.monotonic() - started < 0.05
        assert budgets.fallbacks == 2
    finally:
        await budgets.close()
        writer.close()
