"""Invariants 2 and 3 across processes: 2 and 4 `llmledger serve` replicas share one
PostgreSQL store; 1,000 concurrent calls against one enforced budget."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from pathlib import Path

import pytest

from llmledger.guardrails.budgets import set_budget
from tests.production.cluster import (
    CALL_COST_NANOS,
    cluster,
    load,
    new_key,
    open_store,
    read_ledger,
    wait_settled,
)

pytestmark = [pytest.mark.postgres, pytest.mark.slow]
CALLS = 1000
LIMIT_USD = Decimal("3.00")
LIMIT_NANOS = 3_000_000_000


@pytest.mark.parametrize("replicas", [2, 4])
async def test_one_budget_across_replicas(postgres_url: str, tmp_path: Path, replicas: int) -> None:
    store = open_store(postgres_url)
    try:
        store.upgrade()
        key = new_key(store)
        with store.write() as conn:  # before the replicas start: all of them know it
            set_budget(conn, scope="agent:Marketing/SEO/seo-agent", limit_usd=LIMIT_USD)
        with cluster(postgres_url, replicas, tmp_path, delay_s=0.2) as running:
            outcomes = await load([r.url for r in running.replicas], key, CALLS)
            await asyncio.to_thread(wait_settled, store)
            ledger = await asyncio.to_thread(read_ledger, store)
    finally:
        store.close()
    served = [o for o in outcomes if o.status == 200]
    blocked = [o for o in outcomes if o.status == 429]
    assert len(served) + len(blocked) == CALLS, running.log_text()
    for o in blocked:
        assert o.body is not None and o.body["error"]["type"] == "budget_exceeded"
    # One event per call, each call's own id; nothing still open.
    assert len(ledger.by_id) == CALLS
    assert ledger.ids("settled") == {o.request_id for o in served}
    assert ledger.ids("blocked") == {o.request_id for o in blocked}
    # Zero overshoot: every served call billed exactly $0.01, and no more than the limit.
    spent = ledger.cost("settled")
    assert spent == len(served) * CALL_COST_NANOS
    assert spent <= LIMIT_NANOS
    assert ledger.periods == [(spent, 0)]  # the budget's counter agrees, nothing held
    assert (ledger.rollup_calls, ledger.rollup_cost) == (len(served), spent)
    assert len(served) >= LIMIT_NANOS // (2 * CALL_COST_NANOS)  # the budget was used
