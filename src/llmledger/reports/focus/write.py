"""FOCUS rows to CSV (UTF-8, header of Column IDs, empty field for null) and to Parquet
(decimal128 for every amount and quantity, timestamp UTC for every date/time; never a
binary float)."""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterable
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, BinaryIO, TextIO

import pyarrow as pa
import pyarrow.parquet as pq

from llmledger.reports.focus.columns import COLUMNS, FOCUS_VERSION, Column, Kind
from llmledger.reports.focus.rows import FocusRow

_BATCH = 20_000


def csv_value(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%dT%H:%M:%SZ")
    if isinstance(value, Decimal):
        return format(value, "f")
    return str(value)


def write_csv(
    rows: Iterable[FocusRow], out: TextIO, progress: Callable[[int], None] | None = None
) -> int:
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([c.name for c in COLUMNS])
    count = 0
    for row in rows:
        writer.writerow([csv_value(row.get(c.name)) for c in COLUMNS])
        count += 1
        if progress and count % 10_000 == 0:
            progress(10_000)
    if progress:
        progress(count % 10_000)
    return count


def arrow_type(column: Column) -> pa.DataType:
    if column.kind is Kind.DECIMAL:
        return pa.decimal128(38, column.scale)
    if column.kind is Kind.DATETIME:
        return pa.timestamp("ms", tz="UTC")  # Parquet has no seconds unit
    return pa.string()


def arrow_schema() -> pa.Schema:
    fields = [pa.field(c.name, arrow_type(c), nullable=c.nullable) for c in COLUMNS]
    return pa.schema(
        fields, metadata={b"focus_version": FOCUS_VERSION.encode(), b"data_generator": b"llmledger"}
    )


def _arrow_value(column: Column, value: object) -> Any:
    if value is None or column.kind is not Kind.DECIMAL:
        return value
    assert isinstance(value, Decimal)
    exact = value.quantize(Decimal(1).scaleb(-column.scale))
    if exact != value:
        raise ValueError(f"{column.name}: {value} has more than {column.scale} decimals")
    return exact


def _batch(rows: list[FocusRow], schema: pa.Schema) -> pa.RecordBatch:
    arrays = [
        pa.array([_arrow_value(c, r.get(c.name)) for r in rows], type=schema.field(c.name).type)
        for c in COLUMNS
    ]
    return pa.RecordBatch.from_arrays(arrays, schema=schema)


def write_parquet(
    rows: Iterable[FocusRow],
    out: str | Path | BinaryIO,
    progress: Callable[[int], None] | None = None,
) -> int:
    schema = arrow_schema()
    count = 0
    with pq.ParquetWriter(out, schema, compression="zstd") as writer:
        chunk: list[FocusRow] = []
        for row in rows:
            chunk.append(row)
            if len(chunk) >= _BATCH:
                writer.write_batch(_batch(chunk, schema))
                count += len(chunk)
                if progress:
                    progress(len(chunk))
                chunk = []
        if chunk or not count:
            writer.write_batch(_batch(chunk, schema))
            count += len(chunk)
            if progress:
                progress(len(chunk))
    return count
