"""SQLite, where budgets are held in the gateway's memory and each reservation is made
durable by one append to the reservation log: a `llmledger serve` killed with SIGKILL
while its calls are upstream loses none of them. Started again on the same file, it
books every call it had forwarded at its reserved amount, once."""

from __future__ import annotations

import asyncio
import time
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import func, select

from llmledger.guardrails.budgets import set_budget
from llmledger.ledger import schema
from llmledger.ledger.event import EventFlag
from llmledger.ledger.store import Store
from tests.production.cluster import cluster, load, new_key, open_store, read_ledger

pytestmark = [pytest.mark.slow]
CALLS = 40


def wait_reserved(store: Store, count: int, timeout: float = 30) -> int:
    e = schema.events
    deadline = time.monotonic() + timeout
    while True:
        with store.read() as conn:
            n = int(
                conn.execute(
                    select(func.count()).select_from(e).where(e.c.status == "reserved")
                ).scalar_one()
            )
        if n >= count or time.monotonic() > deadline:
            return n
        time.sleep(0.05)


async def test_sigkill_with_calls_upstream_loses_nothing(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    store = open_store(url)
    try:
        store.upgrade()
        key = new_key(store)
        with store.write() as conn:
            set_budget(conn, scope="agent:Marketing/SEO/seo-agent", limit_usd=Decimal("100"))
        with cluster(url, 1, tmp_path, delay_s=30) as running:  # calls stay upstream
            calls = asyncio.create_task(load([running.replicas[0].url], key, CALLS, timeout=60))
            in_flight = await asyncio.to_thread(wait_reserved, store, CALLS)
            assert in_flight == CALLS, running.log_text()
            running.replicas[0].kill()
            outcomes = await calls
        assert all(o.status == 0 for o in outcomes)  # no caller saw an answer
        with cluster(url, 1, tmp_path, delay_s=0.2):  # startup settles what was left
            ledger = await asyncio.to_thread(read_ledger, store)
    finally:
        store.close()
    assert len(ledger.by_id) == CALLS
    assert ledger.ids("unsettled") == set(ledger.by_id)
    for row in ledger.by_id.values():
        assert row["cost_nanos"] == row["reserved_nanos"] > 0
        assert row["flags"] & EventFlag.UNSETTLED
    spent = ledger.cost("unsettled")
    assert ledger.periods == [(spent, 0)]  # the budget counts them, nothing still held
    assert (ledger.rollup_calls, ledger.rollup_cost) == (CALLS, spent)
    assert not list(tmp_path.glob("ledger.db.reservations.*"))
