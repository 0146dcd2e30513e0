"""One demo call: its usage, its time, and its price from the real catalog."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from llmledger.demo.company import ModelUse, Shape
from llmledger.demo.plan import Clock, hour_cumulative
from llmledger.ledger.event import EventSource, EventStatus, UsageEvent
from llmledger.metering import line_costs
from llmledger.pricing import PriceCatalog
from llmledger.usage import Usage, UsageType

SIZE_SIGMA = 0.3
_HOURS = tuple(range(24))
_COUNTED = frozenset({UsageType.IMAGES, UsageType.INPUT_IMAGES, UsageType.REQUESTS})


@dataclass(frozen=True, slots=True)
class Who:
    department: str
    project: str
    agent: str
    key_id: str


@dataclass(slots=True)
class CallMaker:
    """Makes priced `UsageEvent`s; ids and sizes come from `rng`, so a seed repeats them."""

    catalog: PriceCatalog
    clock: Clock
    rng: random.Random
    seed: int
    scale: float = 1.0
    """Multiplies every planned amount (a smaller company for tests)."""
    count: int = 0
    _unit: dict[int, float] = field(default_factory=dict)

    def usage(self, use: ModelUse) -> Usage:
        factor = min(1.15, max(0.4, self.rng.lognormvariate(0, SIZE_SIGMA)))
        items: dict[UsageType, Decimal] = {}
        for name, median in use.usage.items():
            kind = UsageType(name)
            value = median * factor * (self.rng.uniform(0.85, 1.0) if kind not in _COUNTED else 1)
            items[kind] = Decimal(max(1, round(value)))
        return Usage(items)

    def unit_cost(self, use: ModelUse) -> float:
        """The mean cost of one call of `use` in dollars (sizes vary around the median)."""
        key = id(use)
        cost = self._unit.get(key)
        if cost is None:
            sampler = random.Random(len(use.model) * 7919 + len(use.usage))
            maker = CallMaker(self.catalog, self.clock, sampler, self.seed)
            quotes = [
                self.catalog.quote(
                    maker.usage(use), use.provider, use.model, self.clock.now, use.attributes
                ).total_nanos
                for _ in range(32)
            ]
            cost = sum(quotes) / len(quotes) / 1e9
            self._unit[key] = cost
        return cost

    def calls_for(self, dollars: float, use: ModelUse) -> int:
        """How many calls spend about `dollars` (rounded at random, so fractions add up)."""
        exact = dollars / self.unit_cost(use)
        whole = int(exact)
        return whole + (1 if self.rng.random() < exact - whole else 0)

    def moment(self, day: date, shape: Shape) -> datetime:
        """A time on `day` following the shape's office hours, never after now."""
        hour = self.rng.choices(_HOURS, cum_weights=hour_cumulative(shape))[0]
        start = self.clock.day_start(day)
        local = start + timedelta(hours=hour, seconds=self.rng.randrange(3600))
        moment = local.astimezone(UTC)
        if moment > self.clock.now:
            since_start = (self.clock.now - start).total_seconds()
            moment = self.clock.now - timedelta(
                seconds=self.rng.uniform(0, min(3600.0, since_start))
            )
        return moment

    def event(
        self,
        who: Who,
        use: ModelUse,
        at: datetime,
        usage: Usage | None = None,
    ) -> UsageEvent:
        usage = usage if usage is not None else self.usage(use)
        quote = self.catalog.quote(usage, use.provider, use.model, at, use.attributes)
        costs, flags = line_costs(quote)
        requested = None
        if use.routed_from:
            requested = self.catalog.quote(
                usage, use.provider, use.routed_from, at, use.attributes
            ).total_nanos
        self.count += 1
        return UsageEvent(
            id=f"demo-{self.seed}-{self.count:07d}",
            ts=at,
            provider=use.provider,
            model_requested=use.routed_from or use.model,
            model_used=use.model,
            source=EventSource.GATEWAY,
            status=EventStatus.SETTLED,
            department=who.department,
            project=who.project,
            agent=who.agent,
            key_id=who.key_id,
            operation=use.operation,
            http_status=200,
            flags=flags,
            usage=usage,
            costs=costs,
            requested_cost_nanos=requested,
            routed_from=use.routed_from,
            latency_ms=int(self.rng.lognormvariate(7.4, 0.5)),
        )
