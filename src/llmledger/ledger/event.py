"""A usage event: one call (or one imported record) with its attribution and cost."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import IntFlag, StrEnum

from llmledger.usage import Usage, UsageType


class EventFlag(IntFlag):
    NONE = 0
    UNPRICED = 1
    """No price known for the model or for one of its usage types."""
    ESTIMATED = 2
    """Some usage was estimated (no usage block, stream cut off)."""
    UNSETTLED = 4
    """Settled at its reserved amount after a crash: the real usage was never seen."""
    COST_MISMATCH = 8
    """An imported record's own cost differs from the ledger's price."""


class EventStatus(StrEnum):
    RESERVED = "reserved"
    """Recorded before forwarding; not yet settled."""
    SETTLED = "settled"
    UNSETTLED = "unsettled"
    BLOCKED = "blocked"
    FAILED = "failed"
    """The call was forwarded and failed; billed for whatever usage was reported."""


class EventSource(StrEnum):
    GATEWAY = "gateway"
    IMPORT = "import"
    API = "api"
    OTLP = "otlp"


UNATTRIBUTED = "unattributed"


@dataclass(frozen=True, slots=True)
class LineCost:
    """The cost of one usage type of one event."""

    cost_nanos: int
    list_cost_nanos: int


@dataclass(slots=True)
class UsageEvent:
    id: str
    ts: datetime
    provider: str
    model_requested: str
    source: EventSource
    status: EventStatus = EventStatus.SETTLED
    department: str = UNATTRIBUTED
    project: str = ""
    agent: str = ""
    key_id: str = ""
    end_user: str = ""
    model_used: str = ""
    operation: str = ""
    http_status: int | None = None
    flags: EventFlag = EventFlag.NONE
    usage: Usage = field(default_factory=Usage)
    costs: dict[UsageType, LineCost] = field(default_factory=dict)
    reserved_nanos: int = 0
    reported_cost_nanos: int | None = None
    requested_cost_nanos: int | None = None
    routed_from: str | None = None
    latency_ms: int | None = None
    detail: str | None = None

    def __post_init__(self) -> None:
        if self.ts.tzinfo is None:
            raise ValueError("event time must be timezone-aware")
        if not self.model_used:
            self.model_used = self.model_requested

    @property
    def cost_nanos(self) -> int:
        return sum(c.cost_nanos for c in self.costs.values())

    @property
    def list_cost_nanos(self) -> int:
        return sum(c.list_cost_nanos for c in self.costs.values())

    @property
    def ts_us(self) -> int:
        return to_us(self.ts)


def to_us(moment: datetime) -> int:
    """Microseconds since the epoch of an aware datetime (exact, no float)."""
    delta = moment.astimezone(UTC) - datetime(1970, 1, 1, tzinfo=UTC)
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def from_us(us: int) -> datetime:
    return datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=us)
