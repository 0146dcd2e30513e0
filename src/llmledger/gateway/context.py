"""What every provider handler of one application shares: the writer, the catalog,
the key cache, the budget book and the optional parts (routing, Redis, metrics)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from sqlalchemy import Connection

from llmledger.gateway.ids import RequestIds
from llmledger.gateway.keycache import KeyCache
from llmledger.gateway.prompts import PromptLog
from llmledger.gateway.ratelimit import Limiter, RateLimits
from llmledger.gateway.routes import ProviderRoute
from llmledger.guardrails.book import BudgetBook
from llmledger.guardrails.counters import LocalCounters
from llmledger.guardrails.redis_book import RedisBudgets
from llmledger.ledger import reservations
from llmledger.ledger.event import UsageEvent
from llmledger.ledger.reservation_log import ReservationLog
from llmledger.ledger.reservations import CallWrite
from llmledger.ledger.writer import LedgerWriter, WriteMany
from llmledger.ops.metrics import Metrics
from llmledger.pricing import PriceCatalog
from llmledger.routing.hook import RoutingHook


@dataclass(slots=True)
class GatewayContext:
    """What every provider handler shares (one per application)."""

    writer: LedgerWriter
    catalog: PriceCatalog
    keys: KeyCache
    budgets: BudgetBook
    max_body_bytes: int
    allow_unpriced: bool
    routing: RoutingHook | None = None
    #: Every provider's route, for calls routed to another provider's model.
    routes: Mapping[str, ProviderRoute] = field(default_factory=dict)
    #: Hands each settled call to the OpenTelemetry span exporter ([otel]); None: off.
    spans: Callable[[UsageEvent], None] | None = None
    #: Per-key requests/tokens per minute: in memory per process (gateway/ratelimit.py),
    #: or shared by the replicas through Redis (gateway/shared_limits.py).
    limits: Limiter = field(default_factory=RateLimits)
    #: Prompt logging (gateway/prompts.py); None or inactive: nothing is captured.
    prompts: PromptLog | None = None
    #: Prometheus metrics (ops/metrics.py); None: not counted.
    metrics: Metrics | None = None
    #: A store one process owns (SQLite): budget holds decided in this process's memory
    #: (guardrails/counters.py), reservations made durable by the reservation log, and
    #: every write of a call left to the writer. None: the store decides (PostgreSQL).
    counters: LocalCounters | None = None
    reservation_log: ReservationLog | None = None
    #: Budget holds decided in Redis first, across replicas (guardrails/redis_book.py).
    redis: RedisBudgets | None = None
    #: Request (and event) ids, without a system call per call.
    ids: RequestIds = field(default_factory=RequestIds)
    settle_many: WriteMany = field(init=False)
    write_calls: WriteMany = field(init=False)

    def __post_init__(self) -> None:
        zone = self.writer.store.zone

        def settle_many(conn: Connection, events: list[UsageEvent]) -> list[bool]:
            return reservations.settle_many(conn, events, zone)

        def write_calls(conn: Connection, writes: list[CallWrite]) -> list[bool]:
            return reservations.write_calls(conn, writes, zone)

        # One function each for the application, so the writer merges every write of a
        # kind queued in a transaction into a few statements.
        self.settle_many = settle_many
        self.write_calls = write_calls
