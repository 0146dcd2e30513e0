"""``/api/v1/budgets``: list with live status, create or change, raise a cap."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from fastapi import APIRouter, HTTPException
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from llmledger.guardrails import budgets as bud
from llmledger.guardrails.periods import Period
from llmledger.guardrails.scopes import ScopeError
from llmledger.guardrails.status import all_statuses, budget_status
from llmledger.money import MoneyError
from llmledger.web.api.deps import AdminDep, RuntimeDep

router = APIRouter(prefix="/api/v1/budgets", tags=["budgets"])


class BudgetRequest(BaseModel):
    scope: str = Field(max_length=400)
    limit_usd: Decimal = Field(ge=0, lt=Decimal(10) ** 12)
    period: Period = Period.MONTH
    enforced: bool = True
    thresholds: list[Decimal] = Field(default_factory=lambda: list(bud.DEFAULT_THRESHOLDS))
    owners: list[str] = Field(default_factory=list, max_length=50)
    reason: str | None = Field(None, max_length=2000)


class CapChange(BaseModel):
    limit_usd: Decimal = Field(ge=0, lt=Decimal(10) ** 12)
    reason: str = Field(min_length=1, max_length=2000)


@router.get("")
async def list_all(runtime: RuntimeDep, _: AdminDep) -> dict[str, object]:
    """Every budget with spend, reserved, percent, status and projection."""
    org = runtime.settings.organisation

    def read() -> dict[str, object]:
        with runtime.store.read() as conn:
            rows = all_statuses(conn, datetime.now(UTC), org.zone, org.fiscal_year_start_month)
        return {"budgets": [r.as_json() for r in rows]}

    return await run_in_threadpool(read)


@router.post("", status_code=201)
async def create(body: BudgetRequest, runtime: RuntimeDep, actor: AdminDep) -> dict[str, object]:
    """Create the budget of a scope and period (or change it)."""
    org = runtime.settings.organisation

    def write() -> dict[str, object]:
        with runtime.store.write() as conn:
            budget = bud.set_budget(
                conn,
                scope=body.scope,
                limit_usd=body.limit_usd,
                period=body.period,
                enforced=body.enforced,
                thresholds=bud.parse_thresholds(body.thresholds),
                owners=body.owners,
                actor=actor,
                reason=body.reason,
            )
            status = budget_status(
                conn, budget, datetime.now(UTC), org.zone, org.fiscal_year_start_month
            )
        return status.as_json()

    try:
        result = await run_in_threadpool(write)
    except (ScopeError, bud.BudgetError, MoneyError) as exc:
        raise HTTPException(422, str(exc)) from None
    runtime.budgets.invalidate()
    return result


@router.patch("/{budget_id}")
async def change_cap(
    budget_id: str, body: CapChange, runtime: RuntimeDep, actor: AdminDep
) -> dict[str, object]:
    """Raise (or lower) a cap, with a reason; a raised cap unblocks at once."""
    org = runtime.settings.organisation

    def write() -> dict[str, object]:
        with runtime.store.write() as conn:
            if bud.get_budget(conn, budget_id) is None:
                raise LookupError(budget_id)
            budget = bud.raise_cap(conn, budget_id, body.limit_usd, actor=actor, reason=body.reason)
            status = budget_status(
                conn, budget, datetime.now(UTC), org.zone, org.fiscal_year_start_month
            )
        return status.as_json()

    try:
        result = await run_in_threadpool(write)
    except LookupError:
        raise HTTPException(404, f"no budget {budget_id!r}") from None
    except (bud.BudgetError, MoneyError) as exc:
        raise HTTPException(422, str(exc)) from None
    runtime.budgets.invalidate()
    return result
