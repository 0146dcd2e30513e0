"""``GET /api/v1/savings``: what routing saved, by any attribution dimensions."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import orjson
from fastapi import APIRouter, HTTPException, Query
from sqlalchemy import Connection, select
from starlette.concurrency import run_in_threadpool

from llmledger.analytics.periods import DateRange
from llmledger.ledger import queries, schema
from llmledger.ledger.event import UNATTRIBUTED, from_us, to_us
from llmledger.money import format_usd
from llmledger.web.api.deps import PrincipalDep, RuntimeDep
from llmledger.web.api.params import asked, check_known, columns, date_range, scoped_filters

router = APIRouter(prefix="/api/v1", tags=["figures"])
NON_ATTRIBUTED = "Non-attributed"
GROUPS = {
    "department": "department",
    "project": "project",
    "agent": "agent",
    "key": "key_id",
    "provider": "provider",
    "model": "model",
    "month": "month",
}


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
    conn: Connection,
    period: DateRange,
    group_by: list[str],
    filters: dict[str, str],
    check: dict[str, str] | None = None,
) -> dict[str, object]:
    sums = queries.call_sums(
        conn, period.start, period.end, [GROUPS[g] for g in group_by], columns(filters)
    )
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
        row.update(
            {
                "requested_cost_usd": format_usd(s.requested_cost_nanos),
                "actual_cost_usd": format_usd(s.routed_cost_nanos),
                "saved_usd": format_usd(saved),
                "requests": s.routed_calls,
                "_saved": saved,
            }
        )
        rows.append(row)
    if not sums and filters:
        check_known(conn, filters if check is None else check)
    rows.sort(key=lambda r: (-int(str(r["_saved"])), [str(r[g]) for g in group_by]))
    for r in rows:
        del r["_saved"]
    return {
        "from": period.start.isoformat(),
        "to": period.end.isoformat(),
        "group_by": group_by,
        "total_usd": format_usd(total),
        "rows": rows,
    }


#: How a shadow decision's detail starts (routing/hook.py writes it with orjson).
SHADOW_PREFIX = '{"routing":{"mode":"shadow"'
_EVENT_COLUMNS = {
    "department": "department",
    "project": "project",
    "agent": "agent",
    "key": "key_id",
    "provider": "provider",
    "model": "model_requested",
}


def shadow_savings(
    conn: Connection,
    period: DateRange,
    group_by: list[str],
    filters: dict[str, str],
    zone: ZoneInfo,
) -> dict[str, object]:
    """What shadow rules would have saved: the calls' cost minus what the same usage would
    have cost at each rule's target, read from the events' recorded decisions."""
    e = schema.events
    start = to_us(datetime.combine(period.start, time(), zone))
    end = to_us(datetime.combine(period.end + timedelta(days=1), time(), zone))
    conds = [e.c.ts_us >= start, e.c.ts_us < end, e.c.detail.like(SHADOW_PREFIX + "%")]
    for name, value in filters.items():
        if name in _EVENT_COLUMNS:
            conds.append(e.c[_EVENT_COLUMNS[name]] == value)
    stmt = select(
        e.c.ts_us,
        e.c.cost_nanos,
        e.c.detail,
        *(e.c[_EVENT_COLUMNS[g]] for g in group_by if g != "month"),
    ).where(*conds)
    sums: dict[tuple[str, ...], list[int]] = {}
    for found in conn.execute(stmt):
        routing = orjson.loads(found[2])["routing"]
        would = routing.get("would_cost_nanos")
        if would is None:
            continue
        values = iter(found[3:])
        key = tuple(
            from_us(found[0]).astimezone(zone).strftime("%Y-%m")
            if g == "month"
            else str(next(values))
            for g in group_by
        )
        acc = sums.setdefault(key, [0, 0, 0])
        acc[0] += int(found[1])
        acc[1] += int(would)
        acc[2] += 1
    rows: list[dict[str, object]] = []
    total = 0
    for key, (requested, actual, count) in sums.items():
        total += requested - actual
        row: dict[str, object] = {
            g: (v if v and v != UNATTRIBUTED else NON_ATTRIBUTED)
            for g, v in zip(group_by, key, strict=True)
        }
        row.update(
            {
                "requested_cost_usd": format_usd(requested),
                "actual_cost_usd": format_usd(actual),
                "saved_usd": format_usd(requested - actual),
                "requests": count,
                "_saved": requested - actual,
            }
        )
        rows.append(row)
    rows.sort(key=lambda r: (-int(str(r["_saved"])), [str(r[g]) for g in group_by]))
    for r in rows:
        del r["_saved"]
    return {
        "from": period.start.isoformat(),
        "to": period.end.isoformat(),
        "group_by": group_by,
        "mode": "shadow",
        "total_usd": format_usd(total),
        "rows": rows,
    }


@router.get("/savings")
async def get_savings(
    runtime: RuntimeDep,
    principal: PrincipalDep,
    from_: str | None = Query(None, alias="from"),
    to: str | None = None,
    group_by: str = Query("department", max_length=200),
    department: str | None = None,
    project: str | None = None,
    mode: str = Query("routed", pattern="^(routed|shadow)$"),
) -> dict[str, object]:
    """Routing savings (requested model's cost minus the routed model's cost) of routed
    calls, by dimensions (default period: month to date). Missing attribution is shown
    as "Non-attributed". ``mode=shadow``: what shadow rules would have saved on the same
    calls (the requested model's cost minus the target's for the same usage)."""
    period = date_range(from_, to, runtime.today())
    names = parse_groups(group_by)
    filters = scoped_filters(principal, {"department": department, "project": project})

    def compute() -> dict[str, object]:
        with runtime.store.read() as conn:
            if mode == "shadow":
                return shadow_savings(conn, period, names, filters, runtime.store.zone)
            return savings(conn, period, names, filters, asked(filters, principal))

    return await run_in_threadpool(compute)
