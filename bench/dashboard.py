"""p95 of each admin API view as the ledger grows (goal: under 50 ms, flat with events).

    python bench/dashboard.py [--sizes 1000000,10000000] [--requests 60]
                              [--backend sqlite|postgresql] [--postgres URL]
                              [--keep DIR]

Fills a store (SQLite, or a fresh PostgreSQL database) with synthetic events straight in
SQL (a year of 8 departments x 3 projects x 4 agents x 4 providers, a key per agent,
an end user on one call in ten (2,000 of them, and one rare end user on one call in a
million), 5% embeddings, 1% failed calls, two usage lines per event), rebuilds the
rollups with the real rebuild (`llmledger db rebuild-rollups`),
serves it with `llmledger serve` (its own process: uvloop, httptools, the start-up heap
frozen, as in production) on loopback and times every admin API view the dashboard reads, at
each size, in rounds over all the views. After each size it prints how long generation
and the rebuild took, p50/p95 per view, each view's p95 against ``/healthz`` timed in
the same rounds (one request through the same server and client, doing nothing), the
mean CPU time of the server per request, and the ratio of the largest size's p95 to the smallest's:
the views read rollups (and the event log by keyset), so that ratio should stay near 1.
The load average is printed too: wall-clock timings on a busy machine are noisy, the
CPU time much less so.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import Connection, text

from llmledger.guardrails import budgets
from llmledger.guardrails.periods import Period
from llmledger.ledger import rollups
from llmledger.ledger.event import to_us
from llmledger.ledger.store import Store
from llmledger.settings import Settings
from llmledger.web.api.events import encode_cursor

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tests.services import fresh_postgres_database  # noqa: E402
from tests.web.harness import ADMIN_TOKEN, settings_for  # noqa: E402

YEAR_US = 365 * 86_400 * 1_000_000
CHUNK = 1_000_000

# Events in time order within a chunk (each chunk spreads over the whole year), so every
# index is filled by a sweep rather than at random: a chunk of a million goes in fast.
_COLUMNS = """id, ts_us, department, project, agent, key_id, end_user, provider,
  model_requested, model_used, operation, source, status, flags, cost_nanos,
  list_cost_nanos, reserved_nanos, requested_cost_nanos, routed_from, latency_ms"""
_VALUES = """:start_us + (i - :first) * :step + :jitter,
  CASE i % 8 WHEN 0 THEN 'Engineering' WHEN 1 THEN 'Sales' WHEN 2 THEN 'Marketing'
    WHEN 3 THEN 'Finance' WHEN 4 THEN 'Operations' WHEN 5 THEN 'Support'
    WHEN 6 THEN 'Legal' ELSE 'unattributed' END,
  'project-' || ((i / 8) % 3), 'agent-' || ((i / 24) % 4), 'vk-' || (i % 96),
  CASE WHEN i % 1000000 = 424242 THEN 'rare-user' WHEN i % 10 = 3
    THEN 'user-' || ((i / 10) % 2000) ELSE '' END,
  CASE i % 4 WHEN 0 THEN 'openai' WHEN 1 THEN 'anthropic' WHEN 2 THEN 'google'
    ELSE 'bedrock' END,
  CASE i % 4 WHEN 0 THEN 'gpt-4o' WHEN 1 THEN 'claude-sonnet-4-5'
    WHEN 2 THEN 'gemini-2.5-flash' ELSE 'amazon.nova-pro-v1:0' END,
  CASE WHEN i % 10 = 0 AND i % 4 = 0 THEN 'gpt-4o-mini' WHEN i % 4 = 0 THEN 'gpt-4o'
    WHEN i % 4 = 1 THEN 'claude-sonnet-4-5' WHEN i % 4 = 2 THEN 'gemini-2.5-flash'
    ELSE 'amazon.nova-pro-v1:0' END,
  CASE WHEN i % 20 = 12 THEN 'embeddings' ELSE 'chat' END, 'import',
  CASE WHEN i % 97 = 5 THEN 'failed' ELSE 'settled' END, 0, 1000000 + (i * 7919) % 50000000,
  1000000 + (i * 7919) % 50000000, 0,
  CASE WHEN i % 10 = 0 AND i % 4 = 0 THEN 3 * (1000000 + (i * 7919) % 50000000) END,
  CASE WHEN i % 10 = 0 AND i % 4 = 0 THEN 'gpt-4o' END, 400 + i % 900"""
_EVENTS = {
    "sqlite": f"""INSERT INTO events ({_COLUMNS})
WITH RECURSIVE seq(i) AS (SELECT :first UNION ALL SELECT i + 1 FROM seq WHERE i < :last)
SELECT printf('bench-%011d', i), {_VALUES} FROM seq""",
    "postgresql": f"""INSERT INTO events ({_COLUMNS})
SELECT 'bench-' || lpad(i::text, 11, '0'), {_VALUES}
FROM generate_series(CAST(:first AS bigint), CAST(:last AS bigint)) AS i""",
}
_USAGE = """
INSERT INTO event_usage (event_id, usage_type, quantity_milli, cost_nanos, list_cost_nanos)
SELECT id, 'input_tokens', 1000 * (500 + ts_us % 4000), cost_nanos - cost_nanos / 4,
       cost_nanos - cost_nanos / 4 FROM events WHERE id >= :lo AND id <= :hi
UNION ALL
SELECT id, 'output_tokens', 1000 * (50 + ts_us % 700), cost_nanos / 4, cost_nanos / 4
  FROM events WHERE id >= :lo AND id <= :hi
"""


def _tune(conn: Connection, dialect: str) -> None:
    """Room for the sorts of a bulk load and a rebuild (this connection only)."""
    if dialect == "sqlite":
        conn.exec_driver_sql("PRAGMA cache_size=-1000000")  # 1 GB; sorts spill past it
    else:
        conn.exec_driver_sql("SET LOCAL work_mem = '512MB'")


def grow(store: Store, have: int, want: int) -> tuple[float, float]:
    """Add events `have`..`want` - 1, then rebuild the rollups; (insert s, rebuild s)."""
    start_us = to_us(datetime.now(UTC)) - YEAR_US
    started = time.perf_counter()
    for first in range(have, want, CHUNK):
        last = min(first + CHUNK, want) - 1
        params = {
            "first": first,
            "last": last,
            "start_us": start_us,
            "step": YEAR_US // (last - first + 1),
            "jitter": first // CHUNK,
        }
        with store.write() as conn:
            _tune(conn, store.dialect)
            conn.execute(text(_EVENTS[store.dialect]), params)
            conn.execute(text(_USAGE), {"lo": f"bench-{first:011d}", "hi": f"bench-{last:011d}"})
        print(f"  {last + 1:,} events", file=sys.stderr, flush=True)
    inserted = time.perf_counter() - started
    if store.dialect == "postgresql":
        with store.engine.connect() as conn:
            conn.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql("VACUUM ANALYZE")
    started = time.perf_counter()
    with store.write() as conn:
        _tune(conn, store.dialect)
        rollups.rebuild(conn, store.zone)
    rebuilt = time.perf_counter() - started
    if store.dialect == "postgresql":
        with store.engine.connect() as conn:
            conn.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql("ANALYZE")
    else:
        with store.write() as conn:
            conn.exec_driver_sql("ANALYZE")
    print(f"  inserted in {inserted:.0f} s, rollups rebuilt in {rebuilt:.0f} s", file=sys.stderr)
    return inserted, rebuilt


#: A single key (one call in 96), an end user (one call in 20,000) and the rare end user.
KEY = "vk-77"
END_USER = "user-1234"
RARE_END_USER = "rare-user"


def views(deep: str, deep_key: str) -> dict[str, str]:
    today = datetime.now(UTC).date()
    year_ago = (today - timedelta(days=365)).isoformat()
    quarter_ago = (today - timedelta(days=91)).isoformat()
    events = "/api/v1/events?limit=50"
    return {
        "healthz (reference)": "/healthz",
        "summary": "/api/v1/summary",
        "costs dept x provider (12m)": f"/api/v1/costs?group_by=department,provider"
        f"&from={year_ago}",
        "costs dept x provider (3m)": f"/api/v1/costs?group_by=department,provider"
        f"&from={quarter_ago}",
        "costs (month to date)": "/api/v1/costs?group_by=department",
        "costs by month (12m)": f"/api/v1/costs?group_by=month&from={year_ago}",
        "hierarchy (month to date)": "/api/v1/hierarchy",
        "hierarchy (12m)": f"/api/v1/hierarchy?from={year_ago}",
        "savings (12m)": f"/api/v1/savings?from={year_ago}&group_by=department,project,agent",
        "roi (3 months)": "/api/v1/roi",
        "budgets": "/api/v1/budgets",
        "anomalies": "/api/v1/anomalies",
        "events page 1": events,
        "events, deep page": f"{events}&cursor={deep}",
        "events by department": f"{events}&department=Sales",
        "events by project": f"{events}&project=project-1",
        "events by agent": f"{events}&agent=agent-2",
        "events by key": f"{events}&key={KEY}",
        "events by key, deep page": f"{events}&key={KEY}&cursor={deep_key}",
        "events by end user": f"{events}&end_user={END_USER}",
        "events by rare end user": f"{events}&end_user={RARE_END_USER}",
        "events by provider": f"{events}&provider=anthropic",
        "events by model (2.5%)": f"{events}&model=gpt-4o-mini",
        "events by operation (5%)": f"{events}&operation=embeddings",
        "events by status (1%)": f"{events}&status=failed",
        "events, department + agent": f"{events}&department=Sales&agent=agent-2",
        "events, department + provider": f"{events}&department=Sales&provider=anthropic",
        "events, key + status": f"{events}&key={KEY}&status=failed",
    }


def get(url: str) -> bytes:
    req = urllib.request.Request(url, headers={"authorization": f"Bearer {ADMIN_TOKEN}"})
    with urllib.request.urlopen(req, timeout=60) as resp:
        body: bytes = resp.read()
        if resp.status != 200:
            raise RuntimeError(f"{url}: {resp.status}")
        return body


@dataclass(frozen=True, slots=True)
class Timing:
    p50: float
    p95: float
    cpu_mean: float  # CPU of the server process per request (mean)


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[max(0, int(len(ordered) * 0.95) - 1)]


def server_cpu_ms(pid: int) -> float:
    """CPU time (user + system) of process `pid` so far, in ms. The kernel counts it in
    clock ticks, so it is read over many requests and averaged, not per request."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) * 1000 / os.sysconf("SC_CLK_TCK")


def measure(base: str, pid: int, paths: dict[str, str], n: int) -> dict[str, Timing]:
    """`n` timed rounds over every view in turn, so a burst of load from elsewhere on
    the machine falls on all the views alike rather than on one; the CPU is the
    server's, per request."""
    for path in paths.values():
        for _ in range(3):
            get(base + path)
    wall: dict[str, list[float]] = {name: [] for name in paths}
    cpu: dict[str, list[float]] = {name: [] for name in paths}
    for _ in range(n):
        for name, path in paths.items():
            started, cpu_started = time.perf_counter(), server_cpu_ms(pid)
            get(base + path)
            wall[name].append((time.perf_counter() - started) * 1000)
            cpu[name].append(server_cpu_ms(pid) - cpu_started)
    return {
        name: Timing(statistics.median(wall[name]), _p95(wall[name]), statistics.fmean(cpu[name]))
        for name in paths
    }


def deep_cursor(store: Store, key: str | None = None) -> str:
    """A position a thousand events from the oldest (of `key`'s events, if given): the
    last of many pages."""
    where = "WHERE key_id = :key AND key_id != ''" if key else ""
    with store.read() as conn:
        row = conn.execute(
            text(f"SELECT ts_us, id FROM events {where} ORDER BY ts_us LIMIT 1 OFFSET 1000"),
            {"key": key},
        ).first()
    assert row is not None
    return encode_cursor(int(row[0]), str(row[1]))


@contextmanager
def store_url(backend: str, postgres: str | None, keep: str | None) -> Iterator[str]:
    if backend == "postgresql":
        if postgres:
            os.environ["LLMLEDGER_TEST_PG"] = postgres
        with fresh_postgres_database() as url:
            yield url
    elif keep:
        path = Path(keep) / "bench.db"
        if path.exists():
            raise SystemExit(f"{path} exists: the store is filled from empty")
        path.parent.mkdir(parents=True, exist_ok=True)
        yield f"sqlite:///{path}"
    else:
        with tempfile.TemporaryDirectory() as tmp:
            yield f"sqlite:///{Path(tmp) / 'bench.db'}"


def load() -> str:
    return "/".join(f"{x:.2f}" for x in os.getloadavg())


def report(
    backend: str,
    requests: int,
    results: dict[int, dict[str, Timing]],
    spent: dict[int, tuple[float, float]],
    loads: dict[int, str],
) -> None:
    """The table of every size measured so far (printed after each size, so a failure
    later on keeps what was measured)."""
    sizes = sorted(results)
    print(f"\nbackend: {backend}; {requests} timed requests per view")
    for size in sizes:
        inserted, rebuilt = spent[size]
        print(
            f"{size:,} events: generated in {inserted:.0f} s + rollups rebuilt in "
            f"{rebuilt:.0f} s (growing from the previous size); load average after "
            f"timing {loads[size]}"
        )
    ref = "healthz (reference)"
    head = "".join(
        f"{f'{s / 1e6:g}M p50':>10}{f'{s / 1e6:g}M p95':>10}{'x ref':>7}{'cpu':>7}" for s in sizes
    )
    print(f"{'view (ms; x ref: p95 / healthz p95)':<36}{head}{'p95 ratio':>11}")
    for name in results[sizes[0]]:
        cells = "".join(
            f"{results[s][name].p50:>10.1f}{results[s][name].p95:>10.1f}"
            f"{results[s][name].p95 / results[s][ref].p95:>7.1f}{results[s][name].cpu_mean:>7.1f}"
            for s in sizes
        )
        ratio = results[sizes[-1]][name].p95 / results[sizes[0]][name].p95
        print(f"{name:<36}{cells}{ratio:>11.2f}")
    print(
        "cpu: mean CPU time of the server process per request; "
        f"p95 ratio: {sizes[-1]:,} events against {sizes[0]:,}",
        flush=True,
    )


@contextmanager
def served(settings: Settings) -> Iterator[tuple[str, int]]:
    """`llmledger serve` on a free loopback port for `settings`; yields its base URL and
    process id."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    org = settings.organisation
    env = {
        **os.environ,
        "LLMLEDGER_STORE__URL": settings.store.url,
        "LLMLEDGER_ADMIN_TOKEN": ADMIN_TOKEN,
        "LLMLEDGER_ORGANISATION__NAME": org.name,
        "LLMLEDGER_ORGANISATION__TIMEZONE": org.timezone,
        "LLMLEDGER_ORGANISATION__ANNUAL_BUDGET_USD": str(org.annual_budget_usd),
        "LLMLEDGER_ORGANISATION__MONTHLY_BUDGET_USD": str(org.monthly_budget_usd),
    }
    cli = [str(Path(sys.executable).with_name("llmledger")), "serve", "--port", str(port)]
    server = subprocess.Popen(cli, env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if server.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("llmledger serve did not start")
            try:
                urllib.request.urlopen(base + "/healthz", timeout=1).close()
                break
            except OSError:
                time.sleep(0.2)
        yield base, server.pid
    finally:
        server.terminate()
        server.wait(30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000000,10000000", help="event counts, ascending")
    parser.add_argument("--requests", type=int, default=60, help="timed requests per view")
    parser.add_argument("--backend", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--postgres", help="admin URL of a PostgreSQL server (postgresql)")
    parser.add_argument("--keep", help="leave the SQLite store in this folder (bench.db)")
    args = parser.parse_args()
    sizes = sorted(int(s) for s in args.sizes.split(","))
    results: dict[int, dict[str, Timing]] = {}
    spent: dict[int, tuple[float, float]] = {}
    loads: dict[int, str] = {}
    with store_url(args.backend, args.postgres, args.keep) as url:
        settings = settings_for(url)
        store = Store.open(url, settings.organisation.zone)
        store.upgrade()
        with store.write() as conn:
            for d in ("Engineering", "Sales", "Marketing", "Finance"):
                budgets.set_budget(conn, scope=f"department:{d}", limit_usd="50000")
            budgets.set_budget(conn, scope="agent:Sales/project-1/agent-2", limit_usd="900")
            budgets.set_budget(conn, scope="org", limit_usd="900000", period=Period.YEAR)
        have = 0
        for size in sizes:
            print(f"filling to {size:,} events ({args.backend})", file=sys.stderr)
            spent[size] = grow(store, have, size)
            have = size
            paths = views(deep_cursor(store), deep_cursor(store, KEY))
            with served(settings) as (base, pid):
                results[size] = measure(base, pid, paths, args.requests)
            loads[size] = load()
            report(args.backend, args.requests, results, spent, loads)
        store.close()


if __name__ == "__main__":
    main()
