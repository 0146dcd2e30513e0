"""Business outcomes: recorded through the API or imported from JSONL/CSV, deduplicated by id.

A record: ``{"id", "timestamp" (ISO 8601 with offset), "department", "project"?, "agent"?,
"metric", "quantity", "value_usd"?}``. Its metric must be declared for its scope (or a
scope above it). Imports validate every row, report bad rows by line number and write the
good ones in batches, one transaction each, so a re-import adds nothing.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path

from sqlalchemy import Connection, select

from llmledger.ledger import schema
from llmledger.ledger.event import to_us
from llmledger.ledger.store import Store
from llmledger.money import MoneyError, format_usd, usd_to_nanos
from llmledger.reports.records import RecordError, parse_timestamp
from llmledger.reports.records import text_field as record_text_field
from llmledger.roi.metrics import Catalogue, MetricError, check_metric_name

MAX_LINE_BYTES = 100_000
MAX_QUANTITY = Decimal(10) ** 12
CSV_COLUMNS = (
    "id",
    "timestamp",
    "department",
    "project",
    "agent",
    "metric",
    "quantity",
    "value_usd",
)
RawRow = tuple[int, Mapping[str, object] | str]
_NAME = re.compile(r"^[\w .:@+&-]{1,200}$")


@dataclass(frozen=True, slots=True)
class Outcome:
    id: str
    timestamp: datetime
    department: str
    project: str
    agent: str
    metric: str
    quantity_milli: int
    value_nanos: int | None

    def as_json(self) -> dict[str, object]:
        out: dict[str, object] = {
            "id": self.id,
            "timestamp": self.timestamp.isoformat(),
            "department": self.department,
            "project": self.project,
            "agent": self.agent,
            "metric": self.metric,
            "quantity": quantity_text(self.quantity_milli),
        }
        if self.value_nanos is not None:
            out["value_usd"] = format_usd(self.value_nanos)
        return out


def quantity_text(milli: int) -> int | str:
    value = Decimal(milli) / 1000
    return int(value) if value == value.to_integral_value() else format(value.normalize(), "f")


def text_field(raw: Mapping[str, object], name: str, *, required: bool = False) -> str:
    """A record's name field under the outcome naming rule (``&`` allowed, ``/`` not)."""
    return record_text_field(raw, name, required=required, pattern=_NAME)


def _quantity(raw: object) -> int:
    if isinstance(raw, bool) or raw is None or raw == "":
        raise RecordError("quantity: missing")
    if isinstance(raw, float):
        raise RecordError("quantity: expected an integer or a decimal string")
    try:
        value = Decimal(str(raw).strip()) if not isinstance(raw, Decimal) else raw
    except InvalidOperation:
        raise RecordError(f"quantity: not a number: {str(raw)[:40]!r}") from None
    if not value.is_finite() or value <= 0:
        raise RecordError(f"quantity: must be above zero, got {str(raw)[:40]!r}")
    if value >= MAX_QUANTITY:
        raise RecordError(f"quantity: out of range: {str(raw)[:40]!r}")
    milli = value * 1000
    if milli != milli.to_integral_value():
        raise RecordError(f"quantity: at most three decimals, got {str(raw)[:40]!r}")
    return int(milli)


def _value(raw: object) -> int | None:
    if raw is None or raw == "":
        return None
    if isinstance(raw, bool | float) or not isinstance(raw, str | int | Decimal):
        raise RecordError("value_usd: expected a decimal string")
    try:
        nanos = usd_to_nanos(raw if isinstance(raw, Decimal) else str(raw))
    except MoneyError as exc:
        raise RecordError(f"value_usd: {exc}") from None
    if nanos < 0:
        raise RecordError("value_usd: must not be negative")
    return nanos


def parse_outcome(raw: Mapping[str, object], now: datetime, catalogue: Catalogue) -> Outcome:
    """Validate one record; raises `RecordError` naming the field at fault."""
    unknown = sorted(k for k in raw if k not in CSV_COLUMNS)
    if unknown:
        raise RecordError(f"unknown field(s): {', '.join(unknown)}")
    outcome_id = text_field(raw, "id", required=True)
    department = text_field(raw, "department", required=True)
    project = text_field(raw, "project")
    agent = text_field(raw, "agent")
    if agent and not project:
        raise RecordError("project: an outcome with an agent needs its project")
    if "/" in department + project + agent:
        raise RecordError("department, project and agent names cannot contain '/'")
    metric_raw = raw.get("metric")
    if not isinstance(metric_raw, str) or not metric_raw:
        raise RecordError("metric: missing")
    try:
        metric = check_metric_name(metric_raw.strip())
    except MetricError as exc:
        raise RecordError(str(exc)) from None
    if catalogue.resolve(department, project, agent, metric) is None:
        where = "/".join(p for p in (department, project, agent) if p)
        raise RecordError(
            f"metric: {metric!r} is not declared for {where} "
            f"(llmledger outcomes declare SCOPE {metric} --unit UNIT)"
        )
    return Outcome(
        outcome_id,
        parse_timestamp(raw.get("timestamp"), now),
        department,
        project,
        agent,
        metric,
        _quantity(raw.get("quantity")),
        _value(raw.get("value_usd")),
    )


def record_outcomes(
    conn: Connection,
    outcomes: Sequence[Outcome],
    zone: object,
    *,
    source: str = "",
    now: datetime | None = None,
) -> set[str]:
    """Insert the outcomes whose id is new; returns the ids inserted."""
    unique: dict[str, Outcome] = {}
    for o in outcomes:
        unique.setdefault(o.id, o)
    if not unique:
        return set()
    t = schema.outcomes
    ids = list(unique)
    existing: set[str] = set()
    for start in range(0, len(ids), 900):
        existing.update(
            conn.execute(select(t.c.id).where(t.c.id.in_(ids[start : start + 900]))).scalars()
        )
    created = to_us(now or datetime.now(UTC))
    fresh = [o for i, o in unique.items() if i not in existing]
    if fresh:
        conn.execute(
            t.insert(),
            [
                {
                    "id": o.id,
                    "ts_us": to_us(o.timestamp),
                    "day": o.timestamp.astimezone(zone).date().isoformat(),  # type: ignore[arg-type]
                    "department": o.department,
                    "project": o.project,
                    "agent": o.agent,
                    "metric": o.metric,
                    "quantity_milli": o.quantity_milli,
                    "value_nanos": o.value_nanos,
                    "source": source,
                    "created_us": created,
                }
                for o in fresh
            ],
        )
    return {o.id for o in fresh}


@dataclass(slots=True)
class OutcomeReport:
    read: int = 0
    imported: int = 0
    duplicates: int = 0
    errors: list[tuple[int, str]] = field(default_factory=list)

    def as_json(self) -> dict[str, object]:
        return {
            "read": self.read,
            "imported": self.imported,
            "duplicates": self.duplicates,
            "errors": [{"line": n, "error": m} for n, m in self.errors],
        }


def loads(data: bytes | str) -> object:
    """JSON with exact decimals: a number with a fraction becomes a `Decimal`, never a float."""
    return json.loads(data, parse_float=Decimal)


def read_jsonl(stream: Iterable[bytes]) -> Iterator[RawRow]:
    for number, line in enumerate(stream, start=1):
        if not line.strip():
            continue
        if len(line) > MAX_LINE_BYTES:
            yield number, f"line longer than {MAX_LINE_BYTES} bytes"
            continue
        try:
            value = loads(line)
        except (ValueError, UnicodeDecodeError) as exc:
            yield number, f"not valid JSON: {exc}"
            continue
        if not isinstance(value, dict):
            yield number, "expected a JSON object"
            continue
        yield number, value


def read_csv(stream: io.TextIOBase) -> Iterator[RawRow]:
    reader = csv.DictReader(stream)
    for row in reader:
        if None in row:
            yield reader.line_num, "more fields than the header has columns"
            continue
        yield reader.line_num, {k: v for k, v in row.items() if v not in (None, "")}


def rows_of(path: Path) -> Iterator[RawRow]:
    """Rows of a JSONL (``.jsonl``, ``.ndjson``, ``.json``) or CSV (``.csv``) file."""
    suffix = path.suffix.lower()
    if suffix == ".csv":
        with path.open("r", encoding="utf-8", newline="") as text:
            try:
                yield from read_csv(text)
            except UnicodeDecodeError as exc:
                yield 0, f"file is not UTF-8: {exc}"
    elif suffix in (".jsonl", ".ndjson", ".json"):
        with path.open("rb") as binary:
            yield from read_jsonl(binary)
    else:
        raise ValueError(f"unknown file type {suffix!r}: use .jsonl or .csv")


def import_outcomes(
    rows: Iterable[RawRow],
    store: Store,
    *,
    source: str = "import",
    batch_size: int = 5_000,
    now: datetime | None = None,
    progress: Callable[[int], None] | None = None,
) -> OutcomeReport:
    """Validate and record outcomes; bad rows are reported by line, the rest are written."""
    report = OutcomeReport()
    clock = now or datetime.now(UTC)
    with store.read() as conn:
        catalogue = Catalogue.load(conn)
    batch: list[Outcome] = []

    def flush() -> None:
        if not batch:
            return
        with store.write() as conn:
            inserted = record_outcomes(conn, batch, store.zone, source=source, now=clock)
        report.imported += len(inserted)
        report.duplicates += len(batch) - len(inserted)
        if progress:
            progress(len(batch))
        batch.clear()

    for number, raw in rows:
        report.read += 1
        if isinstance(raw, str):
            report.errors.append((number, raw))
            continue
        try:
            batch.append(parse_outcome(raw, clock, catalogue))
        except RecordError as exc:
            report.errors.append((number, str(exc)))
            continue
        if len(batch) >= batch_size:
            flush()
    flush()
    return report
