"""How much each agent spends on each day: growth over the year, quiet weekends, office
hours, month-end peaks, noise, and this month calibrated to the dashboard's story.

The plan is in dollars as floats: it only decides how many calls to make. The money of the
ledger comes from pricing those calls with the catalog.
"""

from __future__ import annotations

import math
import random
from calendar import monthrange
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from itertools import accumulate
from zoneinfo import ZoneInfo

from llmledger.demo.company import Agent, Burst, Shape

GROWTH_START = 0.28
"""A year ago the company spent this fraction of today's level."""
NOISE_SIGMA = 0.22

_OFFICE_HOURS = (
    0.02,
    0.01,
    0.01,
    0.01,
    0.02,
    0.04,
    0.10,
    0.35,
    0.80,
    1.00,
    1.10,
    1.05,
    0.80,
    0.95,
    1.05,
    1.00,
    0.90,
    0.70,
    0.40,
    0.22,
    0.15,
    0.10,
    0.06,
    0.04,
)
_ALWAYS_HOURS = (
    0.30,
    0.25,
    0.22,
    0.22,
    0.25,
    0.30,
    0.45,
    0.65,
    0.85,
    1.00,
    1.00,
    1.00,
    0.95,
    1.00,
    1.00,
    1.00,
    0.95,
    0.90,
    0.80,
    0.70,
    0.60,
    0.50,
    0.40,
    0.35,
)
_OFFICE_CUMULATIVE = tuple(accumulate(_OFFICE_HOURS))
_ALWAYS_CUMULATIVE = tuple(accumulate(_ALWAYS_HOURS))
_OFFICE_DAYS = (1.05, 1.0, 1.0, 1.0, 0.9, 0.18, 0.12)
_ALWAYS_DAYS = (1.0, 1.0, 1.0, 1.0, 1.0, 0.6, 0.55)


def hour_weights(shape: Shape) -> tuple[float, ...]:
    return _ALWAYS_HOURS if shape is Shape.ALWAYS else _OFFICE_HOURS


def hour_cumulative(shape: Shape) -> tuple[float, ...]:
    return _ALWAYS_CUMULATIVE if shape is Shape.ALWAYS else _OFFICE_CUMULATIVE


def day_weight(shape: Shape, day: date) -> float:
    weekday = day.weekday()
    if shape is Shape.ALWAYS:
        return _ALWAYS_DAYS[weekday]
    weight = _OFFICE_DAYS[weekday]
    if shape is Shape.MONTH_END:
        last = monthrange(day.year, day.month)[1]
        if day.day >= last - 2 or day.day <= 4:
            weight *= 2.8
    return weight


def growth(days_ago: int) -> float:
    x = max(0.0, 1.0 - days_ago / 365)
    return GROWTH_START + (1.0 - GROWTH_START) * math.pow(x, 1.4)


def launch_factor(agent: Agent, days_ago: int) -> float:
    """Zero before the agent existed, ramping up over its first month."""
    age = agent.launched_days_ago - days_ago
    return 0.0 if age < 0 else min(1.0, (age + 1) / 30)


def _mean_day_weight(shape: Shape) -> float:
    """The average `day_weight` over a year (month ends: about 7 days of 30 at 2.8)."""
    days = _ALWAYS_DAYS if shape is Shape.ALWAYS else _OFFICE_DAYS
    mean = sum(days) / 7
    return mean * (1 + 1.8 * 7 / 30.4) if shape is Shape.MONTH_END else mean


@dataclass(frozen=True, slots=True)
class Clock:
    """`now` and the organisation's calendar around it."""

    now: datetime
    zone: ZoneInfo

    @property
    def today(self) -> date:
        return self.now.astimezone(self.zone).date()

    @property
    def month_start(self) -> date:
        return self.today.replace(day=1)

    def day_start(self, day: date) -> datetime:
        return datetime.combine(day, time(0), self.zone)

    def elapsed_fraction(self, shape: Shape) -> float:
        """How much of today's work (by the hour profile) is done by now."""
        weights = hour_weights(shape)
        local = self.now.astimezone(self.zone)
        done = sum(weights[: local.hour]) + weights[local.hour] * (local.minute / 60)
        return done / sum(weights)

    def hours_this_month(self) -> float:
        return (self.now - self.day_start(self.month_start)).total_seconds() / 3600


def days_back(clock: Clock, days: int) -> list[date]:
    """The `days` local dates up to today, oldest first."""
    return [clock.today - timedelta(days=i) for i in range(days - 1, -1, -1)]


def natural_dollars(agent: Agent, day: date, clock: Clock, noise: float = 1.0) -> float:
    """What the agent spends on a day before this month (its growth and shape, times
    `noise`)."""
    days_ago = (clock.today - day).days
    level = growth(days_ago) * launch_factor(agent, days_ago)
    if not level:
        return 0.0
    daily = agent.monthly_usd * 12 / 365 / _mean_day_weight(agent.shape)
    return daily * level * day_weight(agent.shape, day) * noise


def month_weights(agent: Agent, clock: Clock, rng: random.Random) -> dict[date, float]:
    """How this month's spend so far spreads over its days (today only as far as now)."""
    days = [clock.month_start + timedelta(days=i) for i in range(clock.today.day)]
    out: dict[date, float] = {}
    for i, day in enumerate(days):
        weight = day_weight(agent.shape, day) * rng.lognormvariate(0, NOISE_SIGMA)
        if agent.shape is Shape.SURGE:
            weight *= 1 + 8 * ((i + 1) / len(days)) ** 3
        if day == clock.today:
            weight *= clock.elapsed_fraction(agent.shape)
        out[day] = weight
    return out


def burst_in_month(burst: Burst, clock: Clock) -> float:
    """The dollars of a burst that fall in this month."""
    return burst.usd * min(1.0, clock.hours_this_month() / burst.hours)


def month_targets(
    agents: tuple[Agent, ...], bursts: tuple[Burst, ...], mtd_usd: float, clock: Clock
) -> dict[str, float]:
    """This month's spend so far per agent: calibrated agents get their budget's target
    percent; the others share the rest of the organisation's month-to-date target."""
    targets: dict[str, float] = {}
    free: dict[str, float] = {}
    for agent in agents:
        budget = agent.budget
        if budget is not None and budget.target_percent is not None:
            targets[agent.scope] = float(budget.limit_usd * budget.target_percent / 100)
        else:
            free[agent.scope] = agent.monthly_usd * launch_factor(agent, 0)
    pool = mtd_usd - sum(targets.values()) - sum(burst_in_month(b, clock) for b in bursts)
    weight = sum(free.values()) or 1.0
    for scope, monthly in free.items():
        targets[scope] = max(0.0, pool) * monthly / weight
    return targets


def fiscal_year_start(clock: Clock, start_month: int) -> date:
    today = clock.today
    year = today.year if today.month >= start_month else today.year - 1
    return date(year, start_month, 1)


def planned_year_to_date(
    agents: tuple[Agent, ...], mtd_usd: float, clock: Clock, start: date
) -> float:
    """Expected spend from `start` to now, without noise (sets the annual budget)."""
    natural = 0.0
    day = start
    while day < clock.month_start:
        natural += sum(natural_dollars(agent, day, clock) for agent in agents)
        day += timedelta(days=1)
    return natural * math.exp(NOISE_SIGMA**2 / 2) + mtd_usd
