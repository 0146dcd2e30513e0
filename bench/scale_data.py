"""The data side of bench/scale.py: a store of tens of millions of events filled in
SQL (partitioned by month, with its rollups), and the timings taken on it."""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import TypeVar
from zoneinfo import ZoneInfo

import httpx
import psycopg

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(Path(__file__).parent))

from llmledger.ledger import partitions, retention  # noqa: E402
from llmledger.ledger.event import EventSource, EventStatus, LineCost, UsageEvent  # noqa: E402
from llmledger.ledger.partitions import add_months, month_of, month_start_us  # noqa: E402
from llmledger.ledger.recording import record_events  # noqa: E402
from llmledger.ledger.store import Store  # noqa: E402
from llmledger.usage import Usage, UsageType  # noqa: E402

UTC_ZONE = ZoneInfo("UTC")
T = TypeVar("T")


def db_url(server: str, name: str) -> str:
    return f"{server.rstrip('/')}/{name}"


DEPARTMENTS = ("Engineering", "Sales", "Marketing", "Finance", "Support", "Legal", "HR", "Ops")
MODELS = (("openai", "gpt-4o"), ("anthropic", "claude-sonnet-4-5"), ("google", "gemini-2.5-flash"))


def fill(url: str, count: int, months: int, now: datetime) -> float:
    """`count` events over `months` months ending now, one usage line each, and the daily
    and monthly rollups, all in SQL; returns the seconds it took."""
    started = time.perf_counter()
    first = add_months(month_of(now), -(months - 1))
    per_month = count // months
    depts = "ARRAY[" + ",".join(f"'{d}'" for d in DEPARTMENTS) + "]"
    providers = "ARRAY[" + ",".join(f"'{p}'" for p, _ in MODELS) + "]"
    models = "ARRAY[" + ",".join(f"'{m}'" for _, m in MODELS) + "]"
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("SET synchronous_commit = off")
        conn.execute("SET maintenance_work_mem = '512MB'")
        conn.execute("SET work_mem = '256MB'")
        # Indexes are built once after the load (as the migration does), not row by row.
        # Every step can be rerun: a fill cut off (PostgreSQL restarted) resumes.
        conn.execute("ALTER TABLE events DROP CONSTRAINT IF EXISTS events_pkey")
        conn.execute("ALTER TABLE event_usage DROP CONSTRAINT IF EXISTS event_usage_pkey")
        for name, _ in INDEXES:
            conn.execute(f"DROP INDEX IF EXISTS {name}")
        for i in range(months):
            month = add_months(first, i)
            lo, hi = month_start_us(month), month_start_us(add_months(month, 1))
            name = partitions.partition_name(month)
            exists = conn.execute("SELECT to_regclass(%s) IS NOT NULL", (name,)).fetchone()
            if not (exists and exists[0]):
                conn.execute(
                    f"CREATE TABLE {name} PARTITION OF events FOR VALUES FROM ({lo}) TO ({hi})"
                )
            filled = conn.execute(f"SELECT EXISTS (SELECT 1 FROM {name})").fetchone()
            if filled and filled[0]:
                continue
            top = min(hi, int(now.timestamp() * 1e6))
            step = max(1, (top - lo) // per_month)
            base = i * per_month
            with conn.transaction():
                conn.execute(
                    f"""
                    INSERT INTO events (id, ts_us, department, project, agent, key_id,
                        provider, model_requested, model_used, operation, source, status,
                        http_status, flags, cost_nanos, list_cost_nanos, reserved_nanos,
                        latency_ms)
                    SELECT 'ev' || lpad((g + {base})::text, 12, '0'), {lo} + g * {step},
                        ({depts})[1 + g % 8], 'project-' || (g % 5), 'agent-' || (g % 4), '',
                        ({providers})[1 + g % 3], ({models})[1 + g % 3],
                        ({models})[1 + g % 3], 'chat.completions', 'gateway', 'settled',
                        200, 0, 1000 + g % 90000, 1000 + g % 90000, 200000, 300
                    FROM generate_series(0::bigint, {per_month - 1}) g
                    """
                )
                conn.execute(
                    f"""
                    INSERT INTO event_usage (event_id, usage_type, quantity_milli,
                        cost_nanos, list_cost_nanos)
                    SELECT id, 'output_tokens', 1000 * (10 + cost_nanos % 500), cost_nanos,
                        list_cost_nanos FROM {name}
                    """
                )
                _rollups_of(conn, name)
            print(f"  {month:%Y-%m}: {per_month:,} events", file=sys.stderr, flush=True)
        print("  indexes ...", file=sys.stderr, flush=True)
        conn.execute("ALTER TABLE events ADD CONSTRAINT events_pkey PRIMARY KEY (id, ts_us)")
        conn.execute(
            "ALTER TABLE event_usage ADD CONSTRAINT event_usage_pkey "
            "PRIMARY KEY (event_id, usage_type)"
        )
        for name, columns in INDEXES:
            conn.execute(f"CREATE INDEX {name} ON events ({columns})")
        for table in ("rollup_calls_monthly", "rollup_usage_monthly"):
            if _exists(conn, table):
                conn.execute(f"DELETE FROM {table}")
                day_table = table.replace("monthly", "daily")
                _monthly(conn, table, day_table)
        conn.execute("ANALYZE")
    return time.perf_counter() - started


def resumed(step: str, server: str, fn: Callable[..., T], *args: object) -> T:
    """`fn()`, run again after PostgreSQL went away (other work on this machine restarts
    it) once it answers again."""
    tries = 6
    for attempt in range(tries):
        try:
            return fn(*args)
        except psycopg.OperationalError as exc:
            if attempt == tries - 1:
                raise
            print(f"  {step}: {exc.__class__.__name__}; resuming", file=sys.stderr, flush=True)
            deadline = time.monotonic() + 300
            while time.monotonic() < deadline:
                time.sleep(2)
                try:
                    psycopg.connect(db_url(server, "postgres"), connect_timeout=2).close()
                    break
                except psycopg.OperationalError:
                    pass
    raise AssertionError("unreachable")


def _exists(conn: psycopg.Connection, table: str) -> bool:
    row = conn.execute("SELECT to_regclass(%s) IS NOT NULL", (table,)).fetchone()
    return bool(row and row[0])


INDEXES = (
    ("ix_events_ts", "ts_us"),
    ("ix_events_status", "status, ts_us"),
    ("ix_events_department_ts", "department, ts_us"),
)
_DIMS = "department, project, agent, key_id, provider, model_used"
_DIM_COLS = "department, project, agent, key_id, provider, model"


def _rollups_of(conn: psycopg.Connection, partition: str) -> None:
    day = "to_char(to_timestamp(ts_us / 1000000.0) AT TIME ZONE 'UTC', 'YYYY-MM-DD')"
    conn.execute(
        f"""
        INSERT INTO rollup_calls_daily (day, {_DIM_COLS}, calls, cost_nanos, list_cost_nanos,
            unpriced_calls, routed_calls, routed_cost_nanos, requested_cost_nanos)
        SELECT {day}, {_DIMS}, count(*), sum(cost_nanos), sum(list_cost_nanos), 0, 0, 0, 0
        FROM {partition} GROUP BY 1, {_DIMS}
        """
    )
    conn.execute(
        f"""
        INSERT INTO rollup_usage_daily (day, {_DIM_COLS}, usage_type, quantity_milli,
            cost_nanos, list_cost_nanos)
        SELECT {day}, {_DIMS}, 'output_tokens', sum(1000 * (10 + cost_nanos % 500)),
            sum(cost_nanos), sum(list_cost_nanos)
        FROM {partition} GROUP BY 1, {_DIMS}
        """
    )


def _monthly(conn: psycopg.Connection, monthly: str, daily: str) -> None:
    cols = [
        r[0]
        for r in conn.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = %s "
            "ORDER BY ordinal_position",
            (daily,),
        ).fetchall()
    ]
    keys_ = [c for c in cols if c in _DIM_COLS.split(", ") or c == "usage_type"]
    sums = [c for c in cols if c not in keys_ and c != "day"]
    conn.execute(
        f"INSERT INTO {monthly} (month, {', '.join(keys_)}, {', '.join(sums)}) "
        f"SELECT substr(day, 1, 7), {', '.join(keys_)}, "
        f"{', '.join(f'sum({s})' for s in sums)} FROM {daily} "
        f"GROUP BY substr(day, 1, 7), {', '.join(keys_)}"
    )


def timed_gets(client: httpx.Client, path: str, n: int) -> tuple[float, float]:
    for _ in range(5):
        client.get(path).raise_for_status()
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        client.get(path).raise_for_status()
        times.append((time.perf_counter() - t0) * 1e3)
    times.sort()
    return statistics.median(times), times[int(len(times) * 0.95) - 1]


def import_new(url: str, now: datetime, n: int = 1_000) -> float:
    store = Store.open(url, UTC_ZONE)
    events = [
        UsageEvent(
            id=f"import-{i}",
            ts=now,
            provider="openai",
            model_requested="gpt-4o",
            model_used="gpt-4o",
            source=EventSource.IMPORT,
            status=EventStatus.SETTLED,
            department="Sales",
            usage=Usage({UsageType.OUTPUT_TOKENS: Decimal(100)}),
            costs={UsageType.OUTPUT_TOKENS: LineCost(5_000, 5_000)},
        )
        for i in range(n)
    ]
    t0 = time.perf_counter()
    with store.write() as conn:
        assert len(record_events(conn, events, UTC_ZONE)) == n
    took = time.perf_counter() - t0
    store.close()
    return took


def lookup_cost(url: str) -> tuple[float, float]:
    """Milliseconds to look 1,000 event ids up (import deduplication): by id alone, in
    every partition, and by id within the records' time range (one partition)."""
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT id, ts_us FROM events TABLESAMPLE SYSTEM (1) LIMIT 100000"
        ).fetchall()
        rows = sorted(rows, key=lambda r: r[1])[len(rows) // 2 :][:1000]
        ids = [r[0] for r in rows]
        lo, hi = rows[0][1], rows[-1][1]
        out = []
        for sql, params in (
            ("SELECT id FROM events WHERE id = ANY(%s)", (ids,)),
            (
                "SELECT id FROM events WHERE id = ANY(%s) AND ts_us BETWEEN %s AND %s",
                (ids, lo, hi),
            ),
        ):
            conn.execute(sql, params).fetchall()  # warm
            t0 = time.perf_counter()
            for _ in range(5):
                assert len(conn.execute(sql, params).fetchall()) == len(ids)
            out.append((time.perf_counter() - t0) / 5 * 1e3)
    return out[0], out[1]


def drop_oldest_month(url: str, now: datetime, months: int) -> tuple[float, int]:
    store = Store.open(url, UTC_ZONE)
    t0 = time.perf_counter()
    with store.write() as conn:
        done = retention.apply(conn, now, months - 2, actor="bench")
    took = time.perf_counter() - t0
    store.close()
    return took, done.events_deleted


def db_size(url: str) -> str:
    with psycopg.connect(url) as conn:
        row = conn.execute("SELECT pg_size_pretty(pg_database_size(current_database()))").fetchone()
        assert row
        return str(row[0])
