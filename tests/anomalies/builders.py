"""Small built series for the detector tests: an office-hours agent with weekly seasonality."""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from datetime import UTC, datetime

from llmledger.anomalies.flags import Thresholds, for_sensitivity
from llmledger.anomalies.series import HOUR_US, WEEK_H, Frame, FrameBuilder
from llmledger.ledger.event import to_us

#: A Monday, 00:00 UTC.
START = datetime(2026, 1, 5, tzinfo=UTC)
START_US = to_us(START)
DIMS = ("Eng", "search", "bot", "k-1")
AGENT = "agent:Eng/search/bot"
CPC = 1_000_000  # $0.001 a call

Extra = Callable[[FrameBuilder], None]


def office_calls(t: int, rng: random.Random) -> int:
    """Busy 13:00-22:00 UTC on weekdays, quiet nights, a fifth of that at weekends."""
    weekday, hour = (t // 24) % 7, t % 24
    base = 40 if 13 <= hour < 22 else 4
    if weekday >= 5:
        base = base // 5 + 1
    return max(0, round(base * (1 + rng.gauss(0, 0.1))))


def at(week: int, weekday: int, hour: int) -> int:
    """The hour index of `weekday` (0 = Monday) `hour`:00 in week `week` of the frame."""
    return week * WEEK_H + weekday * 24 + hour


def build(
    weeks: int,
    *,
    seed: int = 1,
    growth_per_week: float = 0.0,
    first_hour: int = 0,
    dims: tuple[str, str, str, str] = DIMS,
    extra: Extra | None = None,
    builder: FrameBuilder | None = None,
) -> Frame:
    """`weeks` weeks of an office agent on gpt-4o-mini, input and output tokens only."""
    rng = random.Random(seed)
    b = builder or FrameBuilder(START_US, weeks * WEEK_H)
    hours = b.hours
    for t in range(first_hour, hours):
        calls = round(office_calls(t, rng) * (1 + growth_per_week) ** (t / WEEK_H))
        add(b, t, calls, calls * CPC, dims=dims)
    if extra is not None:
        extra(b)
    return b.build()


def add(
    b: FrameBuilder,
    t: int,
    calls: int,
    cost: int,
    *,
    dims: tuple[str, str, str, str] = DIMS,
    model: str = "openai/gpt-4o-mini",
    usage: str | None = None,
) -> None:
    """Calls in hour t; their cost split 40/60 into input and output tokens, or all `usage`."""
    b.add_calls(t, dims, model, calls, cost)
    if usage is not None:
        b.add_usage(t, dims, usage, cost)
    else:
        b.add_usage(t, dims, "input_tokens", cost * 4 // 10)
        b.add_usage(t, dims, "output_tokens", cost - cost * 4 // 10)


def hour_us(t: int) -> int:
    return START_US + t * HOUR_US


def medium() -> Thresholds:
    th = for_sensitivity("medium")
    assert th is not None
    return th


def poisson(rng: random.Random, mean: float) -> int:
    """A Poisson count (Knuth's method: the means here are small)."""
    limit, k, p = math.exp(-mean), 0, rng.random()
    while p > limit:
        k += 1
        p *= rng.random()
    return k


def few_calls(
    weeks: int,
    *,
    peak: float,
    seed: int = 5,
    swing: float = 0.1,
    rise: Callable[[int], float] | None = None,
) -> Frame:
    """An office agent of few calls: Poisson counts at `peak` an hour 13:00-22:00 UTC on
    weekdays, an eighth of that at night, a fifth at weekends, each day's rate swinging
    by `swing` (a busy day, a quiet one). `rise` multiplies the rate of hour t."""
    rng = random.Random(seed)
    b = FrameBuilder(START_US, weeks * WEEK_H)
    factor = 1.0
    for t in range(b.hours):
        if t % 24 == 0:
            factor = math.exp(rng.gauss(0, swing))
        weekday, hour = (t // 24) % 7, t % 24
        mean = peak if 13 <= hour < 22 else peak / 8
        if weekday >= 5:
            mean /= 5
        calls = poisson(rng, mean * factor * (rise(t) if rise is not None else 1.0))
        add(b, t, calls, calls * CPC)
    return b.build()
