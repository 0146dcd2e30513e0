"""``GET /api/v1/reconciliation``: the providers' reports against the ledger, for a month."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from fastapi import APIRouter, HTTPException, Query
from starlette.concurrency import run_in_threadpool

from llmledger.reconcile.compare import Reconciliation, reconcile
from llmledger.reconcile.formats import FormatError, provider_id
from llmledger.web.api.deps import AdminDep, RuntimeDep

router = APIRouter(prefix="/api/v1", tags=["reconciliation"])


def parse_tolerance(text: str) -> Decimal:
    """A percent (``"1"`` is 1%) as a fraction."""
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise ValueError(f"tolerance: not a number: {text[:20]!r}") from None
    if not value.is_finite() or value < 0 or value > 100:
        raise ValueError("tolerance: a percent between 0 and 100")
    return value / 100


def previous_month(runtime: RuntimeDep) -> str:
    today = runtime.today()
    year, month = (today.year, today.month - 1) if today.month > 1 else (today.year - 1, 12)
    return f"{year:04d}-{month:02d}"


def compute(
    runtime: RuntimeDep, month: str, tolerance: str, provider: str | None
) -> Reconciliation:
    try:
        fraction = parse_tolerance(tolerance)
        pid = provider_id(provider) if provider else None
        with runtime.store.read() as conn:
            return reconcile(conn, month, tolerance=fraction, provider=pid)
    except (ValueError, FormatError) as exc:
        raise HTTPException(422, str(exc)) from None


@router.get("/reconciliation")
async def get_reconciliation(
    runtime: RuntimeDep,
    _: AdminDep,
    month: str | None = Query(None, max_length=7),
    tolerance: str = Query("1", max_length=10),
    provider: str | None = Query(None, max_length=20),
) -> dict[str, object]:
    """Matched, ledger-only and invoice-only amounts by UTC day, provider and model, the
    days whose difference passes `tolerance` (percent, default 1), and their likely causes
    (default month: the last one)."""
    chosen = month or previous_month(runtime)
    result = await run_in_threadpool(compute, runtime, chosen, tolerance, provider)
    return result.as_json()
