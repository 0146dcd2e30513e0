"""Google Cloud: the Cloud Billing export (standard usage cost data) rows for Gemini.

The BigQuery table ``gcp_billing_export_v1_<BILLING_ACCOUNT_ID>`` exported as
newline-delimited JSON keeps its nested fields: ``service: {id, description}``,
``sku: {id, description}``, ``usage_start_time``, ``usage_end_time``, ``cost``,
``currency``, ``credits: [{name, amount, type, ...}]``, ``usage: {amount, unit}``,
``invoice: {month}``, ``cost_type``. As CSV (a query's result) the same fields are
columns named by their path (``service.description``, ``sku.description``, ...), with
``credits`` as JSON text or the credits' total in ``credits.amount``.

Rows whose service is not Gemini (``Gemini API``, ``Generative Language API``,
``Vertex AI``) are skipped; the model is read from the SKU description
("Gemini 2.5 Flash Input Text Tokens"). Credits are negative amounts, as exported.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from decimal import Decimal

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

SERVICES = ("gemini", "generative language", "vertex ai")


def _path(row: Mapping[str, object], dotted: str) -> object:
    if dotted in row:
        return row[dotted]
    value: object = row
    for part in dotted.split("."):
        if not isinstance(value, Mapping):
            return None
        value = value.get(part)
    return value


def _credits(row: Mapping[str, object]) -> int:
    raw = _path(row, "credits")
    if isinstance(raw, str) and raw.strip():
        raw = json.loads(raw, parse_float=Decimal)
    total = 0
    if isinstance(raw, list):
        for credit in raw:
            if isinstance(credit, Mapping) and credit.get("amount") not in (None, ""):
                total += usd_nanos(credit["amount"])
    flat = row.get("credits.amount")
    if isinstance(flat, str) and flat.strip():
        total += usd_nanos(flat)
    return total


def _row(report: ParsedReport, where: str, row: object) -> None:
    if not isinstance(row, Mapping):
        report.error(where, "expected an object")
        return
    service = str(_path(row, "service.description") or "")
    if not any(s in service.lower() for s in SERVICES):
        report.skipped += 1
        return
    cost_type = str(_path(row, "cost_type") or "regular").lower()
    if cost_type not in ("regular", "adjustment"):
        report.skipped += 1
        return
    currency = str(_path(row, "currency") or "USD").upper()
    if currency != "USD":
        report.error(where, f"currency {currency!r}: only USD is reconciled")
        return
    try:
        nanos = usd_nanos(_path(row, "cost"))
        day = utc_day(_path(row, "usage_start_time"))
        credits = _credits(row)
    except (ValueError, TypeError) as exc:
        report.error(where, str(exc))
        return
    sku = str(_path(row, "sku.description") or "")
    report.lines.append(CostLine(day, sku, sku, nanos, credits))


def parse(data: bytes) -> ParsedReport:
    data = unpack(data)
    report = ParsedReport()
    if not looks_like_json(data):
        for number, row in csv_rows(data):
            if "cost" not in row or "usage_start_time" not in row:
                raise FormatError(
                    "CSV needs the columns usage_start_time, cost and service.description"
                )
            _row(report, f"line {number}", row)
        return report
    if data.lstrip().startswith(b"["):
        value = load_json(data)
        for i, row in enumerate(value if isinstance(value, list) else [], start=1):
            _row(report, f"row {i}", row)
        return report
    for number, item in json_lines(data):
        if isinstance(item, FormatError):
            report.error(f"line {number}", str(item))
        else:
            _row(report, f"line {number}", item)
    return report
