"""A year of the demo company's calls, priced by the catalog and written by the ledger.

Days before this month follow each agent's natural plan (growth, weekly and daily shape,
noise). This month so far is calibrated: the organisation's month to date lands slightly
over its allocation, and the agents with a target sit exactly where the story needs them
(the SEO agent just over its cap, the Content Writer and Invoice Processing near theirs).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from itertools import accumulate
from zoneinfo import ZoneInfo

from llmledger.demo import plan
from llmledger.demo.calls import CallMaker, Who
from llmledger.demo.company import (
    AGENTS,
    BURSTS,
    MONTHLY_ALLOCATION_USD,
    MTD_OVER_RATIO,
    YTD_OVER_RATIO,
    Agent,
    ModelUse,
)
from llmledger.ledger import queries
from llmledger.ledger.event import UsageEvent
from llmledger.ledger.recording import record_events
from llmledger.ledger.store import Store
from llmledger.money import NANOS_PER_USD, usd_to_nanos
from llmledger.pricing import PriceCatalog
from llmledger.usage import Usage, UsageType

BATCH = 60_000
Progress = Callable[[int], None]


@dataclass(frozen=True, slots=True)
class OrgBudgets:
    fiscal_year_start_month: int
    annual_budget_usd: Decimal
    monthly_budget_usd: Decimal


@dataclass(frozen=True, slots=True)
class Generated:
    events: int
    budgets: OrgBudgets


def org_budgets(
    clock: plan.Clock, scale: Decimal = Decimal(1), spent: Decimal | None = None
) -> OrgBudgets:
    """The fiscal year ends with this month, so year to date is (almost) a whole year;
    the annual budget is its spend (`spent`, or else the plan's) less the article's overrun."""
    start_month = clock.today.month % 12 + 1
    if spent is None:
        start = plan.fiscal_year_start(clock, start_month)
        mtd = float(MONTHLY_ALLOCATION_USD * MTD_OVER_RATIO)
        spent = Decimal(plan.planned_year_to_date(AGENTS, mtd, clock, start)) * scale
    step = 10_000 * scale
    annual = (spent / YTD_OVER_RATIO / step).quantize(Decimal(1), ROUND_HALF_EVEN) * step
    return OrgBudgets(start_month, annual, MONTHLY_ALLOCATION_USD * scale)


def _year_to_date(store: Store, clock: plan.Clock, first_day: date) -> Decimal | None:
    """The fiscal year's spend so far, if the generated days cover the whole of it."""
    start = plan.fiscal_year_start(clock, clock.today.month % 12 + 1)
    if first_day > start:
        return None
    with store.read() as conn:
        sums = queries.call_sums(conn, start, clock.today)
    return Decimal(sums[0].cost_nanos if sums else 0) / NANOS_PER_USD


class _Writer:
    """Writes events with the ledger's `record_events`, a batch per transaction."""

    def __init__(self, store: Store, progress: Progress | None) -> None:
        self.store = store
        self.progress = progress
        self.pending: list[UsageEvent] = []
        self.written = 0

    def add(self, events: list[UsageEvent]) -> None:
        self.pending.extend(events)
        if len(self.pending) >= BATCH:
            self.flush()

    def flush(self) -> None:
        if not self.pending:
            return
        with self.store.write() as conn:
            record_events(conn, self.pending, self.store.zone)
        self.written += len(self.pending)
        if self.progress:
            self.progress(len(self.pending))
        self.pending = []


def _active(agent: Agent, days_ago: int) -> list[ModelUse]:
    return [u for u in agent.uses if u.since_days is None or days_ago < u.since_days]


def _day_calls(
    maker: CallMaker, agent: Agent, who: Who, day: date, dollars: float
) -> list[UsageEvent]:
    days_ago = (maker.clock.today - day).days
    uses = _active(agent, days_ago)
    shares = sum(u.share for u in uses) or 1.0
    out = []
    for use in uses:
        for _ in range(maker.calls_for(dollars * maker.scale * use.share / shares, use)):
            out.append(maker.event(who, use, maker.moment(day, agent.shape)))
    return out


def estimate(
    catalog: PriceCatalog, zone: ZoneInfo, *, now: datetime, days: int, scale: Decimal = Decimal(1)
) -> int:
    """About how many events `generate` writes (for the progress bar)."""
    clock = plan.Clock(now, zone)
    maker = CallMaker(catalog, clock, random.Random(0), 0, float(scale))
    mtd = float(MONTHLY_ALLOCATION_USD * MTD_OVER_RATIO)
    targets = plan.month_targets(AGENTS, BURSTS, mtd, clock)
    total = 0.0
    for agent in AGENTS:
        per_dollar = sum(u.share / maker.unit_cost(u) for u in agent.uses) / sum(
            u.share for u in agent.uses
        )
        spend = targets[agent.scope]
        for day in plan.days_back(clock, days):
            if day < clock.month_start:
                spend += plan.natural_dollars(agent, day, clock)
        total += spend * per_dollar
    total += sum(b.usd / maker.unit_cost(b.use) for b in BURSTS)
    return int(total * maker.scale)


def generate(
    store: Store,
    catalog: PriceCatalog,
    keys: dict[str, str],
    *,
    now: datetime,
    days: int,
    seed: int,
    scale: Decimal = Decimal(1),
    progress: Progress | None = None,
) -> Generated:
    """Write `days` days of the company's calls up to `now`; `keys` maps an agent's
    scope (``agent:D/P/A``) to its virtual key id. `scale` multiplies every amount (the
    budgets' limits too): tests use a small company with the same story."""
    clock = plan.Clock(now, store.zone)
    rng = random.Random(seed)
    maker = CallMaker(catalog, clock, rng, seed, float(scale))
    writer = _Writer(store, progress)
    window = plan.days_back(clock, days)
    first_day = window[0]
    for day in window:
        if day >= clock.month_start:
            break
        for agent in AGENTS:
            noise = rng.lognormvariate(0, plan.NOISE_SIGMA)
            dollars = plan.natural_dollars(agent, day, clock, noise)
            if dollars:
                writer.add(_day_calls(maker, agent, _who(agent, keys), day, dollars))
    mtd = float(MONTHLY_ALLOCATION_USD * MTD_OVER_RATIO)
    targets = plan.month_targets(AGENTS, BURSTS, mtd, clock)
    for agent in AGENTS:
        who = _who(agent, keys)
        weights = plan.month_weights(agent, clock, rng)
        total = sum(weights.values()) or 1.0
        month: list[UsageEvent] = []
        for day, weight in weights.items():
            if day >= first_day:
                month.extend(
                    _day_calls(maker, agent, who, day, targets[agent.scope] * weight / total)
                )
        budget = agent.budget
        if budget is not None and budget.target_percent is not None and days >= clock.today.day:
            target = usd_to_nanos(budget.limit_usd * scale * budget.target_percent / 100)
            month = _calibrate(maker, agent, who, month, target, weights)
        writer.add(month)
    for burst in BURSTS:
        who = Who(
            burst.department,
            burst.project,
            burst.agent,
            keys[f"agent:{burst.department}/{burst.project}/{burst.agent}"],
        )
        start = max(now - timedelta(hours=burst.hours), clock.day_start(first_day))
        span = (now - start).total_seconds()
        share = span / (burst.hours * 3600)
        calls = maker.calls_for(burst.usd * share * maker.scale, burst.use)
        writer.add(
            [
                maker.event(who, burst.use, start + timedelta(seconds=rng.uniform(0, span)))
                for _ in range(calls)
            ]
        )
    writer.flush()
    spent = _year_to_date(store, clock, first_day)
    return Generated(writer.written, org_budgets(clock, scale, spent))


def _who(agent: Agent, keys: dict[str, str]) -> Who:
    return Who(agent.department, agent.project, agent.name, keys[agent.scope])


def _calibrate(
    maker: CallMaker,
    agent: Agent,
    who: Who,
    month: list[UsageEvent],
    target: int,
    weights: dict[date, float],
) -> list[UsageEvent]:
    """Make this month's events of `agent` cost exactly `target` nanos, give or take the
    price of one output token: drop or add whole calls, then size one last call."""
    rng = maker.rng
    spent = sum(e.cost_nanos for e in month)
    while spent > target and month:
        dropped = month.pop(rng.randrange(len(month)))
        spent -= dropped.cost_nanos
    text = next(u for u in agent.uses if "output_tokens" in u.usage and u.since_days is None)
    typical = int(maker.unit_cost(text) * 1e9)
    days = list(weights)
    cum = list(accumulate(weights.values()))
    while target - spent > 2 * typical:
        day = rng.choices(days, cum_weights=cum)[0]
        event = maker.event(who, text, maker.moment(day, agent.shape))
        if spent + event.cost_nanos <= target:
            month.append(event)
            spent += event.cost_nanos
    month.append(_last_call(maker, who, text, target - spent))
    return month


def _last_call(maker: CallMaker, who: Who, use: ModelUse, budget: int) -> UsageEvent:
    """A call of `use` costing at most `budget` nanos, within one output token of it."""
    clock = maker.clock
    at = max(
        clock.now - timedelta(seconds=maker.rng.uniform(30, 600)),
        clock.day_start(clock.month_start).astimezone(UTC),
    )
    catalog = maker.catalog
    per_million_in = catalog.quote(
        Usage.of(input_tokens=1_000_000), use.provider, use.model, at
    ).total_nanos
    tokens_in = max(1, min(2_000, budget // 2 * 1_000_000 // per_million_in))
    base = Usage({UsageType.INPUT_TOKENS: Decimal(tokens_in)})
    base_cost = catalog.quote(base, use.provider, use.model, at).total_nanos
    per_million = catalog.quote(
        Usage.of(output_tokens=1_000_000), use.provider, use.model, at
    ).total_nanos
    out = max(0, (budget - base_cost) * 1_000_000 // per_million)
    while True:
        usage = base + Usage({UsageType.OUTPUT_TOKENS: Decimal(out)})
        if catalog.quote(usage, use.provider, use.model, at).total_nanos <= budget or out == 0:
            break
        out -= 1
    return maker.event(who, use, at, usage)
