"""Ingest throughput, with its floor, and the cost of the executive summary as events grow.

    python bench/ingest.py [--events 1000000] [--big 10000000] [--postgres URL]
                           [--batch-size 10000] [--days 365] [--order shuffled|time]
                           [--grow copies|import] [--keep DIR] [--no-references]

Writes a JSONL file of realistic usage records (6 departments, 7 agents each, 5 models,
three token types per call, timestamps over the last ``--days`` days, in file order
``shuffled`` or ``time``), imports it with the real importer (the same code as
`llmledger import`) into a fresh SQLite store and, with ``--postgres``, into a fresh
PostgreSQL database, and prints events/s by wall clock and by this process's CPU time
(the machine may be shared: the load average is printed too; run it under
``taskset -c 0`` for the one-core figure).

Two references from the same run show the floor under the importer: the same rows
written again by `record_rows` into a fresh store (dedupe, inserts and rollups, no
reading, validation or pricing), and the event and usage rows alone by ``executemany``
(``COPY`` on PostgreSQL; no rollups, no dedupe): what the database itself costs per
event. A third, on SQLite: the rows and their rollup rows, the batch's sums added up
before the clock starts, written by ``executemany`` alone: what SQLite itself costs per
event with this schema, rollups included, with no Python per event (the ceiling of any
importer written over it). All get the importer's SQLite page cache.

Then `report summary` (which reads rollups) is timed at ``--events`` and at ``--big``
events; their ratio should stay near 1. The store reaches ``--big`` either by copies of
the imported events in SQL (``--grow copies``, the default and fast: new ids, times a few
microseconds later, every rollup sum multiplied by the number of copies, which equals
their recomputation) or by importing further generated files (``--grow import``; the
next file is written by a second process while one is imported).
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
import uuid
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from tempfile import TemporaryDirectory
from zoneinfo import ZoneInfo

import orjson
import psycopg
from sqlalchemy import Connection

from llmledger.analytics.summary import summary
from llmledger.ledger import rollups, schema
from llmledger.ledger.recording import BULK_COLUMNS, BulkRow, _batch_sums, record_rows
from llmledger.ledger.rollups import CALL_FIELDS, USAGE_FIELDS
from llmledger.ledger.store import Store
from llmledger.pricing import PriceCatalog
from llmledger.reports.importer import BULK_CACHE_KIB, import_file

ZONE = ZoneInfo("America/New_York")
END = datetime(2026, 12, 1, tzinfo=UTC)
MODELS = [
    ("openai", "gpt-4o"),
    ("openai", "gpt-4o-mini"),
    ("anthropic", "claude-sonnet-4-5"),
    ("google", "gemini-2.5-flash"),
    ("bedrock", "amazon.nova-pro-v1:0"),
]
DEPARTMENTS = {
    "Engineering": ["Backend", "QA", "DevOps"],
    "Sales": ["CRM", "Outreach"],
    "Marketing": ["Content", "SEO"],
    "Finance": ["Invoices"],
    "Operations": ["Tickets"],
    "Support": ["Helpdesk"],
}
USAGE_COLUMNS = ("event_id", "usage_type", "quantity_milli", "cost_nanos", "list_cost_nanos")


def write_records(path: Path, count: int, start_index: int, days: int, order: str) -> Path:
    """`count` records with ids ``b{start_index}``...; returns `path`."""
    rng = random.Random(start_index)
    span = days * 86_400
    offsets = [rng.randrange(span) for _ in range(count)]
    if order == "time":
        offsets.sort(reverse=True)
    depts = list(DEPARTMENTS.items())
    with path.open("wb") as out:
        for n, i in enumerate(range(start_index, start_index + count)):
            dept, projects = depts[i % len(depts)]
            agent = rng.randrange(7)
            provider, model = MODELS[(agent + i % 2) % len(MODELS)]
            ts = END - timedelta(seconds=offsets[n])
            record = {
                "id": f"b{i}",
                "timestamp": ts.isoformat(),
                "provider": provider,
                "model": model,
                "department": dept,
                "project": projects[agent % len(projects)],
                "agent": f"agent-{agent}",
                "usage": {
                    "input_tokens": rng.randint(100, 20_000),
                    "cached_input_tokens": rng.randint(0, 5_000),
                    "output_tokens": rng.randint(10, 2_000),
                },
            }
            out.write(orjson.dumps(record) + b"\n")
    return path


class Clock:
    """Wall and CPU seconds of this process since `start`."""

    def __init__(self) -> None:
        self.wall = time.perf_counter()
        self.cpu = time.process_time()

    def rates(self, count: int) -> tuple[float, float, str]:
        wall = time.perf_counter() - self.wall
        cpu = time.process_time() - self.cpu
        text = f"{count / wall:,.0f} events/s wall ({wall:.1f} s), {count / cpu:,.0f} by CPU time"
        return count / wall, count / cpu, text


def load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f} {five:.2f} {fifteen:.2f} on {os.cpu_count()} cores"


def import_records(store: Store, path: Path, count: int, batch_size: int) -> Clock:
    catalog = PriceCatalog.build()
    clock = Clock()
    report = import_file(path, store, catalog, batch_size=batch_size, now=END)
    assert report.imported == count and not report.errors, report.errors[:3]
    return clock


def stored_rows(store: Store) -> list[BulkRow]:
    """The imported events back in the bulk row form, in import order."""
    with store.read() as conn:
        lines: dict[str, list[tuple[str, str, int, int, int]]] = {}
        usage = conn.exec_driver_sql(f"SELECT {', '.join(USAGE_COLUMNS)} FROM event_usage")
        for line in usage:
            lines.setdefault(line[0], []).append(tuple(line))  # type: ignore[arg-type]
        events = conn.exec_driver_sql(f"SELECT {', '.join(BULK_COLUMNS)} FROM events")
        rows = [(tuple(e), tuple(lines[e[0]])) for e in events]
    order = {f"b{i}": i for i in range(len(rows))}
    rows.sort(key=lambda r: order.get(str(r[0][0]), 0))
    return rows


def references(url: str, rows: list[BulkRow], batch_size: int) -> None:
    """The floors under the importer, each into a fresh store at `url`."""
    with fresh_store(url) as store:
        bulk_cache(store)
        clock = Clock()
        for start in range(0, len(rows), batch_size):
            with store.write() as conn:
                record_rows(conn, rows[start : start + batch_size], store.zone)
        print(f"  reference, record_rows (no parsing, no pricing): {clock.rates(len(rows))[2]}")
    with fresh_store(url) as store:
        bulk_cache(store)
        clock = Clock()
        raw_inserts(store, rows, batch_size)
        floor = clock.rates(len(rows))[2]
        print(f"  reference, the rows alone (executemany / COPY; floor): {floor}")
    if url.startswith("sqlite:///"):
        with fresh_store(url) as store:
            bulk_cache(store)
            ceiling = rows_and_rollups(store, rows, batch_size)
            print(
                "  reference, the rows and their rollup rows summed beforehand "
                f"(executemany only, no Python per event; ceiling): {ceiling}"
            )


def bulk_cache(store: Store) -> None:
    """The page cache the importer gives SQLite's writer, for the references too."""
    if store.dialect == "sqlite":
        with store.write() as conn:
            conn.exec_driver_sql(f"PRAGMA cache_size = -{BULK_CACHE_KIB}")


def raw_inserts(store: Store, rows: Sequence[BulkRow], batch_size: int) -> None:
    """The rows alone, as the bulk path writes them: ``executemany`` on SQLite, ``COPY``
    on PostgreSQL, one transaction per batch."""
    for start in range(0, len(rows), batch_size):
        with store.write() as conn:
            raw_inserts_into(conn, rows[start : start + batch_size])


def raw_inserts_into(conn: Connection, chunk: Sequence[BulkRow]) -> None:
    """One batch of event and usage rows, inside the caller's transaction."""
    lines = [line for r in chunk for line in r[1]]
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    for table, columns, values in (
        ("events", BULK_COLUMNS, [r[0] for r in chunk]),
        ("event_usage", USAGE_COLUMNS, lines),
    ):
        if conn.dialect.name == "postgresql":
            with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                for value in values:
                    copy.write_row(value)
        else:
            marks = ", ".join("?" * len(columns))
            cursor.executemany(
                f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", values
            )
    cursor.close()


def rows_and_rollups(store: Store, rows: Sequence[BulkRow], batch_size: int) -> str:
    """What SQLite itself costs per event with its rollups: each batch's rollup sums are
    added up before the clock starts, then the rows and the sums are written by
    ``executemany`` alone, one transaction per batch (SQLite only)."""
    batches = []
    for start in range(0, len(rows), batch_size):
        chunk = list(rows[start : start + batch_size])
        hourly_calls, daily_calls, hourly_usage, daily_usage = _batch_sums(chunk, store.zone)
        sums = (
            (schema.calls_hourly, CALL_FIELDS, hourly_calls),
            (schema.calls_daily, CALL_FIELDS, daily_calls),
            (schema.calls_monthly, CALL_FIELDS, rollups._months(daily_calls)),
            (schema.usage_hourly, USAGE_FIELDS, hourly_usage),
            (schema.usage_daily, USAGE_FIELDS, daily_usage),
            (schema.usage_monthly, USAGE_FIELDS, rollups._months(daily_usage)),
        )
        batches.append((chunk, sums))
    clock = Clock()
    for chunk, sums in batches:
        with store.write() as conn:
            raw_inserts_into(conn, chunk)
            cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
            for table, fields, values in sums:
                params = [(k[0], *k[1], *k[2:], *v) for k, v in values.items()]  # type: ignore[misc]
                cursor.executemany(rollups._upsert_sql(conn, table, fields), params)
            cursor.close()
    return clock.rates(len(rows))[2]


@contextmanager
def fresh_store(url: str) -> Iterator[Store]:
    """A new, migrated store: a new SQLite file in the folder of `url`, or a new
    PostgreSQL database on the server of `url` (dropped afterwards)."""
    if url.startswith("sqlite:///"):
        folder = Path(url.removeprefix("sqlite:///")).parent
        path = folder / f"fresh-{uuid.uuid4().hex[:8]}.db"
        store = Store.open(f"sqlite:///{path}", ZONE)
        store.upgrade()
        try:
            yield store
        finally:
            store.close()
            for suffix in ("", "-wal", "-shm"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)
        return
    name = f"llmledger_bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(url, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    store = Store.open(f"{url.rsplit('/', 1)[0]}/{name}", ZONE)
    try:
        store.upgrade()
        yield store
    finally:
        store.close()
        with psycopg.connect(url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def summary_ms(store: Store, as_of: date, runs: int = 15) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        with store.read() as conn:
            summary(
                conn,
                as_of,
                fiscal_start_month=1,
                annual_budget_usd=Decimal(80_000),
                monthly_budget_usd=Decimal(15_000),
            )
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def grow(
    store: Store, folder: Path, have: int, want: int, chunk: int, args: argparse.Namespace
) -> None:
    """Import records until the store holds `want` events; the next file is written by
    another process while one is imported."""
    clock = Clock()
    with ProcessPoolExecutor(max_workers=1) as pool:

        def submit(start: int) -> Future[Path]:
            size = min(chunk, want - start)
            path = folder / f"grow-{start % (2 * chunk)}.jsonl"
            return pool.submit(write_records, path, size, start, args.days, args.order)

        pending = submit(have) if have < want else None
        while pending is not None:
            path = pending.result()
            size = min(chunk, want - have)
            pending = submit(have + size) if have + size < want else None
            import_records(store, path, size, args.batch_size)
            have += size
            print(f"  grown to {have:,} events ({time.perf_counter() - clock.wall:.0f} s)")
            sys.stdout.flush()
    wall = time.perf_counter() - clock.wall
    print(f"grew the SQLite store to {have:,} events in {wall:.0f} s ({load()})")


def grow_by_copies(store: Store, have: int, want: int) -> None:
    """Grow to `want` events fast: copies of the `have` imported events, in SQL, each
    copy with new ids and a time a few microseconds later (the same hour and local day);
    every rollup sum is then multiplied by the number of copies, which is exactly what
    recomputing them from the events gives (`llmledger db rebuild-rollups` would agree).
    The rollup tables keep their number of rows: what the summary reads does not grow
    with the events here, as it does not in the data above once every day of the year
    holds calls."""
    if want % have:
        raise SystemExit("--big must be a multiple of --events")
    clock = Clock()
    columns = ", ".join(BULK_COLUMNS)
    rest = ", ".join(BULK_COLUMNS[2:])
    usage_rest = ", ".join(USAGE_COLUMNS[1:])
    for k in range(1, want // have):
        with store.write() as conn:
            conn.exec_driver_sql(
                f"INSERT INTO events ({columns}) SELECT id || '-{k}', ts_us + {k}, {rest} "
                "FROM events WHERE id NOT LIKE '%-%'"
            )
            conn.exec_driver_sql(
                f"INSERT INTO event_usage ({', '.join(USAGE_COLUMNS)}) "
                f"SELECT event_id || '-{k}', {usage_rest} FROM event_usage "
                "WHERE event_id NOT LIKE '%-%'"
            )
        print(f"  {have * (k + 1):,} events ({time.perf_counter() - clock.wall:.0f} s)")
        sys.stdout.flush()
    factor = want // have
    with store.write() as conn:
        for table in rollups.ROLLUP_TABLES:
            sums = [c.name for c in table.columns if c.name in CALL_FIELDS + USAGE_FIELDS]
            updates = ", ".join(f"{n} = {n} * {factor}" for n in sums)
            conn.exec_driver_sql(f"UPDATE {table.name} SET {updates}")
    wall = time.perf_counter() - clock.wall
    print(f"grew the SQLite store to {want:,} events by copies in {wall:.0f} s ({load()})")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--big", type=int, default=0, help="grow SQLite to this many events")
    parser.add_argument("--postgres", default="", help="server URL: import into a fresh db")
    parser.add_argument("--batch-size", type=int, default=10_000)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--order", choices=("shuffled", "time"), default="shuffled")
    parser.add_argument("--keep", default="", help="keep the SQLite store in this folder")
    parser.add_argument("--no-references", action="store_true")
    parser.add_argument(
        "--grow",
        choices=("copies", "import"),
        default="copies",
        help="reach --big by SQL copies of the imported events (fast) or by importing",
    )
    args = parser.parse_args()
    print(
        f"{args.events:,} records over {args.days} days in {args.order} order, "
        f"batches of {args.batch_size:,}; {load()}"
    )
    with TemporaryDirectory() as tmp:
        folder = Path(args.keep or tmp)
        folder.mkdir(parents=True, exist_ok=True)
        data = write_records(folder / "usage.jsonl", args.events, 0, args.days, args.order)
        db = folder / "bench.db"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{db}{suffix}").unlink(missing_ok=True)
        store = Store.open(f"sqlite:///{db}", ZONE)
        store.upgrade()
        wall_rate, _, text = import_records(store, data, args.events, args.batch_size).rates(
            args.events
        )
        print(f"SQLite import: {text} (goal 50,000; ratio {wall_rate / 50_000:.2f}); {load()}")
        rows = stored_rows(store) if not args.no_references else []
        if rows:
            references(f"sqlite:///{db}", rows, args.batch_size)
        small = summary_ms(store, END.date())
        print(f"report summary at {args.events:,} events: {small:.1f} ms (goal < 100 ms)")
        if args.postgres:
            with fresh_store(args.postgres) as pg:
                pg_rate, _, pg_text = import_records(pg, data, args.events, args.batch_size).rates(
                    args.events
                )
                print(f"PostgreSQL import: {pg_text} (ratio to SQLite {pg_rate / wall_rate:.2f})")
                print(f"report summary on PostgreSQL: {summary_ms(pg, END.date()):.1f} ms")
            if rows:
                references(args.postgres, rows, args.batch_size)
        if args.big > args.events:
            if args.grow == "import":
                grow(store, folder, args.events, args.big, args.events, args)
            else:
                grow_by_copies(store, args.events, args.big)
            big = summary_ms(store, END.date())
            print(
                f"report summary at {args.big:,} events: {big:.1f} ms "
                f"(ratio to {args.events:,}: {big / small:.2f}); {load()}"
            )
        store.close()


if __name__ == "__main__":
    main()
