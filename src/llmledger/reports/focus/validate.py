"""A column-by-column FOCUS validator for the CSV and Parquet files llmledger writes.

Checks, per the FOCUS 1.2 specification: every Mandatory column is present; no unknown
column unless it is a custom ``x_`` column; nullability; data type formats (Numeric Format:
plain decimals, no sign for positives, no exponent; Date/Time Format:
``YYYY-MM-DDTHH:mm:ssZ``; Key-Value Format: a JSON object of unique keys with scalar
values; ISO 4217 currency); allowed values; and the rules between columns (ServiceSubcategory
under its ServiceCategory, charge period inside the billing period, pricing and consumed
columns set for usage and null for tax, ListCost = ListUnitPrice x PricingQuantity).
For Parquet, the physical types too: decimal128 (never float) and UTC timestamps.
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from llmledger.reports.focus.columns import (
    BY_NAME,
    SERVICE_SUBCATEGORIES,
    SPEC_COLUMNS,
    SPEC_MANDATORY,
    Kind,
)
from llmledger.reports.focus.write import csv_value

_NUMBER = re.compile(r"^-?(0|[1-9]\d*)(\.\d+)?$")
_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")
_CURRENCY = re.compile(r"^[A-Z]{3}$")
_PASCAL = re.compile(r"^[A-Z][A-Za-z0-9]*$")
_MAX_PROBLEMS = 200


@dataclass(frozen=True, slots=True)
class Problem:
    row: int
    """1-based data row (0: the file or its header)."""
    column: str
    message: str

    def __str__(self) -> str:
        where = f"row {self.row}" if self.row else "header"
        return f"{where}, {self.column}: {self.message}"


Row = Mapping[str, str | None]


def _unique_object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    keys = [k for k, _ in pairs]
    if len(set(keys)) != len(keys):
        raise ValueError("duplicate keys")
    return dict(pairs)


def _key_value(text: str) -> str | dict[str, Any]:
    try:
        value = json.loads(text, object_pairs_hook=_unique_object)
    except ValueError as exc:
        return f"not a JSON object with unique keys ({exc})"
    if not isinstance(value, dict):
        return "not a JSON object"
    for key, item in value.items():
        if isinstance(item, dict | list):
            return f"value of {key!r} is an object or array"
    return value


def _format_problem(kind: Kind, name: str, text: str) -> str | None:
    if kind is Kind.DECIMAL and not _NUMBER.match(text):
        return f"not a FOCUS numeric value: {text!r}"
    if kind is Kind.DATETIME:
        if not _DATETIME.match(text):
            return f"not YYYY-MM-DDTHH:mm:ssZ: {text!r}"
        try:
            datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ")
        except ValueError:
            return f"not a valid date/time: {text!r}"
    if kind is Kind.JSON:
        parsed = _key_value(text)
        if isinstance(parsed, str):
            return parsed
    if name == "BillingCurrency" and not _CURRENCY.match(text):
        return f"not an ISO 4217 currency code: {text!r}"
    return None


def _when(text: str | None) -> datetime | None:
    if not text or not _DATETIME.match(text):
        return None
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)


def _decimal(text: str | None) -> Decimal | None:
    return Decimal(text) if text and _NUMBER.match(text) else None


def check_header(columns: Iterable[str]) -> list[Problem]:
    names = list(columns)
    problems = [
        Problem(0, n, "Mandatory column missing") for n in sorted(SPEC_MANDATORY) if n not in names
    ]
    for name in names:
        if name not in SPEC_COLUMNS and not name.startswith("x_"):
            problems.append(Problem(0, name, "not a FOCUS column and not prefixed x_"))
    if len(set(names)) != len(names):
        problems.append(Problem(0, "*", "a column appears twice"))
    return problems


def _row_rules(n: int, row: Row) -> list[Problem]:
    out: list[Problem] = []

    def bad(column: str, message: str) -> None:
        out.append(Problem(n, column, message))

    category, sub = row.get("ServiceCategory"), row.get("ServiceSubcategory")
    if category and sub and sub not in SERVICE_SUBCATEGORIES.get(category, ()):
        bad("ServiceSubcategory", f"{sub!r} is not a subcategory of {category!r}")
    charge, correction = row.get("ChargeCategory"), row.get("ChargeClass") == "Correction"
    for column in ("PricingUnit", "PricingCategory", "PricingQuantity"):
        if column not in row:
            continue
        if charge in ("Usage", "Purchase") and not correction and not row.get(column):
            bad(column, f"must not be null for a {charge} charge")
        if charge == "Tax" and row.get(column):
            bad(column, "must be null for a Tax charge")
    if charge == "Usage" and not correction and "ConsumedQuantity" in row:
        quantity = _decimal(row.get("ConsumedQuantity"))
        if quantity is None or quantity <= 0:
            bad("ConsumedQuantity", "must be a positive decimal for a Usage charge")
        if not row.get("ConsumedUnit"):
            bad("ConsumedUnit", "must not be null when ConsumedQuantity is set")
    elif charge != "Usage" and row.get("ConsumedQuantity"):
        bad("ConsumedQuantity", f"must be null for a {charge} charge")
    if charge == "Purchase" and row.get("ChargeFrequency") == "Usage-Based":
        bad("ChargeFrequency", "a Purchase is not Usage-Based")
    start, end = _when(row.get("ChargePeriodStart")), _when(row.get("ChargePeriodEnd"))
    bill_start, bill_end = _when(row.get("BillingPeriodStart")), _when(row.get("BillingPeriodEnd"))
    if start and end and not start < end:
        bad("ChargePeriodEnd", "not after ChargePeriodStart")
    if bill_start and bill_end and not bill_start < bill_end:
        bad("BillingPeriodEnd", "not after BillingPeriodStart")
    if start and end and bill_start and bill_end and not (bill_start <= start and end <= bill_end):
        bad("ChargePeriodStart", "charge period outside its billing period")
    if row.get("SkuPriceDetails") and not row.get("SkuPriceId"):
        bad("SkuPriceDetails", "must be null when SkuPriceId is null")
    details = _key_value(row["SkuPriceDetails"] or "{}") if "SkuPriceDetails" in row else {}
    if isinstance(details, dict):
        for key in details:
            if not _PASCAL.match(key) or key.startswith("F_"):
                bad("SkuPriceDetails", f"property {key!r} is not PascalCase or uses F_")
    quantity = _decimal(row.get("PricingQuantity"))
    for cost_column, price_column in (
        ("ListCost", "ListUnitPrice"),
        ("ContractedCost", "ContractedUnitPrice"),
    ):
        cost, price = _decimal(row.get(cost_column)), _decimal(row.get(price_column))
        if cost is None or price is None or quantity is None:
            continue
        # Unit prices are rounded to 12 decimals: their product may differ by that much.
        if abs(price * quantity - cost) > abs(quantity) * Decimal("5e-13") + Decimal("1e-12"):
            bad(cost_column, f"{cost} is not {price_column} x PricingQuantity")
    return out


def check_rows(rows: Iterable[Row]) -> list[Problem]:
    """Problems of every row (column rules, then the rules between columns)."""
    problems: list[Problem] = []
    for n, row in enumerate(rows, start=1):
        for name, text in row.items():
            column = BY_NAME.get(name)
            if column is None:
                continue
            if text is None or text == "":
                if not column.nullable:
                    problems.append(Problem(n, name, "must not be null"))
                continue
            if column.allowed and text not in column.allowed:
                problems.append(Problem(n, name, f"{text!r} is not an allowed value"))
            message = _format_problem(column.kind, name, text)
            if message:
                problems.append(Problem(n, name, message))
        problems += _row_rules(n, row)
        if len(problems) >= _MAX_PROBLEMS:
            break
    return problems


def validate_csv(path: Path) -> list[Problem]:
    with path.open(encoding="utf-8", newline="") as f:
        reader = csv.DictReader(f)
        problems = check_header(reader.fieldnames or [])
        return problems + check_rows(reader)


def _parquet_type_problems(schema: pa.Schema) -> list[Problem]:
    problems = []
    for field in schema:
        column = BY_NAME.get(field.name)
        if column is None:
            continue
        kind = field.type
        if column.kind is Kind.DECIMAL and not pa.types.is_decimal(kind):
            problems.append(Problem(0, field.name, f"stored as {kind}, not a decimal"))
        elif column.kind is Kind.DATETIME and not (
            pa.types.is_timestamp(kind) and kind.tz in ("UTC", "+00:00")
        ):
            problems.append(Problem(0, field.name, f"stored as {kind}, not a UTC timestamp"))
        elif column.kind in (Kind.STRING, Kind.JSON) and not pa.types.is_string(kind):
            problems.append(Problem(0, field.name, f"stored as {kind}, not a string"))
    return problems


def validate_parquet(path: Path) -> list[Problem]:
    table = pq.read_table(path)
    problems = check_header(table.column_names) + _parquet_type_problems(table.schema)
    names = table.column_names
    rows = (
        {name: (None if v is None else csv_value(v)) for name, v in zip(names, values, strict=True)}
        for values in zip(*(table.column(n).to_pylist() for n in names), strict=True)
    )
    return problems + check_rows(rows)


def validate_file(path: Path) -> list[Problem]:
    """Problems of a FOCUS file (``.parquet`` or CSV); empty when it conforms."""
    if path.suffix.lower() == ".parquet":
        return validate_parquet(path)
    return validate_csv(path)
