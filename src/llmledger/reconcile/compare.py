"""The ledger against the providers' reports, by UTC day, provider and model.

The providers bill by UTC day, so the ledger side is read from the hourly rollups (UTC
hours), not the daily ones (the organisation's local days). A provider is compared only
on the days its imported report covers; the amounts compared are the report's costs
before credits, and credits are shown on their own.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from sqlalchemy import Connection, func, select

from llmledger.analytics import periods
from llmledger.ledger import schema
from llmledger.ledger.event import to_us
from llmledger.money import exact, format_usd
from llmledger.reconcile import explain
from llmledger.reconcile.models import match_model
from llmledger.reconcile.store import imported_providers

DAY_US = 86_400_000_000
DEFAULT_TOLERANCE = Decimal("0.01")
PROVIDERS = ("openai", "anthropic", "google", "bedrock")


@dataclass(slots=True)
class Cell:
    """One day, provider and model: what each side says."""

    day: str
    provider: str
    model: str
    ledger_nanos: int = 0
    invoice_nanos: int = 0
    credits_nanos: int = 0
    unpriced_calls: int = 0
    report_names: set[str] = field(default_factory=set)

    @property
    def status(self) -> str:
        if self.ledger_nanos and self.invoice_nanos:
            return "matched"
        if self.invoice_nanos:
            return "invoice_only"
        return "ledger_only" if self.ledger_nanos else "credits_only"

    @property
    def difference_nanos(self) -> int:
        return self.invoice_nanos - self.ledger_nanos

    def as_json(self) -> dict[str, object]:
        return {
            "day": self.day,
            "provider": self.provider,
            "model": self.model,
            "status": self.status,
            "ledger_usd": format_usd(self.ledger_nanos),
            "invoice_usd": format_usd(self.invoice_nanos),
            "difference_usd": format_usd(self.difference_nanos),
            "credits_usd": format_usd(self.credits_nanos),
        }


def percent(difference: int, base: int) -> Decimal | None:
    if base == 0:
        return None
    return exact().divide(Decimal(difference) * 100, Decimal(base)).quantize(Decimal("0.01"))


def _pct(value: Decimal | None) -> str | None:
    return None if value is None else format(value, "f")


@dataclass(slots=True)
class DayLine:
    day: str
    provider: str
    cells: list[Cell]
    flagged: bool = False
    causes: list[explain.Cause] = field(default_factory=list)

    @property
    def ledger_nanos(self) -> int:
        return sum(c.ledger_nanos for c in self.cells)

    @property
    def invoice_nanos(self) -> int:
        return sum(c.invoice_nanos for c in self.cells)

    @property
    def difference_nanos(self) -> int:
        return self.invoice_nanos - self.ledger_nanos

    @property
    def difference_percent(self) -> Decimal | None:
        return percent(self.difference_nanos, self.ledger_nanos)

    def as_json(self) -> dict[str, object]:
        return {
            "day": self.day,
            "provider": self.provider,
            "ledger_usd": format_usd(self.ledger_nanos),
            "invoice_usd": format_usd(self.invoice_nanos),
            "difference_usd": format_usd(self.difference_nanos),
            "difference_percent": _pct(self.difference_percent),
            "flagged": self.flagged,
            "models": [c.as_json() for c in self.cells if c.difference_nanos],
            "causes": [c.as_json() for c in self.causes],
        }


@dataclass(slots=True)
class Reconciliation:
    month: str
    start: date
    end: date
    tolerance: Decimal
    coverage: dict[str, tuple[str, str]]
    cells: list[Cell]
    days: list[DayLine]
    causes: list[explain.Cause]
    missing: list[str]

    def _sum(self, status: str | None, side: str) -> int:
        return sum(getattr(c, side) for c in self.cells if status is None or c.status == status)

    def totals(self) -> dict[str, object]:
        ledger, invoice = self._sum(None, "ledger_nanos"), self._sum(None, "invoice_nanos")
        return {
            "ledger_usd": format_usd(ledger),
            "invoice_usd": format_usd(invoice),
            "matched_ledger_usd": format_usd(self._sum("matched", "ledger_nanos")),
            "matched_invoice_usd": format_usd(self._sum("matched", "invoice_nanos")),
            "ledger_only_usd": format_usd(self._sum("ledger_only", "ledger_nanos")),
            "invoice_only_usd": format_usd(self._sum("invoice_only", "invoice_nanos")),
            "credits_usd": format_usd(self._sum(None, "credits_nanos")),
            "difference_usd": format_usd(invoice - ledger),
            "difference_percent": _pct(percent(invoice - ledger, ledger)),
        }

    def by_provider(self) -> list[dict[str, object]]:
        out: list[dict[str, object]] = []
        for provider, (lo, hi) in sorted(self.coverage.items()):
            cells = [c for c in self.cells if c.provider == provider]
            ledger = sum(c.ledger_nanos for c in cells)
            invoice = sum(c.invoice_nanos for c in cells)
            out.append(
                {
                    "provider": provider,
                    "from": lo,
                    "to": hi,
                    "ledger_usd": format_usd(ledger),
                    "invoice_usd": format_usd(invoice),
                    "difference_usd": format_usd(invoice - ledger),
                    "difference_percent": _pct(percent(invoice - ledger, ledger)),
                    "credits_usd": format_usd(sum(c.credits_nanos for c in cells)),
                    "flagged_days": sum(
                        1 for d in self.days if d.provider == provider and d.flagged
                    ),
                }
            )
        return out

    def as_json(self) -> dict[str, object]:
        return {
            "month": self.month,
            "from": self.start.isoformat(),
            "to": self.end.isoformat(),
            "tolerance_percent": format((self.tolerance * 100).normalize(), "f"),
            "totals": self.totals(),
            "providers": self.by_provider(),
            "flagged": [d.as_json() for d in self.days if d.flagged],
            "causes": [c.as_json() for c in self.causes],
            "missing_reports": self.missing,
            "rows": [c.as_json() for c in self.cells],
        }


def parse_month(text: str) -> tuple[date, date]:
    try:
        first = datetime.strptime(text, "%Y-%m").date()
    except ValueError:
        raise ValueError(f"month: expected YYYY-MM, got {text[:20]!r}") from None
    return first, periods.month_end(first)


def _ledger(
    conn: Connection, provider: str, start: date, end: date
) -> dict[tuple[str, str], tuple[int, int]]:
    """(UTC day, model) -> (cost, unpriced calls) of one provider, from the hourly rollups."""
    t = schema.calls_hourly
    lo = to_us(datetime.combine(start, time(), UTC))
    hi = to_us(datetime.combine(end + timedelta(days=1), time(), UTC))
    day_index = (t.c.hour_us // DAY_US).label("d")
    rows = conn.execute(
        select(day_index, t.c.model, func.sum(t.c.cost_nanos), func.sum(t.c.unpriced_calls))
        .where(t.c.provider == provider, t.c.hour_us >= lo, t.c.hour_us < hi)
        .group_by(day_index, t.c.model)
    )
    epoch = date(1970, 1, 1)
    return {
        ((epoch + timedelta(days=int(d))).isoformat(), str(m)): (int(c), int(u))
        for d, m, c, u in rows
    }


def _ledger_providers(conn: Connection, start: date, end: date) -> set[str]:
    t = schema.calls_hourly
    lo = to_us(datetime.combine(start, time(), UTC))
    hi = to_us(datetime.combine(end + timedelta(days=1), time(), UTC))
    return {
        str(p)
        for p in conn.execute(
            select(t.c.provider)
            .distinct()
            .where(t.c.hour_us >= lo, t.c.hour_us < hi, t.c.cost_nanos > 0)
        ).scalars()
    }


def reconcile(
    conn: Connection,
    month: str,
    *,
    tolerance: Decimal = DEFAULT_TOLERANCE,
    provider: str | None = None,
) -> Reconciliation:
    """Compare the month's imported reports with the ledger; flag each (day, provider)
    whose difference is above `tolerance` (a fraction: 0.01 is 1%) of the ledger's."""
    start, end = parse_month(month)
    coverage = imported_providers(conn, start, end)
    if provider is not None:
        coverage = {p: v for p, v in coverage.items() if p == provider}
    missing = sorted(
        p
        for p in _ledger_providers(conn, start, end) - set(coverage)
        if provider is None or p == provider
    )
    t = schema.provider_costs
    cells: dict[tuple[str, str, str], Cell] = {}
    for pid, (lo, hi) in sorted(coverage.items()):
        ledger = _ledger(conn, pid, date.fromisoformat(lo), date.fromisoformat(hi))
        models = sorted({m for _, m in ledger})
        for (day, model), (cost, unpriced) in ledger.items():
            cell = cells.setdefault((day, pid, model), Cell(day, pid, model))
            cell.ledger_nanos += cost
            cell.unpriced_calls += unpriced
        rows = conn.execute(
            select(t.c.day, t.c.model, func.sum(t.c.cost_nanos), func.sum(t.c.credits_nanos))
            .where(t.c.provider == pid, t.c.day >= lo, t.c.day <= hi)
            .group_by(t.c.day, t.c.model)
        )
        matched: dict[str, str] = {}
        for day, name, cost, credits in rows:
            if name not in matched:
                matched[name] = match_model(name, models) or name
            model = matched[name]
            cell = cells.setdefault((day, pid, model), Cell(day, pid, model))
            cell.invoice_nanos += int(cost)
            cell.credits_nanos += int(credits)
            if name:
                cell.report_names.add(name)
    ordered = sorted(cells.values(), key=lambda c: (c.day, c.provider, c.model))
    grouped: dict[tuple[str, str], list[Cell]] = defaultdict(list)
    for cell in ordered:
        grouped[(cell.day, cell.provider)].append(cell)
    days = [DayLine(d, p, cs) for (d, p), cs in sorted(grouped.items())]
    for line in days:
        base = max(line.ledger_nanos, line.invoice_nanos)
        line.flagged = abs(line.difference_nanos) > tolerance * base
    causes = explain.explain(ordered, days, missing, tolerance)
    return Reconciliation(month, start, end, tolerance, coverage, ordered, days, causes, missing)
