"""The production shape under load: gateway replicas on one PostgreSQL, and the
executive view over a store of tens of millions of raw events.

1. **Gateway replicas.** An instant upstream (fixed small OpenAI answers with usage, zero
   work) in its own process; 1, 2 and 4 ``llmledger serve`` processes sharing one
   PostgreSQL database; wrk drives ``--connections`` keep-alive connections, split evenly
   over the replicas, for ``--duration`` seconds. Reported: calls/s answered, events/s
   landing in the store (settled events counted in the database after the writers have
   drained, over the load window), and p99 latency against the reference: the same
   wrk load on the upstream directly, in the same run (the difference is the added
   latency; the gateways' own ``llmledger_added_latency_seconds`` p99 bucket is printed
   too).
2. **Executive view.** For each ``--events`` count, a fresh database
   (``--database``, default ``llmledger_scale``) is migrated (events partitioned by
   month), then filled in SQL with ``generate_series``: the events spread over
   ``--months`` months ending now, one usage line each, and the rollups (daily and monthly,
   by aggregating each month's partition). One ``llmledger serve`` then answers
   ``GET /api/v1/summary`` (the executive view's figures) ``--requests`` times; p50/p95
   are printed with the same-run reference ``GET /healthz``, and the ratio of p95 between
   counts. Also timed: the first page of ``GET /api/v1/events`` (raw events, newest first),
   importing 1,000 new records (deduplicated by id across every partition), and
   retention dropping the oldest month (partition and usage lines). The database is
   dropped afterwards unless ``--keep``.

    .venv/bin/python bench/scale.py [--replicas 1,2,4] [--events 10000000,100000000]
        [--months 24] [--duration 10] [--connections 64] [--skip-gateway] [--skip-view]

Disk: about 0.5 GB per million events (events, one usage line, indexes); check
``df -h`` before asking for 100M.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import TypeVar
from zoneinfo import ZoneInfo

import httpx
import psycopg

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(Path(__file__).parent))

from llmledger.ledger import keys, partitions, retention  # noqa: E402
from llmledger.ledger.event import EventSource, EventStatus, LineCost, UsageEvent  # noqa: E402
from llmledger.ledger.partitions import add_months, month_of, month_start_us  # noqa: E402
from llmledger.ledger.recording import record_events  # noqa: E402
from llmledger.ledger.store import Store  # noqa: E402
from llmledger.usage import Usage, UsageType  # noqa: E402

ADMIN = "scale-bench-admin"
BODY = '{"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "Hi"}], "max_tokens": 64}'
UTC_ZONE = ZoneInfo("UTC")
T = TypeVar("T")


# --- processes --------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_http(url: str, proc: subprocess.Popen[bytes], timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{proc.args!r} exited with {proc.returncode}")
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer in {timeout}s")


@contextmanager
def process(args: list[str], env: dict[str, str], log: Path) -> Iterator[subprocess.Popen[bytes]]:
    with log.open("ab") as out:
        proc = subprocess.Popen(args, cwd=ROOT, env=env, stdout=out, stderr=out)
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)


def upstream_process(port: int) -> list[str]:
    code = (
        "import sys, uvloop; sys.path.insert(0, 'bench'); uvloop.install(); "
        f"from bench_servers import run_upstream; run_upstream({port})"
    )
    return [sys.executable, "-c", code]


def serve_env(store_url: str, upstream: str) -> dict[str, str]:
    env = dict(os.environ)
    env.pop("LLMLEDGER_CONFIG", None)
    env.update(
        {
            "LLMLEDGER_STORE__URL": store_url,
            "LLMLEDGER_PROVIDERS__OPENAI__BASE_URL": upstream,
            "LLMLEDGER_PROVIDERS__OPENAI__API_KEY_ENV": "SCALE_UPSTREAM_KEY",
            "SCALE_UPSTREAM_KEY": "upstream-secret",
            "LLMLEDGER_ANOMALIES__ENABLED": "false",
            "LLMLEDGER_ADMIN_TOKEN": ADMIN,
            "LLMLEDGER_SERVER__LOG_LEVEL": "warning",
            "LLMLEDGER_ORGANISATION__ANNUAL_BUDGET_USD": "900000",
            "LLMLEDGER_ORGANISATION__MONTHLY_BUDGET_USD": "75000",
        }
    )
    return env


def serve_args(port: int) -> list[str]:
    return [str(ROOT / ".venv" / "bin" / "llmledger"), "serve", "--port", str(port)]


# --- databases --------------------------------------------------------------------------


def db_url(server: str, name: str) -> str:
    return f"{server.rstrip('/')}/{name}"


def recreate_db(server: str, name: str) -> str:
    with psycopg.connect(db_url(server, "postgres"), autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{name}"')
    return db_url(server, name)


def drop_db(server: str, name: str) -> None:
    with psycopg.connect(db_url(server, "postgres"), autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# --- 1. gateway replicas ----------------------------------------------------------------


@dataclass
class Load:
    rps: float
    p50_ms: float
    p99_ms: float
    requests: int


_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3}


def parse_wrk(out: str) -> Load:
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if errors:
        raise RuntimeError(f"{errors.group(1)} failed responses:\n{out}")

    def pct(p: str) -> float:
        m = re.search(rf"\s{p}%\s+([\d.]+)(us|ms|s)\b", out)
        assert m, out
        return float(m.group(1)) * _UNITS[m.group(2)]

    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    count = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    return Load(rps, pct("50"), pct("99"), count)


def wrk_many(urls: list[str], script: Path, connections: int, duration: float) -> Load:
    """One wrk per URL at once, the connections split evenly; summed rates, worst p99."""
    per = max(1, connections // len(urls))
    procs = [
        subprocess.Popen(
            [
                "wrk",
                "-t1",
                f"-c{per}",
                f"-d{max(1, round(duration))}s",
                "--latency",
                "-s",
                str(script),
                url,
            ],
            stdout=subprocess.PIPE,
            text=True,
        )
        for url in urls
    ]
    loads = [parse_wrk(p.communicate()[0]) for p in procs]
    return Load(
        sum(x.rps for x in loads),
        max(x.p50_ms for x in loads),
        max(x.p99_ms for x in loads),
        sum(x.requests for x in loads),
    )


def commit_latency(url: str, n: int = 300) -> tuple[float, float]:
    """p50/p99 ms of one durable commit of a one-row insert: the floor of a reservation,
    which must be committed before its call goes upstream."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("CREATE TABLE IF NOT EXISTS bench_commit (id bigserial, v int)")
        times = []
        for i in range(n):
            t0 = time.perf_counter()
            conn.execute("INSERT INTO bench_commit (v) VALUES (%s)", (i,))
            times.append((time.perf_counter() - t0) * 1e3)
        conn.execute("DROP TABLE bench_commit")
    times.sort()
    return statistics.median(times), times[int(n * 0.99) - 1]


def settled_events(url: str) -> int:
    with psycopg.connect(url) as conn:
        row = conn.execute("SELECT count(*) FROM events WHERE status = 'settled'").fetchone()
        assert row is not None
        return int(row[0])


_BUCKET = re.compile(r"^llmledger_added_latency_seconds_bucket\{([^}]*)\} ([\d.e+]+)$", re.M)


def added_latency_buckets(bases: list[str]) -> dict[float, float]:
    out: dict[float, float] = {}
    for base in bases:
        for labels, value in _BUCKET.findall(httpx.get(base + "/metrics", timeout=10).text):
            le = re.search(r'le="([^"]+)"', labels)
            assert le
            bound = float("inf") if le.group(1) == "+Inf" else float(le.group(1))
            out[bound] = out.get(bound, 0.0) + float(value)
    return out


def bucket_p99(before: dict[float, float], after: dict[float, float]) -> float:
    diff = {b: after.get(b, 0.0) - before.get(b, 0.0) for b in after}
    total = diff.get(float("inf"), 0.0)
    for bound in sorted(diff):
        if total and diff[bound] >= 0.99 * total:
            return bound * 1e3
    return float("nan")


def bench_gateway(args: argparse.Namespace, work: Path) -> None:
    if not shutil.which("wrk"):
        sys.exit("wrk is needed for the gateway part: apt-get install -y wrk")
    name = args.database + "_gw"
    url = recreate_db(args.pg, name)
    store = Store.open(url, UTC_ZONE)
    store.upgrade()
    with store.write() as conn:
        _, secret = keys.create_key(conn, department="Engineering", project="Scale", agent="wrk")
    store.close()
    script = work / "post.lua"
    script.write_text(
        'wrk.method = "POST"\n'
        f"wrk.body = {json.dumps(BODY)}\n"
        'wrk.headers["Content-Type"] = "application/json"\n'
        f'wrk.headers["Authorization"] = "Bearer {secret}"\n'
    )
    up_port = free_port()
    upstream = f"http://127.0.0.1:{up_port}"
    rows = []
    with ExitStack() as stack:
        up = stack.enter_context(
            process(upstream_process(up_port), dict(os.environ), work / "upstream.log")
        )
        wait_for_port(up_port, up)
        for n in args.replicas:
            direct = [upstream + "/v1/chat/completions"] * n
            ref = wrk_many(direct, script, args.connections, args.duration)
            light_ref = wrk_many(direct, script, n, args.duration / 2)
            commit = commit_latency(url)
            with ExitStack() as replicas:
                bases = []
                for i in range(n):
                    port = free_port()
                    proc = replicas.enter_context(
                        process(
                            serve_args(port),
                            serve_env(url, upstream + "/v1"),
                            work / f"serve-{n}-{i}.log",
                        )
                    )
                    base = f"http://127.0.0.1:{port}"
                    wait_http(base + "/readyz", proc)
                    bases.append(base)
                urls = [b + "/openai/v1/chat/completions" for b in bases]
                wrk_many(urls, script, args.connections, 2)  # warm up
                time.sleep(1)
                before, buckets0 = settled_events(url), added_latency_buckets(bases)
                load = wrk_many(urls, script, args.connections, args.duration)
                in_window = settled_events(url) - before
                buckets1 = added_latency_buckets(bases)
                landed = drained_count(url, before, load.requests)
                if landed < load.requests:
                    raise RuntimeError(f"{load.requests} calls served, {landed} events stored")
                light = wrk_many(urls, script, n, args.duration / 2)
                own = bucket_p99(buckets0, buckets1)
                rows.append(
                    (n, ref, load, in_window / args.duration, own, commit, light_ref, light)
                )
    drop_db(args.pg, name)
    print(
        f"\n## Gateway replicas on PostgreSQL ({args.connections} connections, "
        f"{args.duration:.0f}s each, {os.cpu_count()} cores shared by everything)\n"
    )
    print(
        "| replicas | calls/s | events/s into the store (during the load) | p99 ms (gateway) | "
        "p99 ms (upstream direct, same run) | p99 added ms | gateway's own added-latency "
        "p99 bucket ms | calls/s vs 1 replica |"
    )
    print("|---|---|---|---|---|---|---|---|")
    first = rows[0][2].rps if rows else 1.0
    for n, ref, load, eps, own, *_ in rows:
        print(
            f"| {n} | {load.rps:,.0f} | {eps:,.0f} | {load.p99_ms:.2f} | {ref.p99_ms:.2f} | "
            f"{load.p99_ms - ref.p99_ms:.2f} | {own:g} | {load.rps / first:.2f} |"
        )
    print(
        "\nNot saturated: one connection per replica (each call waits for the last).\n\n"
        "| replicas | p50 / p99 ms (gateway) | p50 / p99 ms (upstream direct, same run) | "
        "p50 / p99 added ms | one PostgreSQL commit p50 / p99 ms (same run) | "
        "added p50 / commit p50 |\n|---|---|---|---|---|---|"
    )
    for n, *_, commit, light_ref, light in rows:
        added = light.p50_ms - light_ref.p50_ms
        print(
            f"| {n} | {light.p50_ms:.2f} / {light.p99_ms:.2f} | "
            f"{light_ref.p50_ms:.2f} / {light_ref.p99_ms:.2f} | "
            f"{added:.2f} / {light.p99_ms - light_ref.p99_ms:.2f} | "
            f"{commit[0]:.2f} / {commit[1]:.2f} | {added / commit[0]:.1f} |"
        )
    print(
        "\n(upstream direct: same connections, calls/s "
        + ", ".join(f"{n} wrk: {ref.rps:,.0f}" for n, ref, *_ in rows)
        + ")"
    )


def wait_for_port(port: int, proc: subprocess.Popen[bytes], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{proc.args!r} exited with {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listens on {port}")


def drained_count(url: str, before: int, served: int, timeout: float = 60) -> int:
    """Settled events added since `before`, once the writers have flushed them all."""
    deadline = time.monotonic() + timeout
    landed = settled_events(url) - before
    while landed < served and time.monotonic() < deadline:
        time.sleep(0.2)
        landed = settled_events(url) - before
    return landed


# --- 2. the executive view over many events ---------------------------------------------

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


def bench_view(args: argparse.Namespace, work: Path) -> None:
    now = datetime.now(UTC)
    print(
        f"\n## Executive view over raw events partitioned by month ({args.months} months, "
        f"{args.requests} requests each)\n\n"
        "| events | fill s | database | /healthz p50/p95 ms (reference) | "
        "/api/v1/summary p50/p95 ms | summary p95 / healthz p95 | /api/v1/events page "
        "p50/p95 ms | look up 1,000 ids: by id alone (every partition) / by id in their "
        "time range ms | import 1,000 new records s | retention: drop oldest month s "
        "(events) |\n|---|---|---|---|---|---|---|---|---|---|",
        flush=True,
    )
    rows = []
    for count in args.events:
        url = recreate_db(args.pg, args.database)
        try:
            store = Store.open(url, UTC_ZONE)
            store.upgrade()
            store.close()
            print(f"filling {count:,} events ...", file=sys.stderr, flush=True)
            t0 = time.perf_counter()
            resumed("fill", args.pg, fill, url, count, args.months, now)
            fill_s = time.perf_counter() - t0
            size = db_size(url)

            def views(url: str, count: int) -> tuple[tuple[float, float], ...]:
                port = free_port()
                base = f"http://127.0.0.1:{port}"
                env = serve_env(url, "http://127.0.0.1:9/v1")
                with process(serve_args(port), env, work / f"view-{count}.log") as proc:
                    wait_http(base + "/readyz", proc)
                    headers = {"Authorization": f"Bearer {ADMIN}"}
                    with httpx.Client(base_url=base, headers=headers, timeout=60) as client:
                        return (
                            timed_gets(client, "/healthz", args.requests),
                            timed_gets(client, "/api/v1/summary", args.requests),
                            timed_gets(client, "/api/v1/events?limit=50", args.requests),
                        )

            health, summary, page = resumed("views", args.pg, views, url, count)
            lookups = resumed("look-ups", args.pg, lookup_cost, url)
            imported = resumed("import", args.pg, import_new, url, now)
            dropped_s, dropped = resumed(
                "retention", args.pg, drop_oldest_month, url, now, args.months
            )
        finally:
            if not args.keep:
                drop_db(args.pg, args.database)
        rows.append((count, health, summary))
        print(
            f"| {count:,} | {fill_s:.0f} | {size} | {health[0]:.2f} / {health[1]:.2f} | "
            f"{summary[0]:.2f} / {summary[1]:.2f} | {summary[1] / health[1]:.1f} | "
            f"{page[0]:.2f} / {page[1]:.2f} | {lookups[0]:.1f} / {lookups[1]:.1f} | "
            f"{imported:.2f} | {dropped_s:.1f} ({dropped:,}) |",
            flush=True,
        )
    if len(rows) > 1:
        a, b = rows[0], rows[-1]
        print(
            f"\nsummary p95 at {b[0]:,} events / at {a[0]:,}: {b[2][1] / a[2][1]:.2f} "
            f"(events x{b[0] / a[0]:.0f}); against the same run's /healthz: "
            f"{b[2][1] / b[1][1]:.1f} vs {a[2][1] / a[1][1]:.1f}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pg", default="postgresql://postgres@127.0.0.1:5432")
    parser.add_argument("--database", default="llmledger_scale")
    parser.add_argument("--replicas", default="1,2,4")
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--duration", type=float, default=10.0)
    parser.add_argument("--events", default="10000000,100000000", help="comma-separated counts")
    parser.add_argument("--months", type=int, default=24)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--skip-gateway", action="store_true")
    parser.add_argument("--skip-view", action="store_true")
    parser.add_argument("--keep", action="store_true", help="keep the view's database")
    args = parser.parse_args()
    args.replicas = [int(x) for x in args.replicas.split(",")]
    args.events = [int(x.replace("_", "")) for x in args.events.split(",")]
    with tempfile.TemporaryDirectory(prefix="llmledger-scale-") as tmp:
        work = Path(tmp)
        if not args.skip_gateway:
            bench_gateway(args, work)
        if not args.skip_view:
            bench_view(args, work)


if __name__ == "__main__":
    main()
