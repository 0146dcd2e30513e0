"""Usage records as they are imported (JSONL, CSV, ``POST /api/v1/usage``) and exported.

A record: ``{"id", "timestamp" (ISO 8601 with offset), "provider", "model", "department",
"project", "agent", "end_user"?, "usage": {usage type: quantity}, "cost_usd"?}``. In CSV
the usage types are columns of their own.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import NamedTuple

from llmledger.money import MoneyError, usd_to_nanos
from llmledger.usage import (
    MAX_QUANTITY,
    Usage,
    UsageError,
    UsageType,
    from_milli,
    parse_quantity,
    parse_usage_type,
)

ATTRIBUTION = ("department", "project", "agent", "end_user")
CSV_COLUMNS = (
    "id",
    "timestamp",
    "provider",
    "model",
    "department",
    "project",
    "agent",
    "end_user",
    "operation",
    "cost_usd",
    *(t.value for t in UsageType),
)
PROVIDERS = ("openai", "anthropic", "google", "bedrock")
_NAME = re.compile(r"^[\w .:/@+-]{1,200}$")
_MAX_FUTURE = timedelta(days=1)
_EARLIEST = datetime(2015, 1, 1, tzinfo=UTC)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_ONE_US = timedelta(microseconds=1)
_USAGE_TYPES: dict[object, UsageType] = dict(UsageType._value2member_map_)
_MAX_WHOLE = int(MAX_QUANTITY)
#: Distinct names remembered by a reader before it starts afresh.
_NAME_CACHE = 100_000


class RecordError(ValueError):
    """A record that cannot be imported; the message says which field and why."""


@dataclass(frozen=True, slots=True)
class UsageRecord:
    id: str
    timestamp: datetime
    provider: str
    model: str
    department: str
    project: str
    agent: str
    end_user: str
    operation: str
    usage: Usage
    reported_cost_nanos: int | None


def text_field(
    raw: Mapping[str, object],
    name: str,
    *,
    required: bool = False,
    pattern: re.Pattern[str] = _NAME,
) -> str:
    """A validated name field of a record (stripped; empty when absent and optional)."""
    value = raw.get(name)
    if value is None or value == "":
        if required:
            raise RecordError(f"{name}: missing")
        return ""
    if not isinstance(value, str):
        raise RecordError(f"{name}: expected text, got {type(value).__name__}")
    value = value.strip()
    if not pattern.match(value):
        raise RecordError(f"{name}: not a valid name: {value[:60]!r}")
    return value


def parse_timestamp(value: object, now: datetime) -> datetime:
    if not isinstance(value, str) or not value:
        raise RecordError("timestamp: missing")
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise RecordError(f"timestamp: not ISO 8601: {value[:40]!r}") from None
    if moment.tzinfo is None:
        raise RecordError(f"timestamp: needs a UTC offset: {value!r}")
    if moment < _EARLIEST or moment > now + _MAX_FUTURE:
        raise RecordError(f"timestamp: out of range: {value!r}")
    return moment.astimezone(UTC)


class RecordRow(NamedTuple):
    """A validated record in the store's units: the form bulk import works on."""

    id: str
    ts_us: int
    provider: str
    model: str
    department: str
    project: str
    agent: str
    end_user: str
    operation: str
    #: (type, quantity in thousandths) in the record's order, zero quantities left out.
    usage: tuple[tuple[UsageType, int], ...]
    reported_cost_nanos: int | None


class RecordReader:
    """Validates records against one clock, remembering the names it has accepted.

    A file repeats the same departments, projects, agents and models on every line, so
    each distinct name is checked once. Every check and message is `parse_record`'s:
    `parse_record` is this reader applied to one record.
    """

    def __init__(self, now: datetime) -> None:
        self._earliest_us = _us(_EARLIEST)
        self._latest_us = _us(now + _MAX_FUTURE)
        self._names: dict[str, str] = {}

    def read(self, raw: Mapping[str, object]) -> RecordRow:
        """Validate one record; raises `RecordError` naming the field at fault."""
        record_id = text_field(raw, "id", required=True)
        provider = self._name(raw, "provider", True)
        if provider not in PROVIDERS:
            raise RecordError(f"provider: unknown {provider!r} (known: {', '.join(PROVIDERS)})")
        usage = _usage(raw.get("usage"))
        reported = _reported_cost(raw.get("cost_usd"))
        return RecordRow(
            record_id,
            self._timestamp_us(raw.get("timestamp")),
            provider,
            self._name(raw, "model", True),
            self._name(raw, "department", False),
            self._name(raw, "project", False),
            self._name(raw, "agent", False),
            self._name(raw, "end_user", False),
            self._name(raw, "operation", False),
            usage,
            reported,
        )

    def _name(self, raw: Mapping[str, object], name: str, required: bool) -> str:
        value = raw.get(name)
        if type(value) is str:
            known = self._names.get(value)
            if known is not None:
                return known
        elif value is None and not required:
            return ""
        checked = text_field(raw, name, required=required)
        if checked and type(value) is str:
            if len(self._names) >= _NAME_CACHE:
                self._names.clear()
            self._names[value] = checked
        return checked

    def _timestamp_us(self, value: object) -> int:
        if not isinstance(value, str) or not value:
            raise RecordError("timestamp: missing")
        try:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise RecordError(f"timestamp: not ISO 8601: {value[:40]!r}") from None
        if moment.tzinfo is None:
            raise RecordError(f"timestamp: needs a UTC offset: {value!r}")
        ts_us = _us(moment)
        if ts_us < self._earliest_us or ts_us > self._latest_us:
            raise RecordError(f"timestamp: out of range: {value!r}")
        return ts_us


def _us(moment: datetime) -> int:
    return (moment - _EPOCH) // _ONE_US


def _usage(value: object) -> tuple[tuple[UsageType, int], ...]:
    if type(value) is not dict and not isinstance(value, Mapping):
        raise RecordError("usage: expected an object of usage type to quantity")
    items: list[tuple[UsageType, int]] = []
    try:
        for name, quantity in value.items():
            usage_type = _USAGE_TYPES.get(name) or parse_usage_type(name)
            if type(quantity) is int and 0 <= quantity <= _MAX_WHOLE:
                milli = quantity * 1000
            else:
                milli = int(parse_quantity(usage_type, quantity) * 1000)
            if milli:
                items.append((usage_type, milli))
    except UsageError as exc:
        raise RecordError(f"usage: {exc}") from None
    if not items:
        raise RecordError("usage: no quantity above zero")
    return tuple(items)


def _reported_cost(cost: object) -> int | None:
    if cost in (None, ""):
        return None
    if isinstance(cost, float | bool) or not isinstance(cost, str | int | Decimal):
        raise RecordError("cost_usd: expected a decimal string")
    try:
        reported = usd_to_nanos(Decimal(str(cost)))
    except (MoneyError, ArithmeticError, ValueError):
        raise RecordError(f"cost_usd: not an amount: {cost!r}") from None
    if reported < 0:
        raise RecordError(f"cost_usd: negative: {cost!r}")
    return reported


def parse_record(raw: Mapping[str, object], now: datetime) -> UsageRecord:
    """Validate one record; raises `RecordError` naming the field at fault."""
    row = RecordReader(now).read(raw)
    return UsageRecord(
        id=row.id,
        timestamp=_EPOCH + row.ts_us * _ONE_US,
        provider=row.provider,
        model=row.model,
        department=row.department,
        project=row.project,
        agent=row.agent,
        end_user=row.end_user,
        operation=row.operation,
        usage=Usage({t: from_milli(t, milli) for t, milli in row.usage}),
        reported_cost_nanos=row.reported_cost_nanos,
    )


def csv_row_to_raw(row: Mapping[str, str | None]) -> dict[str, object]:
    """A CSV row (usage types as columns) in the JSON record shape."""
    unknown = [k for k in row if k is not None and k not in CSV_COLUMNS]
    if unknown:
        raise RecordError(f"unknown column(s): {', '.join(sorted(unknown))}")
    raw: dict[str, object] = {}
    usage: dict[str, object] = {}
    for name, value in row.items():
        if value is None or value == "":
            continue
        if name in UsageType._value2member_map_:
            usage[name] = value
        else:
            raw[name] = value
    raw["usage"] = usage
    return raw
