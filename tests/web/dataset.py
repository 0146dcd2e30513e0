"""A small, known company: a year of spend relative to today, budgets in every state.

Regular agents spend a fixed amount a day for 400 days; the three budgeted agents of the
article's guardrails (SEO blocked, Content Writer at 94.4%, Invoice Processing at 96.5%)
spend only today this month, so their status does not depend on the day of the month.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from llmledger.guardrails import budgets
from llmledger.ledger.event import EventSource, LineCost, UsageEvent
from llmledger.ledger.recording import record_events
from llmledger.ledger.store import Store
from llmledger.ledger.users import Role, create_user
from llmledger.money import usd_to_nanos
from llmledger.usage import Usage, UsageType

ZONE = ZoneInfo("America/New_York")
PASSWORD = "correct horse battery"
USERS = {
    "admin@example.com": (Role.ADMIN, ""),
    "cfo@example.com": (Role.FINANCE, ""),
    "viewer@example.com": (Role.VIEWER, ""),
    "marketing@example.com": (Role.OWNER, "department:Marketing"),
}
#: (department, project, agent, provider, model, dollars a day)
DAILY = (
    ("Engineering", "Backend", "coder", "anthropic", "claude-sonnet-4-5", "40"),
    ("Engineering", "Backend", "reviewer", "openai", "gpt-4o", "12.5"),
    ("Engineering", "DevOps", "deployer", "bedrock", "amazon.nova-pro-v1:0", "3"),
    ("Sales", "Outreach", "sdr-agent", "openai", "gpt-4o", "18"),
    ("Sales", "Outreach", "sdr-agent", "google", "gemini-2.5-flash", "2"),
    ("Marketing", "Digital", "email-bot", "google", "gemini-2.5-flash", "6"),
    ("Support", "Helpdesk", "triage", "anthropic", "claude-haiku-4-5", "7"),
    ("unattributed", "", "", "openai", "gpt-4o-mini", "1"),
)
#: Budgeted agents: (scope, limit, spend today, the only spend this month)
BUDGETED = (
    ("Marketing", "Content", "seo", "openai", "6000", "6001"),
    ("Marketing", "Content", "content-writer", "anthropic", "4500", "4248"),
    ("Finance", "AP", "invoice-processing", "bedrock", "10000", "9650"),
)


def at(day: date, n: int) -> datetime:
    return datetime.combine(day, time(0, 5), ZONE) + timedelta(seconds=n)


def text_event(
    event_id: str,
    moment: datetime,
    dept: str,
    project: str,
    agent: str,
    provider: str,
    model: str,
    usd: str,
    **extra: object,
) -> UsageEvent:
    cost = usd_to_nanos(usd)
    out_cost = cost // 4
    return UsageEvent(
        id=event_id,
        ts=moment,
        provider=provider,
        model_requested=str(extra.get("requested", model)),
        model_used=model,
        source=EventSource.IMPORT,
        department=dept,
        project=project,
        agent=agent,
        usage=Usage.of(input_tokens=20_000, cached_input_tokens=5_000, output_tokens=2_000),
        costs={
            UsageType.INPUT_TOKENS: LineCost(cost - out_cost, cost - out_cost),
            UsageType.CACHED_INPUT_TOKENS: LineCost(0, 0),
            UsageType.OUTPUT_TOKENS: LineCost(out_cost, out_cost),
        },
        routed_from=extra.get("routed_from"),  # type: ignore[arg-type]
        requested_cost_nanos=usd_to_nanos(str(extra["requested_usd"]))
        if "requested_usd" in extra
        else None,
        latency_ms=850,
    )


def qa_event(event_id: str, moment: datetime) -> UsageEvent:
    """Engineering/QA/visual-tester: images, video and audio."""
    return UsageEvent(
        id=event_id,
        ts=moment,
        provider="openai",
        model_requested="gpt-4o",
        source=EventSource.IMPORT,
        department="Engineering",
        project="QA",
        agent="visual-tester",
        usage=Usage.of(
            input_tokens=1_000, images=25, video_seconds=Decimal("4.5"), audio_seconds=2
        ),
        costs={
            UsageType.INPUT_TOKENS: LineCost(usd_to_nanos("0.5"), usd_to_nanos("0.5")),
            UsageType.IMAGES: LineCost(usd_to_nanos("20"), usd_to_nanos("20")),
            UsageType.VIDEO_SECONDS: LineCost(usd_to_nanos("9"), usd_to_nanos("9")),
            UsageType.AUDIO_SECONDS: LineCost(usd_to_nanos("0.012"), usd_to_nanos("0.012")),
        },
    )


def events(today: date, days: int = 400) -> list[UsageEvent]:
    out: list[UsageEvent] = []
    month_start = today.replace(day=1)
    for back in range(days):
        day = today - timedelta(days=back)
        # the week before last spends less, so the movers show a change
        factor = "0.5" if 7 <= back < 14 else "1"
        for i, (dept, project, agent, provider, model, usd) in enumerate(DAILY):
            amount = str(Decimal(usd) * Decimal(factor))
            out.append(
                text_event(
                    f"d{back}-{i}", at(day, i), dept, project, agent, provider, model, amount
                )
            )
        out.append(qa_event(f"qa{back}", at(day, 20)))
        if day < month_start:
            for j, (dept, project, agent, provider, _, _) in enumerate(BUDGETED):
                out.append(
                    text_event(
                        f"b{back}-{j}",
                        at(day, 30 + j),
                        dept,
                        project,
                        agent,
                        provider,
                        "gpt-4o",
                        "100",
                    )
                )
        # one routed call a day: requested gpt-4o ($10), served by gpt-4o-mini ($1)
        out.append(
            text_event(
                f"r{back}",
                at(day, 40),
                "Sales",
                "Outreach",
                "sdr-agent",
                "openai",
                "gpt-4o-mini",
                "1",
                requested="gpt-4o",
                routed_from="gpt-4o",
                requested_usd="10",
            )
        )
    for j, (dept, project, agent, provider, _, spend) in enumerate(BUDGETED):
        out.append(
            text_event(
                f"today-{j}", at(today, 50 + j), dept, project, agent, provider, "gpt-4o", spend
            )
        )
    return out


def fill(store: Store, today: date) -> None:
    with store.write() as conn:
        record_events(conn, events(today), store.zone)
        for dept, project, agent, _, limit, _ in BUDGETED:
            budgets.set_budget(
                conn,
                scope=f"agent:{dept}/{project}/{agent}",
                limit_usd=limit,
                owners=[f"{dept.lower()}-lead@example.com"],
            )
        budgets.set_budget(
            conn, scope="department:Engineering", limit_usd="50000", owners=["cto@example.com"]
        )
        budgets.set_budget(
            conn,
            scope="department:Sales",
            limit_usd="20000",
            enforced=False,
            owners=["cro@example.com"],
        )
        for email, (role, scope) in USERS.items():
            create_user(conn, email, PASSWORD, role, scope)
