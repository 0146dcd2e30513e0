"""Random but reproducible usage events for ledger tests."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from llmledger.ledger.event import EventFlag, EventSource, EventStatus, LineCost, UsageEvent
from llmledger.usage import Usage, UsageType

DEPARTMENTS = ("Engineering", "Sales", "Marketing", "Finance")
PROVIDERS = (
    ("openai", "gpt-4o"),
    ("anthropic", "claude-sonnet-4-5"),
    ("google", "gemini-2.5-flash"),
)


def random_events(seed: int, count: int, start: datetime | None = None) -> list[UsageEvent]:
    rng = random.Random(seed)
    base = start or datetime(2026, 1, 1, tzinfo=UTC)
    events = []
    for i in range(count):
        provider, model = rng.choice(PROVIDERS)
        types = rng.sample(list(UsageType), rng.randint(1, 4))
        quantities: dict[UsageType, Decimal] = {}
        costs: dict[UsageType, LineCost] = {}
        for t in types:
            q = Decimal(rng.randint(1, 50_000))
            if t in (UsageType.AUDIO_SECONDS, UsageType.VIDEO_SECONDS):
                q = Decimal(rng.randint(1, 90_000)) / 1000
            quantities[t] = q
            cost = rng.randint(0, 5_000_000)
            costs[t] = LineCost(cost, cost + rng.randint(0, 1000))
        routed = rng.random() < 0.2
        events.append(
            UsageEvent(
                id=f"ev-{seed}-{i}",
                ts=base + timedelta(seconds=rng.randint(0, 400 * 86_400)),
                provider=provider,
                model_requested="gpt-4o" if routed else model,
                model_used=model,
                source=EventSource.IMPORT,
                status=rng.choice(
                    [EventStatus.SETTLED] * 8 + [EventStatus.UNSETTLED, EventStatus.BLOCKED]
                ),
                department=rng.choice(DEPARTMENTS),
                project=rng.choice(("", "alpha", "beta")),
                agent=rng.choice(("", "bot-1", "bot-2")),
                flags=EventFlag.UNPRICED if rng.random() < 0.05 else EventFlag.NONE,
                usage=Usage(quantities),
                costs=costs,
                routed_from="gpt-4o" if routed else None,
                requested_cost_nanos=rng.randint(0, 9_000_000) if routed else None,
            )
        )
    return events
