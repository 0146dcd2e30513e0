"""Prometheus metrics, on a registry owned by the application (never the global one).

The hot path only increments counters and observes histograms (a dict look-up and a
lock each): each labelled metric keeps its children by label values, so the client
library's label checks run once per label set, not once per call. What lives in the
store (budget fill, alert deliveries) or in other parts (writer queue, journal, lease)
is read when Prometheus scrapes, by a collector.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Generic, TypeVar

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import func, select

from llmledger.ledger import schema
from llmledger.ledger.event import UsageEvent
from llmledger.ledger.store import Store

log = logging.getLogger("llmledger.metrics")
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
_NANO = Decimal("1e-9")
#: Seconds: from well under a millisecond (the gateway's own share) to long streams.
_LATENCY_BUCKETS = (
    0.0005,
    0.001,
    0.0025,
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
    2.5,
    5.0,
    10.0,
    30.0,
    60.0,
    120.0,
    300.0,
)
_ADDED_BUCKETS = (0.0001, 0.00025, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0)

M = TypeVar("M", Counter, Histogram)


class Labelled(Generic[M]):
    """A labelled metric whose child for each label set is made once and then reused."""

    def __init__(self, metric: M) -> None:
        self.metric: M = metric
        self._children: dict[tuple[str, ...], M] = {}

    def labels(self, *values: str) -> M:
        child = self._children.get(values)
        if child is None:
            child = self._children[values] = self.metric.labels(*values)
        return child


#: Gauges read at scrape time: name -> (help, function returning the value).
Probe = tuple[str, Callable[[], float]]


class Metrics:
    """Every metric of one application; `render` is what ``GET /metrics`` answers."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.requests = Labelled(
            Counter(
                "llmledger_requests",
                "Gateway calls by provider and HTTP status.",
                ["provider", "status"],
                registry=r,
            )
        )
        self.latency = Labelled(
            Histogram(
                "llmledger_request_duration_seconds",
                "Whole call as the caller saw it.",
                ["provider"],
                buckets=_LATENCY_BUCKETS,
                registry=r,
            )
        )
        self.added = Labelled(
            Histogram(
                "llmledger_added_latency_seconds",
                "The gateway's own share: from the request's arrival until it is sent upstream "
                "(authentication, attribution, the durable reservation).",
                ["provider"],
                buckets=_ADDED_BUCKETS,
                registry=r,
            )
        )
        self.cost = Labelled(
            Counter(
                "llmledger_cost_usd",
                "Settled cost (USD) by department, provider and model.",
                ["department", "provider", "model"],
                registry=r,
            )
        )
        self.usage = Labelled(
            Counter(
                "llmledger_usage",
                "Settled usage by type (tokens, images, seconds...).",
                ["department", "provider", "model", "usage_type"],
                registry=r,
            )
        )
        self.blocked = Labelled(
            Counter(
                "llmledger_blocked",
                "Calls refused by an enforced budget.",
                ["provider"],
                registry=r,
            )
        )
        self.store_refusals = Labelled(
            Counter(
                "llmledger_store_unavailable",
                "Calls the gateway could not record in the store, by outcome "
                "(refused: fail_closed 503; journaled: fail_open).",
                ["outcome"],
                registry=r,
            )
        )
        self.in_flight = Gauge(
            "llmledger_reservations_in_flight",
            "Reservations of this process not yet settled.",
            registry=r,
        )
        self._probes: dict[str, Probe] = {}
        self._store: Store | None = None
        r.register(_ScrapeCollector(self))

    def probe(self, name: str, help_text: str, read: Callable[[], float]) -> None:
        """A gauge read at scrape time (writer queue, journal depth, lease)."""
        self._probes[name] = (help_text, read)

    def watch_store(self, store: Store) -> None:
        """Report budget fill and alert deliveries from `store` at scrape time."""
        self._store = store

    def settled(self, event: UsageEvent) -> None:
        """Count one settled call (in the event loop; cheap)."""
        self.in_flight.dec()
        key = (event.department, event.provider, event.model_used)
        cost = event.cost_nanos
        if cost:
            self.cost.labels(*key).inc(float(Decimal(cost) * _NANO))
        for usage_type, quantity in event.usage.items():
            self.usage.labels(*key, usage_type.value).inc(float(quantity))

    def render(self) -> bytes:
        return generate_latest(self.registry)


class _ScrapeCollector(Collector):
    def __init__(self, metrics: Metrics) -> None:
        self.metrics = metrics

    def describe(self) -> list[Metric]:
        return []  # dynamic: nothing to check at registration

    def collect(self) -> Iterator[Metric]:
        for name, (help_text, read) in self.metrics._probes.items():
            yield GaugeMetricFamily(name, help_text, value=read())
        store = self.metrics._store
        if store is None:
            return
        try:
            fill, deliveries = _from_store(store)
        except Exception:  # the store is away: /readyz says so; keep the other metrics
            log.debug("store metrics unavailable", exc_info=True)
            return
        yield fill
        yield deliveries


def _from_store(store: Store) -> tuple[GaugeMetricFamily, GaugeMetricFamily]:
    b, bp, n = schema.budgets, schema.budget_periods, schema.notifications
    latest = (
        select(bp.c.budget_id, func.max(bp.c.period_start_us).label("start"))
        .group_by(bp.c.budget_id)
        .subquery()
    )
    fill = GaugeMetricFamily(
        "llmledger_budget_fill_ratio",
        "(spent + reserved) / limit of each budget's current period.",
        labels=["scope", "period", "enforced"],
    )
    deliveries = GaugeMetricFamily(
        "llmledger_alert_deliveries",
        "Alert and digest messages in the outbox by channel and state.",
        labels=["channel", "state"],
    )
    with store.read() as conn:
        rows = conn.execute(
            select(
                b.c.scope,
                b.c.period,
                b.c.enforced,
                b.c.limit_nanos,
                bp.c.spent_nanos,
                bp.c.reserved_nanos,
            )
            .join(latest, latest.c.budget_id == b.c.id)
            .join(bp, (bp.c.budget_id == b.c.id) & (bp.c.period_start_us == latest.c.start))
        ).all()
        for scope, period, enforced, limit, spent, reserved in rows:
            ratio = (spent + reserved) / limit if limit else 0.0
            fill.add_metric([scope, period, "true" if enforced else "false"], ratio)
        for channel, sent, pending in conn.execute(
            select(
                n.c.channel, func.count(n.c.sent_us), func.count() - func.count(n.c.sent_us)
            ).group_by(n.c.channel)
        ).all():
            deliveries.add_metric([channel, "sent"], float(sent))
            deliveries.add_metric([channel, "pending"], float(pending))
    return fill, deliveries
