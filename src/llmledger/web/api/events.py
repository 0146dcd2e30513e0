"""``GET /api/v1/events``: the event log, newest first, keyset-paginated on (ts_us, id).

The cursor is the position of the last event shown; the next page reads from the index
just below it, so page 10,000 costs what page 1 does (never OFFSET). The query itself is
`llmledger.ledger.event_log`'s.
"""

from __future__ import annotations

import base64
import binascii
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from fastapi import APIRouter, HTTPException, Query
from sqlalchemy import Connection
from starlette.concurrency import run_in_threadpool

from llmledger.analytics.periods import DateRange
from llmledger.ledger import event_log
from llmledger.ledger.event import EventFlag, EventStatus, from_us, to_us
from llmledger.money import format_usd
from llmledger.web.api.deps import PrincipalDep, RuntimeDep
from llmledger.web.api.params import asked, check_known, parse_day, scoped_filters

router = APIRouter(prefix="/api/v1", tags=["events"])
MAX_LIMIT = 500
#: Public filter name -> events column.
EVENT_FILTERS = {
    "department": "department",
    "project": "project",
    "agent": "agent",
    "key": "key_id",
    "end_user": "end_user",
    "provider": "provider",
    "model": "model_used",
    "operation": "operation",
    "status": "status",
}
STATUSES = {s.value for s in EventStatus}


def encode_cursor(ts_us: int, event_id: str) -> str:
    return base64.urlsafe_b64encode(f"{ts_us}:{event_id}".encode()).decode().rstrip("=")


def decode_cursor(text: str) -> tuple[int, str]:
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)).decode()
        ts, _, event_id = raw.partition(":")
        value = int(ts)
        if not event_id or abs(value) >= 2**62:
            raise ValueError
        return value, event_id
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise HTTPException(422, "cursor: not a cursor returned by this API") from None


def _bounds(period: DateRange | None, zone: ZoneInfo) -> tuple[int | None, int | None]:
    if period is None:
        return None, None
    start = datetime.combine(period.start, time(), zone)
    end = datetime.combine(period.end + timedelta(days=1), time(), zone)
    return to_us(start), to_us(end)


def _flags(value: int) -> list[str]:
    return [f.name.lower() for f in EventFlag if f.value and value & f.value and f.name]


def event_page(
    conn: Connection,
    zone: ZoneInfo,
    filters: dict[str, str],
    *,
    period: DateRange | None,
    cursor: tuple[int, str] | None,
    limit: int,
) -> dict[str, object]:
    lo, hi = _bounds(period, zone)
    page = event_log.read_page(
        conn,
        {EVENT_FILTERS[k]: v for k, v in filters.items()},
        since_us=lo,
        until_us=hi,
        before=cursor,
        limit=limit,
    )
    rows = page.events
    usage = {
        event_id: {kind: _milli(q) for kind, q in lines.items()}
        for event_id, lines in page.usage.items()
    }
    events = [
        {
            "id": r["id"],
            "timestamp": from_us(r["ts_us"]).astimezone(zone).isoformat(),
            "department": r["department"],
            "project": r["project"],
            "agent": r["agent"],
            "key_id": r["key_id"],
            "end_user": r["end_user"],
            "provider": r["provider"],
            "model_requested": r["model_requested"],
            "model_used": r["model_used"],
            "operation": r["operation"],
            "status": r["status"],
            "source": r["source"],
            "http_status": r["http_status"],
            "latency_ms": r["latency_ms"],
            "cost_usd": format_usd(int(r["cost_nanos"])),
            "routed_from": r["routed_from"],
            "flags": _flags(int(r["flags"])),
            "usage": usage.get(r["id"], {}),
        }
        for r in rows
    ]
    last = rows[-1] if rows else None
    return {
        "events": events,
        "next_cursor": encode_cursor(last["ts_us"], last["id"]) if page.more and last else None,
    }


def _milli(q: int) -> int | str:
    if q % 1000 == 0:
        return q // 1000
    sign = "-" if q < 0 else ""
    whole, frac = divmod(abs(q), 1000)
    return f"{sign}{whole}.{frac:03d}".rstrip("0")


@router.get("/events")
async def get_events(
    runtime: RuntimeDep,
    principal: PrincipalDep,
    limit: int = Query(50, ge=1, le=MAX_LIMIT),
    cursor: str | None = Query(None, max_length=600),
    from_: str | None = Query(None, alias="from"),
    to: str | None = None,
    department: str | None = None,
    project: str | None = None,
    agent: str | None = None,
    key: str | None = None,
    end_user: str | None = None,
    provider: str | None = None,
    model: str | None = None,
    operation: str | None = None,
    status: str | None = None,
) -> dict[str, object]:
    """Events newest first, filterable by every attribution field; pass ``next_cursor``
    back as ``cursor`` for the next page (``null`` on the last page)."""
    if status and status not in STATUSES:
        raise HTTPException(422, f"status: one of {', '.join(sorted(STATUSES))}")
    start, end = parse_day(from_, "from"), parse_day(to, "to")
    period = None
    if start or end:
        today = runtime.today()
        period_start = start or datetime(1970, 1, 1).date()
        period_end = end or today
        if period_end < period_start:
            raise HTTPException(422, f"'to' ({period_end}) is before 'from' ({period_start})")
        period = DateRange(period_start, period_end)
    filters = scoped_filters(
        principal,
        {
            "department": department,
            "project": project,
            "agent": agent,
            "key": key,
            "end_user": end_user,
            "provider": provider,
            "model": model,
            "operation": operation,
            "status": status,
        },
    )
    position = decode_cursor(cursor) if cursor else None
    zone = runtime.settings.organisation.zone

    def read() -> dict[str, object]:
        with runtime.store.read() as conn:
            page = event_page(conn, zone, filters, period=period, cursor=position, limit=limit)
            if not page["events"] and position is None:
                check_known(
                    conn, {k: v for k, v in asked(filters, principal).items() if k != "status"}
                )
            return page

    return await run_in_threadpool(read)
