"""AWS: Cost and Usage Report rows for Amazon Bedrock (legacy CUR and CUR 2.0, CSV,
optionally gzipped).

Columns are read by name in either spelling: legacy ``lineItem/UsageStartDate``,
``lineItem/ProductCode``, ``lineItem/LineItemType``, ``lineItem/UsageType``,
``lineItem/UnblendedCost``, ``lineItem/CurrencyCode``, ``lineItem/LineItemDescription``,
``product/ProductName``, ``product/servicecode``; or CUR 2.0's ``line_item_usage_start_date``,
``line_item_product_code``, ... ``product_servicecode``. Rows of other services are
skipped. Bedrock's usage types name the model and token type (``USE1-Nova-Pro-input-tokens``,
``...-cache-read-input-token-count``); models sold through AWS Marketplace (Anthropic's)
carry the model in ``product/ProductName`` ("Claude Sonnet 4.5 (Amazon Bedrock Edition)").

``Usage``, ``DiscountedUsage`` and ``SavingsPlanCoveredUsage`` rows are cost; ``Credit``,
``Refund`` and discount rows are credits; ``Tax`` and fees are left out.
"""

from __future__ import annotations

from llmledger.reconcile.formats.base import (
    CostLine,
    FormatError,
    ParsedReport,
    csv_rows,
    looks_like_json,
    squash,
    unpack,
    usd_nanos,
    utc_day,
)

COST_TYPES = {"usage", "discountedusage", "savingsplancoveredusage"}
CREDIT_TYPES = {
    "credit",
    "refund",
    "bundleddiscount",
    "edpdiscount",
    "privateratediscount",
    "discount",
    "savingsplannegation",
}
_COLUMNS = {
    "start": ("lineitemusagestartdate",),
    "product": ("lineitemproductcode", "productservicecode", "productproductcode"),
    "type": ("lineitemlineitemtype",),
    "usage_type": ("lineitemusagetype",),
    "cost": ("lineitemunblendedcost",),
    "currency": ("lineitemcurrencycode",),
    "description": ("lineitemlineitemdescription",),
    "product_name": ("productproductname",),
    "model": ("productmodel", "productmodelname", "productmodelid"),
}


def _get(row: dict[str, str], name: str) -> str:
    for column in _COLUMNS[name]:
        if row.get(column):
            return row[column].strip()
    return ""


def is_bedrock(row: dict[str, str]) -> bool:
    text = " ".join((_get(row, "product"), _get(row, "product_name"))).lower()
    return "bedrock" in text


def parse(data: bytes) -> ParsedReport:
    data = unpack(data)
    if looks_like_json(data):
        raise FormatError("an AWS Cost and Usage Report is CSV (Parquet: export it as CSV)")
    report = ParsedReport()
    checked = False
    for number, raw in csv_rows(data):
        row = {squash(k): v for k, v in raw.items()}
        if not checked:
            if "lineitemunblendedcost" not in row or "lineitemusagestartdate" not in row:
                raise FormatError(
                    "not a Cost and Usage Report: no lineItem/UnblendedCost and "
                    "lineItem/UsageStartDate columns"
                )
            checked = True
        if not is_bedrock(row):
            report.skipped += 1
            continue
        kind = squash(_get(row, "type"))
        if kind not in COST_TYPES and kind not in CREDIT_TYPES:
            report.skipped += 1
            continue
        currency = _get(row, "currency").upper() or "USD"
        if currency != "USD":
            report.error(f"line {number}", f"currency {currency!r}: only USD is reconciled")
            continue
        try:
            nanos = usd_nanos(_get(row, "cost"))
            day = utc_day(_get(row, "start"))
        except ValueError as exc:
            report.error(f"line {number}", str(exc))
            continue
        usage_type = _get(row, "usage_type")
        model = _get(row, "model") or " ".join(
            x for x in (_get(row, "product_name"), usage_type) if x
        )
        item = usage_type or _get(row, "description")
        if kind in CREDIT_TYPES:
            report.lines.append(CostLine(day, model, item, 0, nanos))
        else:
            report.lines.append(CostLine(day, model, item, nanos))
    return report
