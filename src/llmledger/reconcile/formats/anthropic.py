"""Anthropic: the Admin API cost report (``GET /v1/organizations/cost_report``).

The response ``{"data": [bucket...], "has_more", "next_page"}`` has daily buckets
``{"starting_at", "ending_at", "results": [...]}`` whose results carry ``amount`` (a
decimal string in the currency's lowest unit: ``"123.45"`` USD is $1.23), ``currency``,
and, grouped by ``description``, ``model``, ``cost_type``, ``token_type``,
``service_tier``, ``context_window``, ``description`` (and ``workspace_id`` grouped by
workspace). Fetch with ``group_by[]=description`` so that each amount names its model.

Accepted: one response, a JSON array of responses, or JSONL; and CSV with the result
fields as columns plus ``starting_at``.
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


def _result(report: ParsedReport, where: str, start: object, result: object) -> None:
    if not isinstance(result, Mapping):
        report.error(where, "expected a result object")
        return
    currency = str(result.get("currency") or "USD").upper()
    if currency != "USD":
        report.error(where, f"currency {currency!r}: only USD is reconciled")
        return
    try:
        nanos = usd_nanos(result.get("amount"), cents=True)
        day = utc_day(start)
    except ValueError as exc:
        report.error(where, f"amount or time: {exc}")
        return
    model = str(result.get("model") or "")
    description = str(result.get("description") or "")
    if not model and result.get("cost_type") not in (None, "", "tokens"):
        description = description or str(result.get("cost_type"))
    report.lines.append(CostLine(day, model or description, description or model, nanos))


def _response(report: ParsedReport, value: object, label: str) -> None:
    if not isinstance(value, Mapping) or not isinstance(value.get("data"), list):
        raise FormatError(f'{label}: not an Anthropic cost report (no "data" list)')
    for b, bucket in enumerate(value["data"], start=1):
        if not isinstance(bucket, Mapping) or not isinstance(bucket.get("results"), list):
            report.error(f"{label} bucket {b}", "expected a bucket with a results list")
            continue
        for r, result in enumerate(bucket["results"], start=1):
            _result(report, f"{label} bucket {b} result {r}", bucket.get("starting_at"), result)


def parse(data: bytes) -> ParsedReport:
    data = unpack(data)
    report = ParsedReport()
    if not looks_like_json(data):
        for number, row in csv_rows(data):
            if "amount" not in row or "starting_at" not in row:
                raise FormatError("CSV needs the columns starting_at and amount")
            _result(report, f"line {number}", row["starting_at"], row)
        return report
    stripped = data.lstrip()
    if stripped.startswith(b"{") and b"\n{" in stripped.rstrip():
        for number, value in json_lines(data):
            if isinstance(value, FormatError):
                report.error(f"line {number}", str(value))
            else:
                _response(report, value, f"line {number}")
        return report
    value = load_json(data)
    for i, item in enumerate(value if isinstance(value, list) else [value], start=1):
        _response(report, item, f"response {i}")
    return report
