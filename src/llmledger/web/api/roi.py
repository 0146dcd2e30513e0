"""``GET /api/v1/roi`` (cost per outcome) and ``POST /api/v1/outcomes`` (record outcomes)."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter, HTTPException, Query, Request
from starlette.concurrency import run_in_threadpool

from llmledger.roi.figures import default_period, roi
from llmledger.roi.outcomes import import_outcomes, loads
from llmledger.web.api.deps import AdminDep, PrincipalDep, RuntimeDep
from llmledger.web.api.params import date_range, parse_day, scoped_filters

router = APIRouter(prefix="/api/v1", tags=["roi"])
MAX_BODY = 5_000_000
MAX_RECORDS = 10_000


@router.get("/roi")
async def get_roi(
    runtime: RuntimeDep,
    principal: PrincipalDep,
    from_: str | None = Query(None, alias="from"),
    to: str | None = None,
    department: str | None = None,
    project: str | None = None,
    agent: str | None = None,
) -> dict[str, object]:
    """Cost per outcome for each scope with outcomes (or a declared metric), its monthly
    trend, value against cost where known, and the biggest risers (default period: the
    last three months, this one to date)."""
    today = runtime.today()
    if from_ or to:
        period = date_range(
            from_ or default_period(parse_day(to, "to") or today).start.isoformat(), to, today
        )
    else:
        period = default_period(today)
    filters = scoped_filters(
        principal, {"department": department, "project": project, "agent": agent}
    )

    def compute() -> dict[str, object]:
        with runtime.store.read() as conn:
            return roi(conn, period, filters).as_json()

    return await run_in_threadpool(compute)


@router.post("/outcomes")
async def post_outcomes(request: Request, runtime: RuntimeDep, _: AdminDep) -> dict[str, object]:
    """Record outcomes: one record or a JSON array of them, deduplicated by id; bad records
    are reported by their index (``line``, from 1) and the rest are recorded."""
    body = await request.body()
    if len(body) > MAX_BODY:
        raise HTTPException(413, f"at most {MAX_BODY} bytes")
    try:
        value = loads(body)
    except ValueError as exc:
        raise HTTPException(422, f"not valid JSON: {exc}") from None
    records = value if isinstance(value, list) else [value]
    if len(records) > MAX_RECORDS:
        raise HTTPException(413, f"at most {MAX_RECORDS} records a call")
    rows = [
        (i, r if isinstance(r, dict) else "expected a JSON object")
        for i, r in enumerate(records, start=1)
    ]

    def write() -> dict[str, object]:
        return import_outcomes(rows, runtime.store, source="api", now=datetime.now(UTC)).as_json()

    return await run_in_threadpool(write)
