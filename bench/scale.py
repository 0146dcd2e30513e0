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
   dropped afterwards unless ``--keep`` (with ``--reuse``, a fill cut off resumes in the
   existing database, which is kept when a step fails).

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
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar
from zoneinfo import ZoneInfo

import httpx
import psycopg

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(Path(__file__).parent))

from scale_data import (  # noqa: E402
    db_size,
    db_url,
    drop_oldest_month,
    fill,
    import_new,
    lookup_cost,
    resumed,
    timed_gets,
)

from gateway import wait_port  # noqa: E402
from llmledger.ledger import keys  # noqa: E402
from llmledger.ledger.store import Store  # noqa: E402

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


def recreate_db(server: str, name: str) -> str:
    with psycopg.connect(db_url(server, "postgres"), autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{name}"')
    return db_url(server, name)


def reuse_db(server: str, name: str) -> str:
    """The database `name`, created if missing: a fill cut off resumes where it stopped."""
    with psycopg.connect(db_url(server, "postgres"), autocommit=True) as admin:
        found = admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,))
        if found.fetchone() is None:
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
        wait_port(up_port, up)
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


def drained_count(url: str, before: int, served: int, timeout: float = 60) -> int:
    """Settled events added since `before`, once the writers have flushed them all."""
    deadline = time.monotonic() + timeout
    landed = settled_events(url) - before
    while landed < served and time.monotonic() < deadline:
        time.sleep(0.2)
        landed = settled_events(url) - before
    return landed


# --- 2. the executive view over many events ---------------------------------------------


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
        url = (reuse_db if args.reuse else recreate_db)(args.pg, args.database)
        done = False
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
            done = True
        finally:
            if not args.keep and (done or not args.reuse):
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
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="resume in an existing view database (one count), kept if a step fails",
    )
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
