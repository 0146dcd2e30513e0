"""``GET /api/v1/savings``: what routing saved, by any attribution dimensions."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Query
from sqlalchemy import Connection
from starlette.concurrency import run_in_threadpool

from llmledger.analytics.periods import DateRange
from llmledger.ledger import queries
from llmledger.ledger.event import UNATTRIBUTED
from llmledger.money import format_usd
from llmledger.web.api.deps import PrincipalDep, RuntimeDep
from llmledger.web.api.params import check_known, columns, date_range, scoped_filters

router = APIRouter(prefix="/api/v1", tags=["figures"])
NON_ATTRIBUTED = "Non-attributed"
GROUPS = {"department": "department", "project": "project", "agent": "agent",
          "key": "key_id", "provider": "provider", "model": "model", "month": "month"}


def parse_groups(text: str) -> list[str]:
    names = [n.strip() for n in text.split(",") if n.strip()]
    if not names or len(names) > len(GROUPS):
        raise HTTPException(422, "group_by: name one or more dimensions")
    for n in names:
        if n not in GROUPS:
            raise HTTPException(
                422, f"cannot group savings by {n[:40]!r} (allowed: {', '.join(GROUPS)})"
            )
    if len(set(names)) != len(names):
        raise HTTPException(422, "a dimension is named twice in group_by")
    return names


def savings(
    conn: Connection, period: DateRange, group_by: list[str], filters: dict[str, str]
) -> dict[str, object]:
    sums = queries.call_sums(conn, period.start, period.end, [GROUPS[g] for g in group_by],
                             columns(filters))
    rows = []
    total = 0
    for s in sums:
        if not s.routed_calls:
            continue
        saved = s.requested_cost_nanos - s.routed_cost_nanos
        total += saved
        row: dict[str, object] = {
            g: (v if v and v != UNATTRIBUTED else NON_ATTRIBUTED)
            for g, v in zip(group_by, s.key, strict=True)
        }
        row.update({
            "requested_cost_usd": format_usd(s.requested_cost_nanos),
            "actual_cost_usd": format_usd(s.routed_cost_nanos),
            "saved_usd": format_usd(saved),
            "requests": s.routed_calls,
            "_saved": saved,
        })
        rows.append(row)
    if not sums and filters:
        check_known(conn, filters)
    rows.sort(key=lambda r: (-int(str(r["_saved"])), [str(r[g]) for g in group_by]))
    for r in rows:
        del r["_saved"]
    return {"from": period.start.isoformat(), "to": period.end.isoformat(),
            "group_by": group_by, "total_usd": format_usd(total), "rows": rows}


@router.get("/savings")
async def get_savings(
    runtime: RuntimeDep,
    principal: PrincipalDep,
    from_: str | None = Query(None, alias="from"),
    to: str | None = None,
    group_by: str = Query("department", max_length=200),
    department: str | None = None,
    project: str | None = None,
) -> dict[str, object]:
    """Routing savings (requested model's cost minus the routed model's cost) of routed
    calls, by dimensions (default period: month to date). Missing attribution is shown
    as "Non-attributed"."""
    period = date_range(from_, to, runtime.today())
    names = parse_groups(group_by)
    filters = scoped_filters(principal, {"department": department, "project": project})

    def compute() -> dict[str, object]:
        with runtime.store.read() as conn:
            return savings(conn, period, names, filters)

    return await run_in_threadpool(compute)
