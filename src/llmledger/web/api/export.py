"""``GET /api/v1/export/focus``: the ledger as a FOCUS dataset (CSV or Parquet)."""

from __future__ import annotations

import io
import tempfile
from enum import StrEnum

from fastapi import APIRouter, Query
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from llmledger.reports.focus import Account, focus_rows, write_csv, write_parquet
from llmledger.web.api.deps import AdminDep, RuntimeDep
from llmledger.web.api.params import date_range

router = APIRouter(prefix="/api/v1", tags=["export"])
PARQUET_TYPE = "application/vnd.apache.parquet"


class FocusFormat(StrEnum):
    csv = "csv"
    parquet = "parquet"


@router.get("/export/focus")
async def export_focus(
    runtime: RuntimeDep,
    _: AdminDep,
    from_: str | None = Query(None, alias="from", description="First local day, YYYY-MM-DD."),
    to: str | None = Query(None, description="Last local day (inclusive); default today."),
    fmt: FocusFormat = Query(FocusFormat.csv, alias="format", description="csv or parquet."),
) -> Response:
    """FOCUS 1.2 rows, one per day, attribution, model and usage type (month to date by
    default). Costs are exact decimals; attribution is in Tags."""
    period = date_range(from_, to, runtime.today())
    account = Account.of(runtime.settings.organisation.name)
    name = f"focus-{period.start}-{period.end}"

    def build() -> bytes:
        rows = focus_rows(runtime.store, period.start, period.end, account)
        if fmt is FocusFormat.csv:
            text = io.StringIO()
            write_csv(rows, text)
            return text.getvalue().encode()
        with tempfile.TemporaryFile() as spool:
            write_parquet(rows, spool)
            spool.seek(0)
            return spool.read()

    body = await run_in_threadpool(build)
    media = "text/csv; charset=utf-8" if fmt is FocusFormat.csv else PARQUET_TYPE
    return Response(
        body,
        media_type=media,
        headers={"content-disposition": f'attachment; filename="{name}.{fmt.value}"'},
    )
