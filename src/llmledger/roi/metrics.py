"""Outcome metrics: declared once per scope with a unit and, optionally, a value per unit.

A metric declared for ``project:D/P`` counts for every agent of the project; one declared
for ``department:D`` for every project and agent of the department. The most specific
declaration wins.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy import Connection, delete, select

from llmledger.guardrails.scopes import Scope, ScopeError, parse_scope
from llmledger.ledger import schema
from llmledger.ledger.event import to_us
from llmledger.money import MoneyError, format_usd, usd_to_nanos

_METRIC = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
_UNIT = re.compile(r"^[\w .%/-]{1,40}$")
SCOPE_KINDS = ("department", "project", "agent")


class MetricError(ValueError):
    """A metric that cannot be declared or an outcome whose metric is unknown."""


@dataclass(frozen=True, slots=True)
class Metric:
    scope: str
    metric: str
    unit: str
    value_nanos: int | None
    description: str = ""

    def as_json(self) -> dict[str, object]:
        out: dict[str, object] = {"scope": self.scope, "metric": self.metric, "unit": self.unit}
        if self.value_nanos is not None:
            out["value_per_unit_usd"] = format_usd(self.value_nanos)
        if self.description:
            out["description"] = self.description
        return out


def check_metric_name(name: str) -> str:
    if not _METRIC.match(name):
        raise MetricError(
            f"metric: {name[:60]!r} is not a metric name (lower case letters, digits and _, "
            "starting with a letter, e.g. articles_published)"
        )
    return name


def outcome_scope(text: str) -> Scope:
    """A scope that can own outcome metrics: ``department:D``, ``project:D/P``, ``agent:D/P/A``."""
    try:
        scope = parse_scope(text)
    except ScopeError as exc:
        raise MetricError(str(exc)) from None
    if scope.kind not in SCOPE_KINDS:
        raise MetricError(
            f"scope: outcomes belong to department:D, project:D/P or agent:D/P/A, "
            f"not {scope.text!r}"
        )
    return scope


def declare_metric(
    conn: Connection,
    scope: str,
    metric: str,
    unit: str,
    value_usd: Decimal | str | None = None,
    description: str = "",
    *,
    now: datetime | None = None,
) -> Metric:
    """Declare (or re-declare: unit and value are replaced) a metric of a scope."""
    parsed = outcome_scope(scope)
    check_metric_name(metric)
    if not _UNIT.match(unit):
        raise MetricError(f"unit: {unit[:60]!r} is not a unit name (e.g. article, lead, invoice)")
    value: int | None = None
    if value_usd is not None and value_usd != "":
        try:
            value = usd_to_nanos(value_usd)
        except MoneyError as exc:
            raise MetricError(f"value per unit: {exc}") from None
        if value < 0:
            raise MetricError("value per unit: must not be negative")
    declared = Metric(parsed.text, metric, unit, value, description[:500])
    t = schema.outcome_metrics
    conn.execute(delete(t).where(t.c.scope == declared.scope, t.c.metric == metric))
    conn.execute(
        t.insert().values(
            scope=declared.scope,
            metric=metric,
            unit=unit,
            value_nanos=value,
            description=declared.description,
            updated_us=to_us(now or datetime.now(UTC)),
        )
    )
    return declared


def list_metrics(conn: Connection) -> list[Metric]:
    t = schema.outcome_metrics
    rows = conn.execute(select(t).order_by(t.c.scope, t.c.metric))
    return [Metric(r.scope, r.metric, r.unit, r.value_nanos, r.description) for r in rows]


def scope_chain(department: str, project: str, agent: str) -> list[str]:
    """The scopes an outcome of (department, project, agent) falls under, most specific first."""
    chain = []
    if agent and project:
        chain.append(f"agent:{department}/{project}/{agent}")
    if project:
        chain.append(f"project:{department}/{project}")
    chain.append(f"department:{department}")
    return chain


@dataclass(frozen=True, slots=True)
class Catalogue:
    """The declared metrics, looked up by (scope, metric)."""

    by_scope: dict[tuple[str, str], Metric]

    @classmethod
    def of(cls, metrics: Iterable[Metric]) -> Catalogue:
        return cls({(m.scope, m.metric): m for m in metrics})

    @classmethod
    def load(cls, conn: Connection) -> Catalogue:
        return cls.of(list_metrics(conn))

    def resolve(self, department: str, project: str, agent: str, metric: str) -> Metric | None:
        for scope in scope_chain(department, project, agent):
            found = self.by_scope.get((scope, metric))
            if found is not None:
                return found
        return None

    def declared_scopes(self) -> Sequence[Metric]:
        return list(self.by_scope.values())
