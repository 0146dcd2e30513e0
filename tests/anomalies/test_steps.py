from __future__ import annotations

import math
import random
from collections.abc import Callable

from llmledger.anomalies import spikes, steps
from llmledger.anomalies.engine import Policy, evaluate
from llmledger.anomalies.series import DAY_H, WEEK_H, Frame, FrameBuilder
from tests.anomalies.builders import AGENT, CPC, START_US, add, at, medium

MEDIUM = medium()


def busy_office(
    weeks: int,
    *,
    seed: int = 3,
    days: dict[int, float] | None = None,
    rise: Callable[[int], float] | None = None,
) -> Frame:
    """A busy office agent (400 calls an hour 13:00-22:00 UTC on weekdays, 40 at night, a
    fifth at weekends) whose whole day swings by 10% at random: a 1.5x rise over a day is
    hard to tell from a busy day by the seasonal baseline alone. `day` overrides a day's
    factor (by day index); `rise` multiplies hour t."""
    rng = random.Random(seed)
    b = FrameBuilder(START_US, weeks * WEEK_H)
    factors = [math.exp(rng.gauss(0, 0.1)) for _ in range(weeks * 7)]
    for t in range(b.hours):
        d = t // DAY_H
        weekday, hour = d % 7, t % DAY_H
        base = 400.0 if 13 <= hour < 22 else 40.0
        if weekday >= 5:
            base /= 5
        factor = (days or {}).get(d, factors[d])
        mean = base * factor * (rise(t) if rise is not None else 1.0)
        calls = max(0, round(mean * (1 + rng.gauss(0, 0.03))))
        add(b, t, calls, calls * CPC)
    return b.build()


def test_a_sustained_rise_of_a_half_is_caught_within_hours() -> None:
    start = at(9, 2, 15)  # a Wednesday, 15:00: a step up that lasts two days
    frame = busy_office(10, rise=lambda t: 1.5 if start <= t < start + 48 else 1.0)
    ss = frame.scopes[AGENT]
    first = next(
        (t for t in range(start, start + 24) if spikes.detect(ss, t, MEDIUM) is not None), None
    )
    assert first is not None and first <= start + 4
    flag = spikes.detect(ss, first, MEDIUM)
    assert flag is not None and flag.started >= start - 1


def test_the_step_alone_catches_what_the_seasonal_windows_call_a_busy_day() -> None:
    start = at(9, 2, 15)
    frame = busy_office(10, rise=lambda t: 1.5 if start <= t < start + 48 else 1.0)
    ss = frame.scopes[AGENT]
    unit = spikes.cost_per_call(ss, start + 3)
    step = steps.detect(ss.cost, start + 3, MEDIUM, unit, 8, ss.first_hour)
    assert step is not None
    assert 1.3 < math.exp(step.log_ratio) < 1.7
    assert step.score() >= MEDIUM.z - steps.STEP_Z_BELOW
    flag = spikes.step_flag(ss, start + 3, step, 8)
    assert flag is not None and flag.detail["window"] == f"step {step.width}h"
    assert flag.started >= start - 1
    assert "the rate of the 12 hours before them" in flag.description


def test_a_uniformly_busy_day_is_not_flagged() -> None:
    # a whole Wednesday at 1.35x, after a normal Tuesday: three of the usual swings
    busy = at(9, 2, 0) // DAY_H
    frame = busy_office(10, days={busy - 1: 1.0, busy: 1.35})
    for t in range(busy * DAY_H, (busy + 2) * DAY_H):
        assert evaluate(frame, t, Policy()) == [], t


def test_a_quiet_weekend_then_a_normal_monday_is_not_a_step() -> None:
    frame = busy_office(10)
    for t in range(at(9, 5, 0), at(9, 0, 0) + WEEK_H + DAY_H):  # Saturday to Monday
        assert evaluate(frame, t, Policy()) == [], t
        ss = frame.scopes[AGENT]
        unit = spikes.cost_per_call(ss, t)
        assert steps.detect(ss.cost, t, MEDIUM, unit, 8, ss.first_hour) is None, t


def test_a_step_needs_complete_hours() -> None:
    start = at(9, 2, 15)
    frame = busy_office(10, rise=lambda t: 1.5 if start <= t < start + 48 else 1.0)
    ss = frame.scopes[AGENT]
    # within the hour only the seasonal windows are read
    for t in range(start, start + 4):
        flag = spikes.detect(ss, t, MEDIUM, fraction=0.5, daily=False)
        assert flag is None or not str(flag.detail["window"]).startswith("step ")
