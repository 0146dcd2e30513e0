"""Import usage records from JSONL or CSV: validated per row, priced, deduplicated by id.

Rows are committed in batches; each batch is one transaction, so a crash leaves no half
batch behind, and a bad row is reported by line number without stopping the rest.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import orjson

from llmledger.ledger.event import UNATTRIBUTED, EventFlag, EventSource, EventStatus, UsageEvent
from llmledger.ledger.recording import BulkRow, record_rows
from llmledger.ledger.store import Store
from llmledger.metering import line_costs
from llmledger.pricing import PriceCatalog
from llmledger.pricing.batch import BatchPricer
from llmledger.reports.records import RecordError, RecordReader, UsageRecord, csv_row_to_raw
from llmledger.usage import UsageType

MAX_LINE_BYTES = 1_000_000
#: SQLite page cache of the writer while an import runs (KiB).
BULK_CACHE_KIB = 262_144
#: The page cache the store's connections otherwise keep: SQLite's default, 2,000 KiB.
SQLITE_CACHE_KIB = 2_000
_UNPRICED = int(EventFlag.UNPRICED)
_COST_MISMATCH = int(EventFlag.COST_MISMATCH)
_SETTLED = EventStatus.SETTLED.value
_NAMES = {t: t.value for t in UsageType}


@dataclass(slots=True)
class ImportReport:
    read: int = 0
    imported: int = 0
    duplicates: int = 0
    unpriced: int = 0
    errors: list[tuple[int, str]] = field(default_factory=list)
    warnings: list[tuple[int, str]] = field(default_factory=list)

    def as_json(self) -> dict[str, object]:
        return {
            "read": self.read,
            "imported": self.imported,
            "duplicates": self.duplicates,
            "unpriced": self.unpriced,
            "errors": [{"line": n, "error": m} for n, m in self.errors],
            "warnings": [{"line": n, "warning": m} for n, m in self.warnings],
        }


RawRow = tuple[int, dict[str, object] | str]
"""A line number and either the raw record or the reason it could not be read."""


def read_jsonl(stream: io.BufferedReader | io.BytesIO) -> Iterator[RawRow]:
    for number, line in enumerate(stream, start=1):
        if not line.strip():
            continue
        if len(line) > MAX_LINE_BYTES:
            yield number, f"line longer than {MAX_LINE_BYTES} bytes"
            continue
        try:
            value = orjson.loads(line)
        except orjson.JSONDecodeError as exc:
            yield number, f"not valid JSON: {exc}"
            continue
        if not isinstance(value, dict):
            yield number, "expected a JSON object"
            continue
        yield number, value


def read_csv(stream: io.TextIOBase) -> Iterator[RawRow]:
    reader = csv.DictReader(stream)
    for row in reader:
        number = reader.line_num
        if None in row:
            yield number, "more fields than the header has columns"
            continue
        try:
            yield number, csv_row_to_raw(row)
        except RecordError as exc:
            yield number, str(exc)


def rows_of(path: Path) -> Iterator[RawRow]:
    """Rows of a JSONL (``.jsonl``, ``.ndjson``, ``.json``) or CSV (``.csv``) file."""
    suffix = path.suffix.lower()
    if suffix == ".csv":
        with path.open("r", encoding="utf-8", newline="", errors="strict") as text:
            try:
                yield from read_csv(text)
            except UnicodeDecodeError as exc:
                yield 0, f"file is not UTF-8: {exc}"
    elif suffix in (".jsonl", ".ndjson", ".json"):
        with path.open("rb") as binary:
            yield from read_jsonl(binary)
    else:
        raise ValueError(f"unknown file type {suffix!r}: use .jsonl or .csv")


def to_event(record: UsageRecord, catalog: PriceCatalog, source: EventSource) -> UsageEvent:
    quote = catalog.quote(record.usage, record.provider, record.model, record.timestamp)
    costs, flags = line_costs(quote)
    event = UsageEvent(
        id=record.id,
        ts=record.timestamp,
        provider=record.provider,
        model_requested=record.model,
        source=source,
        department=record.department or "unattributed",
        project=record.project,
        agent=record.agent,
        end_user=record.end_user,
        operation=record.operation,
        flags=flags,
        usage=record.usage,
        costs=costs,
        reported_cost_nanos=record.reported_cost_nanos,
    )
    if record.reported_cost_nanos is not None and record.reported_cost_nanos != event.cost_nanos:
        event.flags |= EventFlag.COST_MISMATCH
    return event


def import_rows(
    rows: Iterable[RawRow],
    store: Store,
    catalog: PriceCatalog,
    *,
    allow_unpriced: bool = True,
    batch_size: int = 10_000,
    source: EventSource = EventSource.IMPORT,
    progress: Callable[[int], None] | None = None,
    now: datetime | None = None,
) -> ImportReport:
    """Validate, price and write records; each batch of `batch_size` is one transaction.

    Records go straight to the store's row form (`record_rows`): validated by a
    `RecordReader`, priced by a `BatchPricer` (the catalog's exact quote, compiled once
    per model, price period and set of usage types), events and usage lines inserted
    with ``executemany`` or ``COPY``, rollups summed per batch.
    """
    report = ImportReport()
    reader = RecordReader(now or datetime.now(UTC))
    pricer = BatchPricer(catalog)
    origin = source.value
    batch: list[BulkRow] = []

    def flush() -> None:
        if not batch:
            return
        with store.write() as conn:
            if sqlite:
                conn.exec_driver_sql(f"PRAGMA cache_size = -{BULK_CACHE_KIB}")
            inserted = record_rows(conn, batch, store.zone)
        report.imported += len(inserted)
        report.duplicates += len(batch) - len(inserted)
        if progress:
            progress(len(batch))
        batch.clear()

    # A larger page cache for SQLite's writer while the import runs: with the default
    # 2 MB, each batch's upserts spread over the rollup tables evict and re-read pages
    # and spill them to the WAL before the commit writes them again.
    sqlite = store.dialect == "sqlite"
    _read_rows(rows, reader, pricer, origin, allow_unpriced, report, batch, batch_size, flush)
    flush()
    if sqlite and (report.imported or report.duplicates):
        with store.write() as conn:
            conn.exec_driver_sql(f"PRAGMA cache_size = -{SQLITE_CACHE_KIB}")
    return report


def _read_rows(
    rows: Iterable[RawRow],
    reader: RecordReader,
    pricer: BatchPricer,
    origin: str,
    allow_unpriced: bool,
    report: ImportReport,
    batch: list[BulkRow],
    batch_size: int,
    flush: Callable[[], None],
) -> None:
    for number, raw in rows:
        report.read += 1
        if isinstance(raw, str):
            report.errors.append((number, raw))
            continue
        try:
            record = reader.read(raw)
        except RecordError as exc:
            report.errors.append((number, str(exc)))
            continue
        priced = pricer.price(record.provider, record.model, record.ts_us, record.usage)
        flags = 0
        if priced.unpriced:
            if not allow_unpriced:
                report.errors.append((number, f"no price for {record.provider}/{record.model}"))
                continue
            flags = _UNPRICED
            report.unpriced += 1
            report.warnings.append(
                (number, f"no price for {record.provider}/{record.model}: recorded as unpriced")
            )
        event_id = record.id
        cost = list_cost = 0
        lines = []
        for (usage_type, quantity), (line_cost, line_list_cost) in zip(
            record.usage, priced.costs, strict=True
        ):
            cost += line_cost
            list_cost += line_list_cost
            lines.append((event_id, _NAMES[usage_type], quantity, line_cost, line_list_cost))
        reported = record.reported_cost_nanos
        if reported is not None and reported != cost:
            flags |= _COST_MISMATCH
            report.warnings.append((number, "reported cost_usd differs from the ledger's price"))
        values = (
            event_id,
            record.ts_us,
            record.department or UNATTRIBUTED,
            record.project,
            record.agent,
            "",
            record.provider,
            record.model,
            _SETTLED,
            flags,
            cost,
            list_cost,
            None,
            None,
            record.end_user,
            record.model,
            record.operation,
            origin,
            None,
            0,
            reported,
            None,
            None,
        )
        batch.append((values, tuple(lines)))
        if len(batch) >= batch_size:
            flush()


def import_file(path: Path, store: Store, catalog: PriceCatalog, **kwargs: object) -> ImportReport:
    return import_rows(rows_of(path), store, catalog, **kwargs)  # type: ignore[arg-type]
