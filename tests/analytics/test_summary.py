"""Executive figures on data with known answers."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from llmledger.analytics import periods
from llmledger.analytics.costs import breakdown
from llmledger.analytics.summary import summary
from llmledger.ledger.event import EventSource, LineCost, UsageEvent
from llmledger.ledger.recording import record_events
from llmledger.ledger.store import Store
from llmledger.money import usd_to_nanos
from llmledger.usage import Usage, UsageType


def spend(day: date, usd: str, n: int, **kw: str) -> UsageEvent:
    cost = usd_to_nanos(usd)
    return UsageEvent(
        id=f"{day}-{n}-{usd}-{kw}",
        ts=datetime(day.year, day.month, day.day, 17, tzinfo=UTC),  # midday in New York
        provider=kw.get("provider", "openai"),
        model_requested=kw.get("requested", "gpt-4o"),
        model_used=kw.get("model", "gpt-4o"),
        source=EventSource.IMPORT,
        department=kw.get("department", "Engineering"),
        usage=Usage.of(input_tokens=1000, output_tokens=100),
        costs={
            UsageType.INPUT_TOKENS: LineCost(cost, cost),
            UsageType.OUTPUT_TOKENS: LineCost(0, 0),
        },
        routed_from=kw.get("routed_from"),
        requested_cost_nanos=usd_to_nanos(kw["requested_usd"]) if "requested_usd" in kw else None,
    )


def test_summary_known_figures(store: Store) -> None:
    events = []
    # Fiscal year starts in April: spend before 2026-04-01 is last year's.
    events.append(spend(date(2026, 3, 31), "1000", 0))
    for i in range(30):  # 1 Nov .. 30 Nov: $10 a day
        events.append(spend(date(2026, 11, 1) + timedelta(days=i), "10", i))
    for i in range(4):  # 1-4 Dec: $25 a day, one routed call saving $5
        events.append(spend(date(2026, 12, 1) + timedelta(days=i), "25", i))
    events.append(
        spend(
            date(2026, 12, 2), "1", 99, routed_from="gpt-4o", model="gpt-4o-mini", requested_usd="6"
        )
    )
    events.append(spend(date(2026, 4, 1), "500", 0, department="Sales"))
    with store.write() as conn:
        record_events(conn, events, store.zone)
    with store.read() as conn:
        s = summary(
            conn,
            date(2026, 12, 4),
            fiscal_start_month=4,
            annual_budget_usd=Decimal("1000"),
            monthly_budget_usd=Decimal("100"),
        )
    data = s.as_json()
    assert data["ytd"] == {
        "spend_usd": "901",
        "budget_usd": "1000",
        "variance_usd": "99",
        "percent": "90.10",
        "status": "amber",
    }
    assert data["mtd"]["spend_usd"] == "101"
    assert data["mtd"]["variance_usd"] == "-1"
    assert data["mtd"]["status"] == "red"
    assert data["mtd_same_day_last_month_usd"] == "40"
    assert data["savings_mtd_usd"] == "5"
    # trailing 30 days (5 Nov - 4 Dec): 26 x $10 + $101 = $361; 117 days left to 31 Mar
    assert data["projected_annual_usd"] == "2308.9"  # 901 + 361 * 117 / 30
    assert data["requests_mtd"] == 5
    assert data["usage"] == {"input_tokens": 5000, "output_tokens": 500}
    trend = data["trend"]
    assert [t["month"] for t in trend][0] == "2026-01" and trend[-1]["month"] == "2026-12"
    assert {t["month"]: t["spend_usd"] for t in trend}["2026-11"] == "300"
    assert {t["month"]: t["spend_usd"] for t in trend}["2026-03"] == "1000"


def test_projection_is_exact(sqlite_store: Store) -> None:
    with sqlite_store.write() as conn:
        record_events(conn, [spend(date(2026, 12, 1), "3", 0)], sqlite_store.zone)
    with sqlite_store.read() as conn:
        s = summary(
            conn,
            date(2026, 12, 1),
            fiscal_start_month=1,
            annual_budget_usd=Decimal(0),
            monthly_budget_usd=Decimal(0),
        )
    # $3 over 30 days = $0.10/day, 30 days left in the year
    assert s.projected_annual_nanos == usd_to_nanos("3") + usd_to_nanos("0.1") * 30
    assert s.as_json()["ytd"]["percent"] is None


def test_breakdown_by_department_and_provider(store: Store) -> None:
    day = date(2026, 12, 2)
    with store.write() as conn:
        record_events(
            conn,
            [
                spend(
                    day, "3", 1, department="Sales", provider="anthropic", model="claude-sonnet-4-5"
                ),
                spend(day, "2", 2, department="Sales"),
                spend(day, "7", 3, department="Engineering"),
            ],
            store.zone,
        )
    with store.read() as conn:
        b = breakdown(conn, periods.DateRange(date(2026, 12, 1), day), ["department", "provider"])
        by_type = breakdown(conn, periods.DateRange(day, day), ["usage_type"])
    rows = [(r.key["department"], r.key["provider"], r.cost_nanos) for r in b.rows]
    assert rows == [
        ("Engineering", "openai", usd_to_nanos("7")),
        ("Sales", "anthropic", usd_to_nanos("3")),
        ("Sales", "openai", usd_to_nanos("2")),
    ]
    assert b.as_json()["total_usd"] == "12"
    assert [(r.key["usage_type"], r.cost_nanos) for r in by_type.rows] == [
        ("input_tokens", usd_to_nanos("12")),
        ("output_tokens", 0),
    ]
