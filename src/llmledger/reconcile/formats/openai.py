"""OpenAI: the organization costs API (``GET /v1/organization/costs``).

The response is a page ``{"object": "page", "data": [bucket...], "has_more", "next_page"}``;
each bucket ``{"object": "bucket", "start_time", "end_time", "results": [...]}`` holds
results ``{"object": "organization.costs.result", "amount": {"value", "currency"},
"line_item", "project_id"}``. Fetch with ``bucket_width=1d`` and ``group_by=line_item``:
a line item reads ``"gpt-4o-2024-08-06, input"``, the model before the comma.

Accepted: one page, a JSON array of pages, or one page a line (JSONL); and CSV with the
same fields flattened (``start_time, end_time, line_item, project_id, amount_value,
amount_currency``).
"""

from __future__ import annotations

from collections.abc import Mapping

from llmledger.reconcile.formats.base import (
    CostLine,
    FormatError,
    ParsedReport,
    csv_rows,
    json_lines,
    load_json,
    looks_like_json,
    unpack,
    usd_nanos,
    utc_day,
)


def model_of(line_item: str) -> str:
    return line_item.split(",", 1)[0].strip()


def _result(report: ParsedReport, where: str, start: object, result: object) -> None:
    if not isinstance(result, Mapping):
        report.error(where, "expected a result object")
        return
    amount = result.get("amount")
    if not isinstance(amount, Mapping):
        report.error(where, "amount: missing")
        return
    currency = str(amount.get("currency") or "usd").lower()
    if currency != "usd":
        report.error(where, f"amount: currency {currency!r}, only usd is reconciled")
        return
    try:
        nanos = usd_nanos(amount.get("value"))
        day = utc_day(start)
    except ValueError as exc:
        report.error(where, str(exc))
        return
    item = str(result.get("line_item") or "")
    report.lines.append(CostLine(day, model_of(item), item, nanos))


def _page(report: ParsedReport, page: object, label: str) -> None:
    if not isinstance(page, Mapping) or not isinstance(page.get("data"), list):
        raise FormatError(f'{label}: not an OpenAI costs page (no "data" list of buckets)')
    for b, bucket in enumerate(page["data"], start=1):
        if not isinstance(bucket, Mapping) or not isinstance(bucket.get("results"), list):
            report.error(f"{label} bucket {b}", "expected a bucket with a results list")
            continue
        for r, result in enumerate(bucket["results"], start=1):
            _result(report, f"{label} bucket {b} result {r}", bucket.get("start_time"), result)


def parse(data: bytes) -> ParsedReport:
    data = unpack(data)
    report = ParsedReport()
    if not looks_like_json(data):
        for number, row in csv_rows(data):
            if "amount_value" not in row or "start_time" not in row:
                raise FormatError("CSV needs the columns start_time, line_item, amount_value")
            result = {
                "amount": {
                    "value": row["amount_value"],
                    "currency": row.get("amount_currency") or "usd",
                },
                "line_item": row.get("line_item", ""),
            }
            _result(report, f"line {number}", row["start_time"], result)
        return report
    stripped = data.lstrip()
    if stripped.startswith(b"{") and b"\n{" in stripped.rstrip():
        for number, page in json_lines(data):
            if isinstance(page, FormatError):
                report.error(f"line {number}", str(page))
            else:
                _page(report, page, f"line {number}")
        return report
    value = load_json(data)
    pages = value if isinstance(value, list) else [value]
    for i, page in enumerate(pages, start=1):
        _page(report, page, f"page {i}")
    return report
