"""Two weeks of spend built to have known movers (week 2026-W48 against 2026-W47).

| department / project | W47 | W48 | why |
|---|---|---|---|
| Engineering / QA | $1,000 | $4,000 | new model gpt-image-1 ($3,000, of it $2,500 images) |
| Sales / Outreach | $2,000 | $500 | agent mailer stopped ($1,500 last week) |
| Marketing / SEO | $400 | $1,400 | new agent seo-writer ($1,000) |
| Finance / Invoices | $300 | $300 | no movement |
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from llmledger.ledger.event import EventSource, LineCost, UsageEvent
from llmledger.ledger.recording import record_events
from llmledger.ledger.store import Store
from llmledger.money import usd_to_nanos
from llmledger.usage import Usage, UsageType

W47 = date(2026, 11, 16)
W48 = date(2026, 11, 23)


def event(
    day: date,
    dept: str,
    project: str,
    agent: str,
    usd: str,
    *,
    model: str = "gpt-4o",
    images_usd: str | None = None,
    n: int = 0,
    requested_usd: str | None = None,
) -> UsageEvent:
    costs = {UsageType.INPUT_TOKENS: LineCost(usd_to_nanos(usd), usd_to_nanos(usd))}
    usage = {UsageType.INPUT_TOKENS: 1000}
    if images_usd is not None:
        costs[UsageType.IMAGES] = LineCost(usd_to_nanos(images_usd), usd_to_nanos(images_usd))
        usage[UsageType.IMAGES] = 10
    return UsageEvent(
        id=f"{day}-{dept}-{project}-{agent}-{model}-{n}",
        ts=datetime(day.year, day.month, day.day, 17, tzinfo=UTC),  # midday in New York
        provider="openai",
        model_requested="gpt-4o" if requested_usd else model,
        model_used=model,
        source=EventSource.IMPORT,
        department=dept,
        project=project,
        agent=agent,
        usage=Usage.of(**{t.value: q for t, q in usage.items()}),
        costs=costs,
        routed_from="gpt-4o" if requested_usd else None,
        requested_cost_nanos=usd_to_nanos(requested_usd) if requested_usd else None,
    )


def known_movers() -> list[UsageEvent]:
    ev: list[UsageEvent] = []
    for week in (W47, W48):
        mon, wed = week, week + timedelta(days=2)
        ev.append(event(mon, "Engineering", "QA", "tester", "1000"))
        ev.append(event(wed, "Finance", "Invoices", "invoice-bot", "300"))
        ev.append(event(mon, "Sales", "Outreach", "bot", "500"))
        ev.append(event(mon, "Marketing", "SEO", "seo-bot", "400"))
    ev.append(event(W47 + timedelta(days=3), "Sales", "Outreach", "mailer", "1500"))
    ev.append(
        event(
            W48 + timedelta(days=4),
            "Engineering",
            "QA",
            "tester",
            "500",
            model="gpt-image-1",
            images_usd="2500",
        )
    )
    ev.append(event(W48 + timedelta(days=5), "Marketing", "SEO", "seo-writer", "1000"))
    # a routed call this week: asked for $30 of gpt-4o, cost $10 of gpt-4o-mini
    ev.append(
        event(
            W48 + timedelta(days=1),
            "Finance",
            "Invoices",
            "invoice-bot",
            "0",
            model="gpt-4o-mini",
            requested_usd="20",
            n=1,
        )
    )
    # earlier in the year, so that YTD differs from MTD
    ev.append(event(date(2026, 3, 10), "Engineering", "Backend", "api", "2000"))
    return ev


def load(store: Store) -> None:
    with store.write() as conn:
        record_events(conn, known_movers(), store.zone)
