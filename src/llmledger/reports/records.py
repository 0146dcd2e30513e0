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

from llmledger.money import MoneyError, usd_to_nanos
from llmledger.usage import Usage, UsageError, UsageType

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


def parse_record(raw: Mapping[str, object], now: datetime) -> UsageRecord:
    """Validate one record; raises `RecordError` naming the field at fault."""
    record_id = text_field(raw, "id", required=True)
    provider = text_field(raw, "provider", required=True)
    if provider not in PROVIDERS:
        raise RecordError(f"provider: unknown {provider!r} (known: {', '.join(PROVIDERS)})")
    usage_raw = raw.get("usage")
    if not isinstance(usage_raw, Mapping):
        raise RecordError("usage: expected an object of usage type to quantity")
    try:
        usage = Usage.parse(usage_raw)
    except UsageError as exc:
        raise RecordError(f"usage: {exc}") from None
    if not usage:
        raise RecordError("usage: no quantity above zero")
    cost = raw.get("cost_usd")
    reported: int | None = None
    if cost not in (None, ""):
        if isinstance(cost, float | bool) or not isinstance(cost, str | int | Decimal):
            raise RecordError("cost_usd: expected a decimal string")
        try:
            reported = usd_to_nanos(Decimal(str(cost)))
        except (MoneyError, ArithmeticError, ValueError):
            raise RecordError(f"cost_usd: not an amount: {cost!r}") from None
        if reported < 0:
            raise RecordError(f"cost_usd: negative: {cost!r}")
    return UsageRecord(
        id=record_id,
        timestamp=parse_timestamp(raw.get("timestamp"), now),
        provider=provider,
        model=text_field(raw, "model", required=True),
        department=text_field(raw, "department"),
        project=text_field(raw, "project"),
        agent=text_field(raw, "agent"),
        end_user=text_field(raw, "end_user"),
        operation=text_field(raw, "operation"),
        usage=usage,
        reported_cost_nanos=reported,
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
