"""``/api/v1/summary`` and ``/api/v1/costs``: the finance figures."""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter, HTTPException, Query
from starlette.concurrency import run_in_threadpool

from llmledger.analytics import periods
from llmledger.analytics.costs import BreakdownError, breakdown, parse_group_by
from llmledger.analytics.summary import summary
from llmledger.web.api.deps import AdminDep, RuntimeDep

router = APIRouter(prefix="/api/v1", tags=["figures"])


def _day(value: str | None, name: str) -> date | None:
    if value is None or value == "":
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise HTTPException(
            422, f"{name}: expected a date YYYY-MM-DD, got {value[:40]!r}"
        ) from None


@router.get("/summary")
async def get_summary(
    runtime: RuntimeDep, _: AdminDep, as_of: str | None = None
) -> dict[str, object]:
    """YTD and MTD against budget, projected annual spend, savings, usage and trend."""
    day = _day(as_of, "as_of") or runtime.today()
    org = runtime.settings.organisation

    def compute() -> dict[str, object]:
        with runtime.store.read() as conn:
            return summary(
                conn,
                day,
                fiscal_start_month=org.fiscal_year_start_month,
                annual_budget_usd=org.annual_budget_usd,
                monthly_budget_usd=org.monthly_budget_usd,
            ).as_json()

    return await run_in_threadpool(compute)


@router.get("/costs")
async def get_costs(
    runtime: RuntimeDep,
    _: AdminDep,
    group_by: str = "department",
    from_: str | None = Query(None, alias="from"),
    to: str | None = None,
    department: str | None = None,
    project: str | None = None,
    agent: str | None = None,
    provider: str | None = None,
    model: str | None = None,
) -> dict[str, object]:
    """Cost and usage by any dimensions (default period: month to date)."""
    try:
        names = parse_group_by(group_by)
    except BreakdownError as exc:
        raise HTTPException(422, str(exc)) from None
    today = runtime.today()
    start = _day(from_, "from") or periods.month_start(today)
    end = _day(to, "to") or today
    if end < start:
        raise HTTPException(422, f"'to' ({end}) is before 'from' ({start})")
    filters = {
        k: v
        for k, v in (
            ("department", department),
            ("project", project),
            ("agent", agent),
            ("provider", provider),
            ("model", model),
        )
        if v
    }

    def compute() -> dict[str, object]:
        with runtime.store.read() as conn:
            return breakdown(conn, periods.DateRange(start, end), names, filters).as_json()

    return await run_in_threadpool(compute)
