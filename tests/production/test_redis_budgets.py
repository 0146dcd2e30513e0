"""Budget holds decided in Redis across replicas (DESIGN invariant 3), with real
processes, the real PostgreSQL of this machine and real Redis servers: 2 and 4 replicas
sharing PostgreSQL and Redis, and a Redis of its own stopped and started again while the
calls flow."""

from __future__ import annotations

import asyncio
import re
import shutil
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path

import aiohttp
import httpx
import pytest
import redis
from sqlalchemy import func, select

from llmledger.guardrails.budgets import set_budget
from llmledger.guardrails.redis_book import PREFIX
from llmledger.ledger import schema
from llmledger.ledger.store import Store
from tests.production.cluster import (
    CALL_COST_NANOS,
    Cluster,
    Ledger,
    Outcome,
    call,
    cluster,
    free_port,
    load,
    new_key,
    open_store,
    read_ledger,
    wait_settled,
)
from tests.services import missing, redis_url

pytestmark = [pytest.mark.postgres, pytest.mark.slow]
AGENT = "agent:Marketing/SEO/seo-agent"


def wait_events(store: Store, count: int, timeout: float = 30) -> None:
    """Until the store holds `count` events: a call Redis refused has its ``blocked``
    event written behind its answer."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with store.read() as conn:
            n = conn.execute(select(func.count()).select_from(schema.events)).scalar_one()
        if n >= count:
            return
        time.sleep(0.1)


def metric(cl: Cluster, name: str) -> float:
    """`name` summed over the replicas' /metrics."""
    total = 0.0
    for r in cl.replicas:
        text = httpx.get(f"{r.url}/metrics", timeout=10).text
        m = re.search(rf"^{name} ([0-9.e+]+)$", text, re.M)
        assert m, f"{name} missing from {r.url}/metrics"
        total += float(m.group(1))
    return total


def redis_counter(url: str, budget_id: str) -> tuple[int, int] | None:
    client = redis.Redis.from_url(url)
    try:
        keys = list(client.scan_iter(f"{PREFIX}{budget_id}:*"))
        if not keys:
            return None
        assert len(keys) == 1, keys  # one period
        raw = client.hgetall(keys[0])
        return int(raw[b"s"]), int(raw[b"r"])
    finally:
        client.close()


def drop_counters(url: str, budget_id: str) -> None:
    client = redis.Redis.from_url(url)
    try:
        for key in client.scan_iter(f"{PREFIX}{budget_id}:*"):
            client.delete(key)
    finally:
        client.close()


def assert_exact(ledger: Ledger, outcomes: list[Outcome], calls: int, limit: int) -> int:
    """One event per call (its own id), every served call billed once, zero overshoot,
    the budget counter and the rollups equal to the events; returns the calls served."""
    served = [o for o in outcomes if o.status == 200]
    blocked = [o for o in outcomes if o.status == 429]
    assert len(served) + len(blocked) == calls, sorted({o.status for o in outcomes})
    for o in blocked:
        assert o.body is not None and o.body["error"]["type"] == "budget_exceeded"
    assert len(ledger.by_id) == calls
    assert ledger.ids("settled") == {o.request_id for o in served}
    assert ledger.ids("blocked") == {o.request_id for o in blocked}
    spent = ledger.cost("settled")
    assert spent == len(served) * CALL_COST_NANOS
    assert spent <= limit
    assert ledger.periods == [(spent, 0)]
    assert (ledger.rollup_calls, ledger.rollup_cost) == (len(served), spent)
    return len(served)


@pytest.mark.parametrize("replicas", [2, 4])
async def test_one_budget_across_replicas_held_in_redis(
    postgres_url: str, tmp_path: Path, replicas: int
) -> None:
    url = redis_url()
    calls, limit_usd = 1000, Decimal("3.00")
    store = open_store(postgres_url)
    try:
        store.upgrade()
        key = new_key(store)
        with store.write() as conn:
            budget = set_budget(conn, scope=AGENT, limit_usd=limit_usd)
        # a healthy Redis: a command slowed by a loaded machine must not count as down
        with cluster(
            postgres_url,
            replicas,
            tmp_path,
            delay_s=0.2,
            STORE__REDIS_URL=url,
            STORE__REDIS_TIMEOUT_S="5",
        ) as running:
            outcomes = await load([r.url for r in running.replicas], key, calls)
            await asyncio.to_thread(wait_settled, store)
            await asyncio.to_thread(wait_events, store, calls)
            ledger = await asyncio.to_thread(read_ledger, store)
            refused_in_redis = metric(running, "llmledger_budget_redis_refused")
            fallbacks = metric(running, "llmledger_budget_redis_fallbacks")
    finally:
        store.close()
    served = assert_exact(ledger, outcomes, calls, 3_000_000_000)
    assert served >= 3_000_000_000 // (2 * CALL_COST_NANOS)  # the budget was used
    assert fallbacks == 0  # every call was decided in Redis first
    assert refused_in_redis > 0  # and Redis refused calls without the store
    assert redis_counter(url, budget.id) is not None


@contextmanager
def own_redis(tmp_path: Path) -> Iterator[tuple[str, int]]:
    """A Redis server of this test's own (never the machine's shared one), stopped at
    the end whatever happens."""
    if shutil.which("redis-server") is None:
        missing("redis-server is not installed; install it (apt-get install redis-server)")
    port = free_port()
    start_redis(tmp_path, port)
    try:
        yield f"redis://127.0.0.1:{port}/0", port
    finally:
        stop_redis(port)


def start_redis(tmp_path: Path, port: int) -> None:
    subprocess.run(
        [
            "redis-server",
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--daemonize",
            "yes",
            "--dir",
            str(tmp_path),
            "--pidfile",
            str(tmp_path / f"redis-{port}.pid"),
            "--logfile",
            str(tmp_path / f"redis-{port}.log"),
        ],
        check=True,
        timeout=10,
    )
    client = redis.Redis(port=port, socket_connect_timeout=1)
    deadline = time.monotonic() + 10
    while True:
        try:
            client.ping()
            break
        except redis.exceptions.ConnectionError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)
    client.close()


def stop_redis(port: int) -> None:
    subprocess.run(
        ["redis-cli", "-p", str(port), "shutdown", "nosave"], capture_output=True, timeout=10
    )


async def paced_load(urls: list[str], key: str, calls: int, concurrency: int) -> list[Outcome]:
    """`calls` calls, at most `concurrency` at a time: traffic that lasts."""
    gate = asyncio.Semaphore(concurrency)
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(
        connector=connector, timeout=aiohttp.ClientTimeout(total=120)
    ) as session:

        async def one(i: int) -> Outcome:
            async with gate:
                return await call(session, urls[i % len(urls)], key)

        return await asyncio.gather(*(one(i) for i in range(calls)))


async def test_redis_stopped_and_started_mid_traffic(postgres_url: str, tmp_path: Path) -> None:
    calls, limit_usd, limit = 1000, Decimal("6.00"), 6_000_000_000
    store = open_store(postgres_url)
    try:
        store.upgrade()
        key = new_key(store)
        with store.write() as conn:
            budget = set_budget(conn, scope=AGENT, limit_usd=limit_usd)
        with (
            own_redis(tmp_path) as (url, port),
            cluster(postgres_url, 2, tmp_path, delay_s=0.2, STORE__REDIS_URL=url) as running,
        ):
            urls = [r.url for r in running.replicas]

            async def outage() -> None:
                await asyncio.sleep(1.0)  # Redis holds the first calls
                await asyncio.to_thread(stop_redis, port)
                await asyncio.sleep(1.5)  # the store alone holds these
                await asyncio.to_thread(start_redis, tmp_path, port)  # empty: no data kept

            outcomes, _ = await asyncio.gather(paced_load(urls, key, calls, 40), outage())
            await asyncio.to_thread(wait_settled, store)
            await asyncio.to_thread(wait_events, store, calls)
            ledger = await asyncio.to_thread(read_ledger, store)
            fallbacks = metric(running, "llmledger_budget_redis_fallbacks")
            # Redis is tried again after a pause; the counters it lost are rebuilt from
            # the store (spent plus open holds), so it refuses what the store would.
            await asyncio.sleep(2.5)
            refused_before = metric(running, "llmledger_budget_redis_refused")
            after = await paced_load(urls, key, 20, 10)
            up = metric(running, "llmledger_budget_redis_up")
            refused_after = metric(running, "llmledger_budget_redis_refused")
            # A counter lost again (as in a restart, or evicted) is rebuilt from the
            # store at its next use: spent, and nothing held with no call in flight.
            await asyncio.to_thread(drop_counters, url, budget.id)
            last = await paced_load(urls[:1], key, 1, 1)
            counter = redis_counter(url, budget.id)
            await asyncio.to_thread(wait_events, store, calls + 21)
            final = await asyncio.to_thread(read_ledger, store)
    finally:
        store.close()
    # The calls of the outage were decided by the store alone, and no call was lost,
    # none billed twice, the limit never passed.
    assert fallbacks > 0
    served = assert_exact(ledger, outcomes, calls, limit)
    assert served >= limit // (2 * CALL_COST_NANOS)
    # Back on Redis, rebuilt from the store: the full budget refuses there.
    assert [o.status for o in after + last] == [429] * 21
    assert up == len(urls)
    assert refused_after > refused_before
    spent = final.cost("settled")
    assert spent == ledger.cost("settled")
    assert counter == (spent, 0)
    assert len(final.by_id) == calls + 21
