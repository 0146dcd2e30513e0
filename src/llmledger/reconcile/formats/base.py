"""What every report reader shares: the normalised line, amounts, times, file shapes."""

from __future__ import annotations

import csv
import gzip
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation

from llmledger.money import MAX_USD, NANOS_PER_USD, exact, round_nanos

MAX_FILE_BYTES = 512 * 1024 * 1024


class FormatError(ValueError):
    """A report that cannot be read at all (wrong format, not the provider's shape)."""


@dataclass(frozen=True, slots=True)
class CostLine:
    """One amount of a provider's report: a UTC day, a model (as the report names it), a
    line item, the cost before credits and the credits (negative), in nano-USD."""

    day: date
    model: str
    line_item: str
    cost_nanos: int
    credits_nanos: int = 0


@dataclass(slots=True)
class ParsedReport:
    lines: list[CostLine] = field(default_factory=list)
    errors: list[tuple[str, str]] = field(default_factory=list)
    """(where: "line 12" or "bucket 3 result 1", what is wrong)."""
    skipped: int = 0
    """Rows of other services (an AWS or Google Cloud export holds every service)."""

    def error(self, where: str, message: str) -> None:
        self.errors.append((where, message))


def usd_nanos(value: object, *, cents: bool = False) -> int:
    """An amount as the report writes it (number or decimal string) in nano-USD, rounded
    half to even when the report carries more than nine decimals."""
    if isinstance(value, bool) or value is None or value == "":
        raise ValueError("missing amount")
    if isinstance(value, float):  # the JSON readers below never produce floats
        raise ValueError("binary float amount")
    try:
        amount = value if isinstance(value, Decimal) else Decimal(str(value).strip())
    except InvalidOperation:
        raise ValueError(f"not an amount: {str(value)[:40]!r}") from None
    if not amount.is_finite() or abs(amount) >= MAX_USD * (100 if cents else 1):
        raise ValueError(f"amount out of range: {str(value)[:40]!r}")
    nanos = exact().multiply(amount, Decimal(NANOS_PER_USD // (100 if cents else 1)))
    return round_nanos(nanos)


def utc_day(value: object) -> date:
    """The UTC date of a timestamp: Unix seconds, ISO 8601 / RFC 3339, or
    ``2026-11-03 08:00:00 UTC`` (BigQuery's text form)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return datetime.fromtimestamp(value, UTC).date()
    if not isinstance(value, str) or not value.strip():
        raise ValueError("missing time")
    text = value.strip()
    if text.isdigit():
        return datetime.fromtimestamp(int(text), UTC).date()
    text = text.replace(" UTC", "+00:00").replace("Z", "+00:00")
    if len(text) == 10:
        return date.fromisoformat(text)
    try:
        moment = datetime.fromisoformat(text.replace(" ", "T", 1))
    except ValueError:
        raise ValueError(f"not a time: {value[:40]!r}") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).date()


def unpack(data: bytes) -> bytes:
    if len(data) > MAX_FILE_BYTES:
        raise FormatError(f"report larger than {MAX_FILE_BYTES // 1024 // 1024} MiB")
    if data[:2] == b"\x1f\x8b":
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError) as exc:
            raise FormatError(f"not a valid gzip file: {exc}") from None
    return data.removeprefix(b"\xef\xbb\xbf")


def looks_like_json(data: bytes) -> bool:
    return data.lstrip()[:1] in (b"{", b"[")


def load_json(data: bytes) -> object:
    """JSON with exact decimals (a number with a fraction is a `Decimal`, never a float)."""
    try:
        return json.loads(data, parse_float=Decimal)
    except (ValueError, UnicodeDecodeError) as exc:
        raise FormatError(f"not valid JSON: {exc}") from None


def json_lines(data: bytes) -> Iterator[tuple[int, object]]:
    """Newline-delimited JSON (one object a line), with line numbers."""
    for number, line in enumerate(data.splitlines(), start=1):
        if line.strip():
            try:
                yield number, json.loads(line, parse_float=Decimal)
            except (ValueError, UnicodeDecodeError) as exc:
                yield number, FormatError(f"not valid JSON: {exc}")


def csv_rows(data: bytes) -> Iterator[tuple[int, dict[str, str]]]:
    """CSV rows keyed by header, with the file's line numbers."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise FormatError(f"file is not UTF-8: {exc}") from None
    reader = csv.DictReader(io.StringIO(text, newline=""))
    if not reader.fieldnames:
        raise FormatError("empty CSV file")
    for row in reader:
        yield reader.line_num, {k: (v or "") for k, v in row.items() if k is not None}


def squash(name: str) -> str:
    """Column names compared without case or separators: ``lineItem/UnblendedCost`` and
    ``line_item_unblended_cost`` are the same column."""
    return "".join(ch for ch in name.lower() if ch.isalnum())
