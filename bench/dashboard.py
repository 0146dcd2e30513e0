"""p95 of each admin API view as the ledger grows (goal: under 50 ms, flat with events).

    python bench/dashboard.py [--sizes 1000000,10000000] [--requests 60]

Fills a SQLite store with synthetic events straight in SQL (a year of 8 departments x 3
projects x 4 agents x 4 providers), rebuilds the rollups with the real rebuild, serves
the real app on loopback and times every admin API view the dashboard reads, at each
size. Prints p50/p95 per view and size, and the ratio of the largest size's p95 to the
smallest's: the views read rollups (and the event log by keyset), so the ratio should
stay near 1.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

from llmledger.ledger import rollups
from llmledger.ledger.event import to_us
from llmledger.ledger.store import Store
from llmledger.settings import Settings

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tests.web.harness import ADMIN_TOKEN, serve, settings_for  # noqa: E402

YEAR_S = 365 * 86_400
_EVENTS = """
INSERT INTO events (id, ts_us, department, project, agent, key_id, end_user, provider,
  model_requested, model_used, operation, source, status, flags, cost_nanos,
  list_cost_nanos, reserved_nanos, requested_cost_nanos, routed_from, latency_ms)
WITH RECURSIVE seq(i) AS (SELECT :first UNION ALL SELECT i + 1 FROM seq WHERE i < :last)
SELECT printf('bench-%011d', i),
  :now_us - ((i * 2654435761) % :span) * 1000000 - (i % 1000000),
  CASE i % 8 WHEN 0 THEN 'Engineering' WHEN 1 THEN 'Sales' WHEN 2 THEN 'Marketing'
    WHEN 3 THEN 'Finance' WHEN 4 THEN 'Operations' WHEN 5 THEN 'Support'
    WHEN 6 THEN 'Legal' ELSE 'unattributed' END,
  'project-' || ((i / 8) % 3), 'agent-' || ((i / 24) % 4), '', '',
  CASE i % 4 WHEN 0 THEN 'openai' WHEN 1 THEN 'anthropic' WHEN 2 THEN 'google'
    ELSE 'bedrock' END,
  CASE i % 4 WHEN 0 THEN 'gpt-4o' WHEN 1 THEN 'claude-sonnet-4-5'
    WHEN 2 THEN 'gemini-2.5-flash' ELSE 'amazon.nova-pro-v1:0' END,
  CASE WHEN i % 10 = 0 AND i % 4 = 0 THEN 'gpt-4o-mini' WHEN i % 4 = 0 THEN 'gpt-4o'
    WHEN i % 4 = 1 THEN 'claude-sonnet-4-5' WHEN i % 4 = 2 THEN 'gemini-2.5-flash'
    ELSE 'amazon.nova-pro-v1:0' END,
  'chat', 'import', 'settled', 0, 1000000 + (i * 7919) % 50000000,
  1000000 + (i * 7919) % 50000000, 0,
  CASE WHEN i % 10 = 0 AND i % 4 = 0 THEN 3 * (1000000 + (i * 7919) % 50000000) END,
  CASE WHEN i % 10 = 0 AND i % 4 = 0 THEN 'gpt-4o' END, 400 + i % 900
FROM seq
"""
_USAGE = """
INSERT INTO event_usage (event_id, usage_type, quantity_milli, cost_nanos, list_cost_nanos)
SELECT id, 'input_tokens', 1000 * (500 + ts_us % 4000), cost_nanos - cost_nanos / 4,
       cost_nanos - cost_nanos / 4 FROM events WHERE id >= :lo AND id <= :hi
UNION ALL
SELECT id, 'output_tokens', 1000 * (50 + ts_us % 700), cost_nanos / 4, cost_nanos / 4
  FROM events WHERE id >= :lo AND id <= :hi
"""
CHUNK = 1_000_000


def grow(store: Store, have: int, want: int) -> None:
    now_us = to_us(datetime.now(UTC))
    for first in range(have, want, CHUNK):
        last = min(first + CHUNK, want) - 1
        with store.write() as conn:
            conn.exec_driver_sql("PRAGMA recursive_triggers=OFF")
            from sqlalchemy import text

            conn.execute(
                text(_EVENTS), {"first": first, "last": last, "now_us": now_us, "span": YEAR_S}
            )
            conn.execute(text(_USAGE), {"lo": f"bench-{first:011d}", "hi": f"bench-{last:011d}"})
        print(f"  {last + 1:,} events", file=sys.stderr, flush=True)
    started = time.perf_counter()
    with store.write() as conn:
        rollups.rebuild(conn, store.zone)
    print(f"  rollups rebuilt in {time.perf_counter() - started:.1f} s", file=sys.stderr)


def views(deep_cursor: str) -> dict[str, str]:
    today = datetime.now(UTC).date()
    year_ago = today.replace(year=today.year - 1).isoformat()
    return {
        "summary": "/api/v1/summary",
        "costs dept x provider (12m)": f"/api/v1/costs?group_by=department,provider"
        f"&from={year_ago}",
        "costs (month to date)": "/api/v1/costs?group_by=department",
        "hierarchy (month to date)": "/api/v1/hierarchy",
        "hierarchy (12m)": f"/api/v1/hierarchy?from={year_ago}",
        "savings (12m)": f"/api/v1/savings?from={year_ago}&group_by=department,project,agent",
        "budgets": "/api/v1/budgets",
        "events page 1": "/api/v1/events?limit=50",
        "events, filtered": "/api/v1/events?limit=50&department=Sales&provider=anthropic",
        "events, deep page": f"/api/v1/events?limit=50&cursor={deep_cursor}",
    }


def get(url: str) -> bytes:
    req = urllib.request.Request(url, headers={"authorization": f"Bearer {ADMIN_TOKEN}"})
    with urllib.request.urlopen(req, timeout=60) as resp:
        body: bytes = resp.read()
        if resp.status != 200:
            raise RuntimeError(f"{url}: {resp.status}")
        return body


def measure(base: str, paths: dict[str, str], n: int) -> dict[str, tuple[float, float]]:
    out = {}
    for name, path in paths.items():
        for _ in range(3):
            get(base + path)
        times = []
        for _ in range(n):
            started = time.perf_counter()
            get(base + path)
            times.append((time.perf_counter() - started) * 1000)
        times.sort()
        out[name] = (statistics.median(times), times[max(0, int(len(times) * 0.95) - 1)])
    return out


def deep_cursor(store: Store) -> str:
    from llmledger.web.api.events import encode_cursor

    with store.read() as conn:
        row = conn.exec_driver_sql(
            "SELECT ts_us, id FROM events ORDER BY ts_us LIMIT 1 OFFSET 1000"
        ).first()
    assert row is not None
    return encode_cursor(int(row[0]), str(row[1]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000000,10000000")
    parser.add_argument("--requests", type=int, default=60)
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    results: dict[int, dict[str, tuple[float, float]]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'bench.db'}"
        settings: Settings = settings_for(url)
        store = Store.open(url, settings.organisation.zone)
        store.upgrade()
        from llmledger.guardrails import budgets

        with store.write() as conn:
            for d in ("Engineering", "Sales", "Marketing", "Finance"):
                budgets.set_budget(conn, scope=f"department:{d}", limit_usd="50000")
            budgets.set_budget(conn, scope="agent:Sales/project-1/agent-2", limit_usd="900")
        have = 0
        for size in sizes:
            print(f"filling to {size:,} events", file=sys.stderr)
            grow(store, have, size)
            have = size
            cursor = deep_cursor(store)
            with serve(settings) as live:
                results[size] = measure(live.url, views(cursor), args.requests)
        store.close()
    names = list(results[sizes[0]])
    head = "".join(f"{f'{s:,} p50':>14}{f'{s:,} p95':>14}" for s in sizes)
    print(f"{'view (ms)':<30}{head}{'p95 ratio':>11}")
    for name in names:
        cells = "".join(f"{results[s][name][0]:>14.1f}{results[s][name][1]:>14.1f}" for s in sizes)
        ratio = results[sizes[-1]][name][1] / results[sizes[0]][name][1]
        print(f"{name:<30}{cells}{ratio:>11.2f}")


if __name__ == "__main__":
    main()
