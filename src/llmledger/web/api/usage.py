"""``POST /api/v1/usage``: ingest usage recorded elsewhere (same code as the importer)."""

from __future__ import annotations

from typing import Any

import orjson
from fastapi import APIRouter, HTTPException, Request
from starlette.concurrency import run_in_threadpool

from llmledger.ledger.event import EventSource
from llmledger.reports.importer import RawRow, import_rows
from llmledger.web.api.deps import AdminDep, RuntimeDep

router = APIRouter(prefix="/api/v1", tags=["usage"])
MAX_RECORDS = 10_000


@router.post("/usage")
async def ingest(request: Request, runtime: RuntimeDep, _: AdminDep) -> dict[str, object]:
    """One usage record (a JSON object) or a list of them; returns the import report.
    Records are deduplicated by id, so a retry adds nothing."""
    body = await request.body()
    try:
        data: Any = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise HTTPException(400, f"body is not valid JSON: {exc}") from None
    records = data if isinstance(data, list) else [data]
    if len(records) > MAX_RECORDS:
        raise HTTPException(413, f"at most {MAX_RECORDS} records per call")
    rows: list[RawRow] = [
        (i + 1, r if isinstance(r, dict) else "expected a JSON object")
        for i, r in enumerate(records)
    ]

    def write() -> dict[str, object]:
        return import_rows(
            rows,
            runtime.store,
            runtime.catalog,
            allow_unpriced=runtime.settings.gateway.allow_unpriced,
            source=EventSource.API,
        ).as_json()

    report = await run_in_threadpool(write)
    if report["errors"] and not report["imported"] and not report["duplicates"]:
        raise HTTPException(422, detail=report)
    return report
