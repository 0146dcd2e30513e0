"""The demo's business outcomes and provider reports, so that /roi and /reconciliation
have something to show.

Outcomes: the marketing, sales and finance agents count what they produce (articles,
meetings booked, invoices processed...), one record a day, in proportion to their spend at
a cost per outcome that improves slowly over the year; the SEO agent's output stays flat
while its spend surges this month, so its cost per outcome rises most.

Provider reports: last month (UTC), in each provider's own format, written from the
ledger's hourly rollups and imported through the real readers, with one deliberate
discrepancy: on the 17th, Anthropic bills $412.50 of claude-sonnet-4-5 that the gateway
never saw (calls that bypassed it).
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_HALF_EVEN, Decimal

from sqlalchemy import func, select

from llmledger.analytics import periods
from llmledger.ledger import queries, schema
from llmledger.ledger.event import to_us
from llmledger.ledger.store import Store
from llmledger.money import NANOS_PER_USD
from llmledger.reconcile.store import import_report
from llmledger.roi.metrics import declare_metric
from llmledger.roi.outcomes import Outcome, record_outcomes


@dataclass(frozen=True, slots=True)
class Measured:
    scope: str
    metric: str
    unit: str
    value_usd: str | None
    cost_per_outcome_usd: str


MEASURED: tuple[Measured, ...] = (
    Measured("agent:Marketing/SEO/seo-agent", "pages_published", "page", "40", "35"),
    Measured(
        "agent:Marketing/Content/content-writer", "articles_published", "article", "150", "60"
    ),
    Measured("agent:Marketing/Digital/social-media-agent", "posts_published", "post", None, "8"),
    Measured("agent:Sales/Outreach/email-personaliser", "meetings_booked", "meeting", "250", "45"),
    Measured("agent:Sales/Outreach/lead-scorer", "leads_qualified", "lead", "20", "2.5"),
    Measured("agent:Sales/Proposals/proposal-writer", "proposals_sent", "proposal", "400", "90"),
    Measured(
        "agent:Finance/Payables/invoice-processing", "invoices_processed", "invoice", "4", "1.2"
    ),
    Measured("agent:Finance/Audit/expense-auditor", "expense_reports_audited", "report", "6", "3"),
)
FLAT_THIS_MONTH = "agent:Marketing/SEO/seo-agent"
DISCREPANCY_DAY = 17
DISCREPANCY_USD = Decimal("412.50")


def add_outcomes(store: Store, *, now: datetime, days: int, scale: Decimal) -> int:
    """Declare the metrics and record a year of daily outcomes; returns the records."""
    zone = store.zone
    today = now.astimezone(zone).date()
    start = today - timedelta(days=days - 1)
    month = periods.month_start(today)
    wanted = {m.scope: m for m in MEASURED}
    with store.read() as conn:
        sums = queries.call_sums(conn, start, today, ("day", "department", "project", "agent"))
    daily: dict[str, dict[str, int]] = defaultdict(dict)
    for s in sums:
        when, d, p, a = s.key
        scope = f"agent:{d}/{p}/{a}"
        if scope in wanted:
            daily[scope][when] = s.cost_nanos
    records: list[Outcome] = []
    for scope, by_day in daily.items():
        m = wanted[scope]
        _, _, rest = scope.partition(":")
        d, p, a = rest.split("/")
        before = [q for day, q in by_day.items() if day < month.isoformat()][-30:]
        flat = sum(before) // len(before) if before else 0
        for day_text, cost in sorted(by_day.items()):
            day = date.fromisoformat(day_text)
            if scope == FLAT_THIS_MONTH and day >= month and flat:
                cost = flat  # the surge buys no more pages
            drift = Decimal(1) + Decimal((today - day).days) / 1000
            per = Decimal(m.cost_per_outcome_usd) * scale * drift * NANOS_PER_USD
            quantity = int((Decimal(cost) / per).to_integral_value(ROUND_HALF_EVEN))
            if quantity <= 0:
                continue
            at = datetime.combine(day, time(17), zone).astimezone(UTC)
            records.append(
                Outcome(
                    f"demo-{m.metric}-{a}-{day_text}", at, d, p, a, m.metric, quantity * 1000, None
                )
            )
    with store.write() as conn:
        for m in MEASURED:
            declare_metric(conn, m.scope, m.metric, m.unit, m.value_usd, now=now)
        record_outcomes(conn, records, zone, source="demo", now=now)
    return len(records)


def _usd(nanos: int, per: int = NANOS_PER_USD) -> str:
    return format((Decimal(nanos) / per).normalize(), "f")


def _numbers(text: str) -> str:
    """JSON numbers where the providers write numbers (never through a float)."""
    return re.sub(r'"#(-?[0-9.E+-]+)#"', r"\1", text)


Line = tuple[date, str, str, int]


def _ledger_lines(store: Store, start: date, end: date) -> dict[str, list[Line]]:
    """provider -> [(UTC day, model, usage type, cost)] from the hourly usage rollups."""
    t = schema.usage_hourly
    lo = to_us(datetime.combine(start, time(), UTC))
    hi = to_us(datetime.combine(end + timedelta(days=1), time(), UTC))
    day = (t.c.hour_us // 86_400_000_000).label("d")
    out: dict[str, list[Line]] = defaultdict(list)
    with store.read() as conn:
        rows = conn.execute(
            select(day, t.c.provider, t.c.model, t.c.usage_type, func.sum(t.c.cost_nanos))
            .where(t.c.hour_us >= lo, t.c.hour_us < hi)
            .group_by(day, t.c.provider, t.c.model, t.c.usage_type)
            .order_by(day, t.c.provider, t.c.model, t.c.usage_type)
        )
        for d, provider, model, usage_type, cost in rows:
            if int(cost):
                out[str(provider)].append(
                    (
                        date(1970, 1, 1) + timedelta(days=int(d)),
                        str(model),
                        str(usage_type),
                        int(cost),
                    )
                )
    return out


def _openai(lines: list[Line]) -> bytes:
    buckets: dict[date, list[dict[str, object]]] = defaultdict(list)
    for day, model, usage_type, cost in lines:
        buckets[day].append(
            {
                "object": "organization.costs.result",
                "amount": {"value": f"#{_usd(cost)}#", "currency": "usd"},
                "line_item": f"{model}, {usage_type.replace('_', ' ')}",
                "project_id": "proj_acme",
            }
        )
    data = [
        {
            "object": "bucket",
            "start_time": int(datetime.combine(d, time(), UTC).timestamp()),
            "end_time": int(datetime.combine(d + timedelta(days=1), time(), UTC).timestamp()),
            "results": results,
        }
        for d, results in sorted(buckets.items())
    ]
    page = {"object": "page", "data": data, "has_more": False, "next_page": None}
    return _numbers(json.dumps(page)).encode()


def _anthropic(lines: list[Line], extra: tuple[date, int] | None) -> bytes:
    buckets: dict[date, list[dict[str, object]]] = defaultdict(list)
    rows = list(lines)
    if extra is not None:
        rows.append((extra[0], "claude-sonnet-4-5", "input_tokens", extra[1]))
    for day, model, usage_type, cost in rows:
        buckets[day].append(
            {
                "amount": _usd(cost, NANOS_PER_USD // 100),
                "currency": "USD",
                "cost_type": "tokens",
                "context_window": "0-200k",
                "description": f"{model} usage - {usage_type}",
                "model": model,
                "service_tier": "standard",
                "token_type": usage_type,
                "workspace_id": None,
            }
        )
    data = [
        {
            "starting_at": f"{d.isoformat()}T00:00:00Z",
            "ending_at": f"{(d + timedelta(days=1)).isoformat()}T00:00:00Z",
            "results": r,
        }
        for d, r in sorted(buckets.items())
    ]
    return json.dumps({"data": data, "has_more": False, "next_page": None}).encode()


def _aws(lines: list[Line]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(
        [
            "lineItem/LineItemType",
            "lineItem/UsageStartDate",
            "lineItem/ProductCode",
            "lineItem/UsageType",
            "lineItem/UnblendedCost",
            "lineItem/CurrencyCode",
            "product/ProductName",
            "product/servicecode",
        ]
    )
    for day, model, usage_type, cost in lines:
        writer.writerow(
            [
                "Usage",
                f"{day.isoformat()}T00:00:00Z",
                "AmazonBedrock",
                f"USE1-{model}-{usage_type.replace('_', '-')}",
                _usd(cost),
                "USD",
                "Amazon Bedrock",
                "AmazonBedrock",
            ]
        )
    return buffer.getvalue().encode()


def _google(lines: list[Line]) -> bytes:
    out = []
    for day, model, usage_type, cost in lines:
        out.append(
            _numbers(
                json.dumps(
                    {
                        "service": {"id": "AEFD-7695-64FA", "description": "Gemini API"},
                        "sku": {
                            "id": "DEMO",
                            "description": f"{model} {usage_type.replace('_', ' ')}",
                        },
                        "usage_start_time": f"{day.isoformat()}T00:00:00Z",
                        "cost": f"#{_usd(cost)}#",
                        "currency": "USD",
                        "credits": [],
                        "cost_type": "regular",
                    }
                )
            )
        )
    return ("\n".join(out) + "\n").encode()


def add_provider_reports(store: Store, *, now: datetime, days: int, scale: Decimal) -> str | None:
    """Import last month's provider reports (UTC); returns the month, or None if the demo's
    days do not reach it."""
    this_month = periods.month_start(now.astimezone(UTC).date())
    first = periods.add_months(this_month, -1)
    start = max(first, (now - timedelta(days=days - 1)).astimezone(UTC).date() + timedelta(1))
    end = this_month - timedelta(days=1)
    if start > end:
        return None
    lines = _ledger_lines(store, start, end)
    odd = first.replace(day=DISCREPANCY_DAY)
    extra = (odd, int(DISCREPANCY_USD * scale * NANOS_PER_USD)) if start <= odd <= end else None
    reports = {
        "openai": _openai(lines.get("openai", [])),
        "anthropic": _anthropic(lines.get("anthropic", []), extra),
        "bedrock": _aws(lines.get("bedrock", [])),
        "google": _google(lines.get("google", [])),
    }
    for provider, data in reports.items():
        import_report(store, provider, data, source="demo", now=now)
    return first.strftime("%Y-%m")
