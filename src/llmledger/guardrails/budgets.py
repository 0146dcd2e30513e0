"""Budgets: a limit on a scope's spend per period, enforced (hard block) or advisory."""

from __future__ import annotations

import secrets
import time
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

import orjson
from sqlalchemy import Connection, select, update

from llmledger.guardrails.periods import Period
from llmledger.guardrails.scopes import Scope, parse_scope
from llmledger.ledger import schema
from llmledger.ledger.audit import record_change
from llmledger.money import format_usd, usd_to_nanos

DEFAULT_THRESHOLDS = (Decimal("0.8"), Decimal("0.9"))


class BudgetError(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class Budget:
    id: str
    scope: Scope
    period: Period
    limit_nanos: int
    enforced: bool
    thresholds: tuple[Decimal, ...]
    owners: tuple[str, ...]

    def as_json(self) -> dict[str, object]:
        return {
            "id": self.id,
            "scope": self.scope.text,
            "period": self.period.value,
            "limit_usd": format_usd(self.limit_nanos),
            "enforced": self.enforced,
            "thresholds": [format(t, "f") for t in self.thresholds],
            "owners": list(self.owners),
        }


def parse_thresholds(text: str | Sequence[Decimal | str]) -> tuple[Decimal, ...]:
    items = text.split(",") if isinstance(text, str) else list(text)
    out = []
    for item in items:
        try:
            value = Decimal(str(item).strip())
        except ArithmeticError:
            raise BudgetError(f"threshold {item!r} is not a number") from None
        if not value.is_finite() or not Decimal(0) < value < Decimal(1):
            raise BudgetError(f"threshold {item!r} must be a fraction between 0 and 1")
        out.append(value)
    return tuple(sorted(set(out)))


def _row(r: object) -> Budget:
    m = r._mapping  # type: ignore[attr-defined]
    return Budget(
        id=m["id"],
        scope=parse_scope(m["scope"]),
        period=Period(m["period"]),
        limit_nanos=int(m["limit_nanos"]),
        enforced=bool(m["enforced"]),
        thresholds=parse_thresholds(m["thresholds"]) if m["thresholds"] else (),
        owners=tuple(o for o in m["owners"].split(",") if o),
    )


def list_budgets(conn: Connection) -> list[Budget]:
    b = schema.budgets
    return [_row(r) for r in conn.execute(select(b).order_by(b.c.scope, b.c.period))]


def get_budget(conn: Connection, budget_id: str) -> Budget | None:
    row = conn.execute(select(schema.budgets).where(schema.budgets.c.id == budget_id)).first()
    return _row(row) if row else None


def set_budget(
    conn: Connection,
    *,
    scope: str,
    limit_usd: Decimal | str,
    period: Period = Period.MONTH,
    enforced: bool = True,
    thresholds: Sequence[Decimal] = DEFAULT_THRESHOLDS,
    owners: Sequence[str] = (),
    actor: str = "cli",
    reason: str | None = None,
) -> Budget:
    """Create the budget of (scope, period), or change it; audited either way."""
    parsed = parse_scope(scope)
    limit = usd_to_nanos(limit_usd)
    if limit < 0:
        raise BudgetError("a budget limit cannot be negative")
    b = schema.budgets
    now = time.time_ns() // 1000
    values = {
        "limit_nanos": limit,
        "enforced": enforced,
        "thresholds": ",".join(format(t, "f") for t in thresholds),
        "owners": ",".join(owners),
        "updated_us": now,
    }
    existing = conn.execute(
        select(b).where(b.c.scope == parsed.text, b.c.period == period.value)
    ).first()
    if existing is None:
        budget_id = "bud_" + secrets.token_hex(5)
        conn.execute(
            b.insert().values(
                id=budget_id, scope=parsed.text, period=period.value, created_us=now, **values
            )
        )
        before = None
    else:
        budget_id = existing._mapping["id"]
        before = _row(existing).as_json()
        conn.execute(update(b).where(b.c.id == budget_id).values(**values))
    after = get_budget(conn, budget_id)
    assert after is not None
    record_change(conn, actor, "budget.set", budget_id, before, after.as_json(), reason)
    return after


def raise_cap(
    conn: Connection, budget_id: str, limit_usd: Decimal | str, *, actor: str, reason: str
) -> Budget:
    """Change a budget's limit with a reason (required); unblocks at once if higher."""
    if not reason.strip():
        raise BudgetError("a reason is required to change a cap")
    budget = get_budget(conn, budget_id)
    if budget is None:
        raise BudgetError(f"no budget {budget_id!r}")
    return set_budget(
        conn,
        scope=budget.scope.text,
        limit_usd=limit_usd,
        period=budget.period,
        enforced=budget.enforced,
        thresholds=budget.thresholds,
        owners=budget.owners,
        actor=actor,
        reason=reason,
    )


def dumps(value: object) -> str:
    return orjson.dumps(value).decode()
