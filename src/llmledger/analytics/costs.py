"""Breakdowns of cost and usage by any dimensions over a date range."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy import Connection

from llmledger.analytics.periods import DateRange
from llmledger.ledger import queries
from llmledger.money import format_usd

#: Public names of the dimensions (``key`` is the virtual key id).
DIMENSIONS = ("department", "project", "agent", "key", "provider", "model", "usage_type")
TIME_DIMENSIONS = ("day", "month")
_COLUMN = {"key": "key_id"}


class BreakdownError(ValueError):
    """A breakdown that cannot be computed (unknown dimension, bad filter)."""


@dataclass(slots=True)
class CostRow:
    key: dict[str, str]
    cost_nanos: int = 0
    calls: int = 0
    usage: dict[str, Decimal] = field(default_factory=dict)
    usage_cost_nanos: dict[str, int] = field(default_factory=dict)

    def as_json(self) -> dict[str, object]:
        out: dict[str, object] = dict(self.key)
        out["cost_usd"] = format_usd(self.cost_nanos)
        out["requests"] = self.calls
        out["usage"] = {k: _q(v) for k, v in self.usage.items()}
        out["usage_cost_usd"] = {k: format_usd(v) for k, v in self.usage_cost_nanos.items()}
        return out


@dataclass(slots=True)
class Breakdown:
    period: DateRange
    group_by: list[str]
    rows: list[CostRow]

    @property
    def total_nanos(self) -> int:
        return sum(r.cost_nanos for r in self.rows)

    def as_json(self) -> dict[str, object]:
        return {
            "from": self.period.start.isoformat(),
            "to": self.period.end.isoformat(),
            "group_by": self.group_by,
            "rows": [r.as_json() for r in self.rows],
            "total_usd": format_usd(self.total_nanos),
        }


def _q(value: Decimal) -> int | str:
    return int(value) if value == value.to_integral_value() else format(value.normalize(), "f")


def parse_group_by(text: str | Sequence[str]) -> list[str]:
    names = [n.strip() for n in text.split(",")] if isinstance(text, str) else list(text)
    names = [n for n in names if n]
    for n in names:
        if n not in DIMENSIONS and n not in TIME_DIMENSIONS:
            allowed = ", ".join(DIMENSIONS + TIME_DIMENSIONS)
            raise BreakdownError(f"cannot group by {n!r} (allowed: {allowed})")
    if len(set(names)) != len(names):
        raise BreakdownError("a dimension is named twice in group_by")
    return names


def breakdown(
    conn: Connection,
    period: DateRange,
    group_by: Sequence[str],
    filters: Mapping[str, str] | None = None,
) -> Breakdown:
    """Cost (and usage by type) per combination of `group_by` values, largest first."""
    names = parse_group_by(group_by)
    flt = {}
    for name, value in (filters or {}).items():
        if name not in DIMENSIONS or name == "usage_type":
            raise BreakdownError(f"cannot filter by {name!r}")
        flt[_COLUMN.get(name, name)] = value
    by_type = "usage_type" in names
    dims = [_COLUMN.get(n, n) for n in names if n != "usage_type"]
    rows: dict[tuple[str, ...], CostRow] = {}
    if not by_type:
        for s in queries.call_sums(conn, period.start, period.end, dims, flt):
            rows[s.key] = CostRow(dict(zip(names, s.key, strict=True)), s.cost_nanos, s.calls)
    for u in queries.usage_sums(conn, period.start, period.end, dims, flt):
        key = u.key + (u.usage_type,) if by_type else u.key
        row = rows.get(key)
        if row is None:
            labels = [n for n in names if n != "usage_type"] + (["usage_type"] if by_type else [])
            row = CostRow(dict(zip(labels, key, strict=True)))
            row.key = {n: row.key[n] for n in names}
            rows[key] = row
        if by_type:
            row.cost_nanos += u.cost_nanos
        row.usage[u.usage_type] = Decimal(u.quantity_milli) / 1000
        row.usage_cost_nanos[u.usage_type] = u.cost_nanos
    ordered = sorted(rows.values(), key=lambda r: (-r.cost_nanos, tuple(r.key.values())))
    return Breakdown(period, names, ordered)
