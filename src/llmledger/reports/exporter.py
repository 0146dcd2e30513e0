"""Export events as usage records (CSV), one row per event, the ledger's cost included."""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterator
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import TextIO
from zoneinfo import ZoneInfo

from sqlalchemy import select

from llmledger.ledger import schema
from llmledger.ledger.event import from_us, to_us
from llmledger.ledger.rollups import COUNTED_STATUSES
from llmledger.ledger.store import Store
from llmledger.money import format_usd
from llmledger.reports.records import CSV_COLUMNS


def local_bounds_us(start: date, end: date, zone: ZoneInfo) -> tuple[int, int]:
    """[start 00:00, end+1 00:00) in the zone, as epoch microseconds."""
    lo = datetime.combine(start, time(0), zone)
    hi = datetime.combine(end + timedelta(days=1), time(0), zone)
    return to_us(lo), to_us(hi)


def _quantity(milli: int) -> str:
    value = Decimal(milli) / 1000
    return str(int(value)) if value == value.to_integral_value() else format(value, "f")


def export_rows(
    store: Store, start: date, end: date, *, chunk: int = 20_000
) -> Iterator[dict[str, str]]:
    lo, hi = local_bounds_us(start, end, store.zone)
    e, u = schema.events, schema.event_usage
    last_ts, last_id = lo - 1, ""
    while True:
        with store.read() as conn:
            page = (
                conn.execute(
                    select(e)
                    .where(
                        e.c.ts_us >= lo,
                        e.c.ts_us < hi,
                        e.c.status.in_(COUNTED_STATUSES),
                        (e.c.ts_us > last_ts) | ((e.c.ts_us == last_ts) & (e.c.id > last_id)),
                    )
                    .order_by(e.c.ts_us, e.c.id)
                    .limit(chunk)
                )
                .mappings()
                .all()
            )
            if not page:
                return
            ids = [r["id"] for r in page]
            usage: dict[str, dict[str, int]] = {}
            for start_i in range(0, len(ids), 900):
                for row in conn.execute(
                    select(u.c.event_id, u.c.usage_type, u.c.quantity_milli).where(
                        u.c.event_id.in_(ids[start_i : start_i + 900])
                    )
                ):
                    usage.setdefault(row[0], {})[row[1]] = row[2]
        for r in page:
            out = {
                "id": r["id"],
                "timestamp": from_us(r["ts_us"]).isoformat(),
                "provider": r["provider"],
                "model": r["model_used"],
                "department": r["department"],
                "project": r["project"],
                "agent": r["agent"],
                "end_user": r["end_user"],
                "operation": r["operation"],
                "cost_usd": format_usd(r["cost_nanos"]),
            }
            for usage_type, milli in usage.get(r["id"], {}).items():
                out[usage_type] = _quantity(milli)
            yield out
        last_ts, last_id = page[-1]["ts_us"], page[-1]["id"]


def write_csv(
    store: Store,
    start: date,
    end: date,
    out: TextIO,
    progress: Callable[[int], None] | None = None,
) -> int:
    writer = csv.DictWriter(out, fieldnames=list(CSV_COLUMNS), lineterminator="\n")
    writer.writeheader()
    count = 0
    for row in export_rows(store, start, end):
        writer.writerow(row)
        count += 1
        if progress and count % 10_000 == 0:
            progress(10_000)
    if progress:
        progress(count % 10_000)
    return count
