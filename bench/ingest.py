"""Ingest throughput and the cost of the executive summary as events grow.

    python bench/ingest.py [--events 1000000] [--big 10000000] [--postgres URL]

Writes a JSONL file of realistic usage records, imports it with the real importer (the
same code as `llmledger import`) into SQLite (and PostgreSQL when a URL is given), and
prints events/s. Then times `report summary` (which reads the rollups) at the first size
and after growing the store to --big events, and prints both and their ratio: the
summary's time should not depend on the number of events.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

from llmledger.analytics.summary import summary
from llmledger.ledger.store import Store
from llmledger.pricing import PriceCatalog
from llmledger.reports.importer import import_file

ZONE = ZoneInfo("America/New_York")
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


def write_records(path: Path, count: int, start_index: int, end: datetime) -> None:
    rng = random.Random(start_index)
    span = 365 * 86_400
    depts = list(DEPARTMENTS.items())
    with path.open("w", encoding="utf-8") as out:
        for i in range(start_index, start_index + count):
            dept, projects = depts[i % len(depts)]
            agent = rng.randrange(7)
            provider, model = MODELS[(agent + i % 2) % len(MODELS)]
            ts = end - timedelta(seconds=rng.randrange(span))
            out.write(
                json.dumps(
                    {
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
                )
                + "\n"
            )


def import_rate(store: Store, path: Path, count: int) -> float:
    catalog = PriceCatalog.build()
    started = time.perf_counter()
    report = import_file(path, store, catalog, batch_size=20_000)
    elapsed = time.perf_counter() - started
    assert report.imported == count and not report.errors, report.errors[:3]
    return count / elapsed


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


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument(
        "--big",
        type=int,
        default=0,
        help="grow the SQLite store to this many events and time the summary again",
    )
    parser.add_argument("--postgres", default="", help="also import into this PostgreSQL URL")
    args = parser.parse_args()
    end = datetime(2026, 12, 1, tzinfo=UTC)
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "usage.jsonl"
        write_records(data, args.events, 0, end)
        store = Store.open(f"sqlite:///{tmp}/bench.db", ZONE)
        store.upgrade()
        rate = import_rate(store, data, args.events)
        print(
            f"SQLite import: {args.events:,} events at {rate:,.0f} events/s "
            f"(goal 50,000; ratio {rate / 50_000:.2f})"
        )
        small = summary_ms(store, end.date())
        print(f"report summary at {args.events:,} events: {small:.1f} ms (goal < 100 ms)")
        if args.postgres:
            pg = Store.open(args.postgres, ZONE)
            pg.upgrade()
            pg_rate = import_rate(pg, data, args.events)
            print(
                f"PostgreSQL import: {pg_rate:,.0f} events/s (ratio to SQLite {pg_rate / rate:.2f})"
            )
            print(f"report summary on PostgreSQL: {summary_ms(pg, end.date()):.1f} ms")
            pg.close()
        grown = args.events
        while grown < args.big:
            batch = min(args.events, args.big - grown)
            write_records(data, batch, grown, end)
            import_rate(store, data, batch)
            grown += batch
            print(f"  grown to {grown:,} events")
        if args.big:
            big = summary_ms(store, end.date())
            print(
                f"report summary at {grown:,} events: {big:.1f} ms "
                f"(ratio to {args.events:,}: {big / small:.2f})"
            )
        store.close()


if __name__ == "__main__":
    main()
