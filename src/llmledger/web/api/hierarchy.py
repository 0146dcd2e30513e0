"""``GET /api/v1/hierarchy``: department -> project -> agent, with usage by type."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from fastapi import APIRouter, Query
from sqlalchemy import Connection
from starlette.concurrency import run_in_threadpool

from llmledger.analytics.costs import breakdown
from llmledger.analytics.periods import DateRange
from llmledger.money import format_usd
from llmledger.usage import UsageType
from llmledger.web.api.deps import PrincipalDep, RuntimeDep
from llmledger.web.api.params import asked, check_known, date_range, scoped_filters

router = APIRouter(prefix="/api/v1", tags=["figures"])
LEVELS = ("department", "project", "agent")
_ORDER = {t.value: i for i, t in enumerate(UsageType)}


@dataclass(slots=True)
class Node:
    name: str
    cost_nanos: int = 0
    requests: int = 0
    usage: dict[str, Decimal] = field(default_factory=dict)
    usage_cost_nanos: dict[str, int] = field(default_factory=dict)
    children: dict[str, Node] = field(default_factory=dict)

    def add(
        self, cost: int, requests: int, usage: dict[str, Decimal], usage_cost: dict[str, int]
    ) -> None:
        self.cost_nanos += cost
        self.requests += requests
        for k, q in usage.items():
            self.usage[k] = self.usage.get(k, Decimal(0)) + q
        for k, c in usage_cost.items():
            self.usage_cost_nanos[k] = self.usage_cost_nanos.get(k, 0) + c

    def usage_json(self) -> dict[str, object]:
        """This node's own figures by usage type (not its children's)."""
        return {
            "usage": {k: _q(self.usage[k]) for k in sorted(self.usage, key=_ORDER.__getitem__)},
            "usage_cost_usd": {
                k: format_usd(self.usage_cost_nanos[k])
                for k in sorted(self.usage_cost_nanos, key=_ORDER.__getitem__)
            },
        }

    def as_json(self, depth: int) -> dict[str, object]:
        out: dict[str, object] = {
            LEVELS[depth]: self.name,
            "cost_usd": format_usd(self.cost_nanos),
            "requests": self.requests,
            **self.usage_json(),
        }
        if depth + 1 < len(LEVELS):
            kids = sorted(self.children.values(), key=lambda n: (-n.cost_nanos, n.name))
            out[LEVELS[depth + 1] + "s"] = [k.as_json(depth + 1) for k in kids]
        return out


def _q(value: Decimal) -> int | str:
    return int(value) if value == value.to_integral_value() else format(value.normalize(), "f")


def hierarchy(
    conn: Connection,
    period: DateRange,
    filters: dict[str, str],
    check: dict[str, str] | None = None,
) -> dict[str, object]:
    """The tree as JSON; amounts exact, every level the sum of its children."""
    flat = breakdown(conn, period, list(LEVELS), filters)
    root = Node("")
    for row in flat.rows:
        path = [row.key[level] for level in LEVELS]
        node = root
        node.add(row.cost_nanos, row.calls, row.usage, row.usage_cost_nanos)
        for name in path:
            node = node.children.setdefault(name, Node(name))
            node.add(row.cost_nanos, row.calls, row.usage, row.usage_cost_nanos)
    if not root.children and filters:
        check_known(conn, filters if check is None else check)
    departments = sorted(root.children.values(), key=lambda n: (-n.cost_nanos, n.name))
    totals = root.usage_json()
    return {
        "from": period.start.isoformat(),
        "to": period.end.isoformat(),
        "filters": filters,
        "total_usd": format_usd(root.cost_nanos),
        "requests": root.requests,
        "usage": totals["usage"],
        "usage_cost_usd": totals["usage_cost_usd"],
        "departments": [d.as_json(0) for d in departments],
    }


@router.get("/hierarchy")
async def get_hierarchy(
    runtime: RuntimeDep,
    principal: PrincipalDep,
    from_: str | None = Query(None, alias="from"),
    to: str | None = None,
    department: str | None = None,
    project: str | None = None,
    provider: str | None = None,
    model: str | None = None,
) -> dict[str, object]:
    """Department -> project -> agent with cost, requests and each usage type's quantity
    and cost (default period: month to date). Owners get their own scope only."""
    period = date_range(from_, to, runtime.today())
    filters = scoped_filters(
        principal,
        {"department": department, "project": project, "provider": provider, "model": model},
    )

    def compute() -> dict[str, object]:
        with runtime.store.read() as conn:
            return hierarchy(conn, period, filters, asked(filters, principal))

    return await run_in_threadpool(compute)
