"""Keeping the providers' reports: importing one replaces the provider's days it covers,
in one transaction, so a corrected report never counts twice."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from sqlalchemy import Connection, delete, func, select

from llmledger.ledger import schema
from llmledger.ledger.event import to_us
from llmledger.ledger.store import Store
from llmledger.money import format_usd
from llmledger.reconcile.formats import parse_report, provider_id
from llmledger.reconcile.formats.base import CostLine


@dataclass(slots=True)
class ReportImport:
    provider: str
    report_format: str
    rows: int = 0
    replaced: int = 0
    skipped: int = 0
    days: list[date] = field(default_factory=list)
    cost_nanos: int = 0
    credits_nanos: int = 0
    errors: list[tuple[str, str]] = field(default_factory=list)

    def as_json(self) -> dict[str, object]:
        return {
            "provider": self.provider,
            "format": self.report_format,
            "rows": self.rows,
            "replaced": self.replaced,
            "skipped": self.skipped,
            "from": self.days[0].isoformat() if self.days else None,
            "to": self.days[-1].isoformat() if self.days else None,
            "days": len(self.days),
            "cost_usd": format_usd(self.cost_nanos),
            "credits_usd": format_usd(self.credits_nanos),
            "errors": [{"where": w, "error": e} for w, e in self.errors],
        }


def store_lines(
    conn: Connection,
    provider: str,
    report_format: str,
    lines: list[CostLine],
    *,
    source: str = "",
    now: datetime | None = None,
) -> tuple[int, int]:
    """Replace the provider's rows on the days `lines` cover; (rows written, rows replaced)."""
    sums: dict[tuple[date, str, str], list[int]] = defaultdict(lambda: [0, 0])
    for line in lines:
        acc = sums[(line.day, line.model, line.line_item)]
        acc[0] += line.cost_nanos
        acc[1] += line.credits_nanos
    days = sorted({d for d, _, _ in sums})
    t = schema.provider_costs
    replaced = 0
    for start in range(0, len(days), 500):
        chunk = [d.isoformat() for d in days[start : start + 500]]
        replaced += (
            conn.execute(delete(t).where(t.c.provider == provider, t.c.day.in_(chunk))).rowcount
            or 0
        )
    stamp = to_us(now or datetime.now(UTC))
    if sums:
        conn.execute(
            t.insert(),
            [
                {
                    "provider": provider,
                    "day": d.isoformat(),
                    "model": model[:300],
                    "line_item": item[:300],
                    "cost_nanos": cost,
                    "credits_nanos": credits,
                    "report_format": report_format,
                    "source": source[:300],
                    "imported_us": stamp,
                }
                for (d, model, item), (cost, credits) in sorted(sums.items())
            ],
        )
    return len(sums), replaced


def import_report(
    store: Store, provider: str, data: bytes, *, source: str = "", now: datetime | None = None
) -> ReportImport:
    """Read a provider's cost report and keep its lines (the good ones, if some are bad)."""
    pid = provider_id(provider)
    fmt, parsed = parse_report(pid, data)
    result = ReportImport(pid, fmt, skipped=parsed.skipped, errors=parsed.errors)
    result.days = sorted({line.day for line in parsed.lines})
    result.cost_nanos = sum(line.cost_nanos for line in parsed.lines)
    result.credits_nanos = sum(line.credits_nanos for line in parsed.lines)
    with store.write() as conn:
        result.rows, result.replaced = store_lines(
            conn, pid, fmt, parsed.lines, source=source, now=now
        )
    return result


def imported_providers(conn: Connection, start: date, end: date) -> dict[str, tuple[str, str]]:
    """Providers with a report in the dates, and the first and last day it covers."""
    t = schema.provider_costs
    rows = conn.execute(
        select(t.c.provider, func.min(t.c.day), func.max(t.c.day))
        .where(t.c.day >= start.isoformat(), t.c.day <= end.isoformat())
        .group_by(t.c.provider)
    )
    return {p: (str(lo), str(hi)) for p, lo, hi in rows}
