"""Spend spikes: a scope's spend over the last hours far above its seasonal baseline
(weekday x hour of day, scaled by growth; see `baseline`).

Windows of 1, 2, 3, 6, 12 and 24 hours ending now are examined, the hour in
progress read as far as it has gone: a burst shows in the short windows within the
hour, a rise of a half spread over a day in the long ones. A window is flagged
when all three hold: the evidence of a rise is at least `z` - `COUNT_Z_BELOW` (see
`counts`: the spend, or the calls, against their expectations under the scope's model
of counts: Poisson calls, the spread of one call's cost, the scope's measured
day-to-day swing); it is a clear multiple of its expectation (``ratio_hour`` up to 3
hours, ``ratio_mid`` up to 12, ``ratio_day`` beyond); and the excess is worth a record
(``min_share`` of the scope's normal daily spend). A scope too young for its swing to
be measured is read against the spread of its baseline's own past errors, at `z` (see
`baseline.noise`).

At each hour's end, when no window is flagged, the sum of the evidence of a sustained
rise of the calls is read (see `sustained`: a rise on a scope of few calls that no
window fits), then the last hours are compared with the hours just before them (see
`steps`): a busy day is busy all day, so a step up within it shows there while the
seasonal windows still take it for a busy day.
"""

from __future__ import annotations

import math

from llmledger.anomalies import counts, steps, sustained
from llmledger.anomalies.baseline import Expectation, expectation
from llmledger.anomalies.flags import Flag, Point, Thresholds
from llmledger.anomalies.series import DAY_H, ScopeSeries

#: The windows (hours) examined while an hour is in progress, and at each check.
HOURLY_WINDOWS = (1, 2, 3)
WINDOWS = (1, 2, 3, 6, 12, 24)
#: The count model's z-score (see `counts`) is calibrated on two months of the scope's
#: days and follows the tails of its counts: its bar sits this far below the thresholds'
#: `z`, which was set for a spread measured from four weeks of one hour of the day.
COUNT_Z_BELOW = 1.0
#: Relative spread assumed, before a scope has a month of its own errors, by width.
HOUR_FLOOR = 0.2
MID_FLOOR = 0.12
DAY_FLOOR = 0.1


def cost_per_call(ss: ScopeSeries, t: int) -> float:
    """The scope's typical cost of one call over the week before hour t."""
    calls = ss.calls.total(t - 7 * DAY_H, t)
    return ss.cost.total(t - 7 * DAY_H, t) / calls if calls else 0.0


def ratio_for(th: Thresholds, width: int) -> float:
    if width <= 3:
        return th.ratio_hour
    return th.ratio_mid if width < DAY_H else th.ratio_day


def floor_for(width: int) -> float:
    if width <= 3:
        return HOUR_FLOOR
    return MID_FLOOR if width < DAY_H else DAY_FLOOR


def window(
    ss: ScopeSeries,
    t: int,
    width: int,
    fraction: float = 1.0,
    weeks: int = 8,
    gate: float | None = None,
) -> Expectation | None:
    """The scope's spend over the `width` hours ending at hour t against its baseline."""
    return expectation(
        ss.cost,
        t,
        width=width,
        fraction=fraction,
        weeks=weeks,
        rel_floor=floor_for(width),
        unit=cost_per_call(ss, t),
        first_hour=ss.first_hour,
        gate=gate,
    )


def hourly(ss: ScopeSeries, t: int, fraction: float = 1.0, weeks: int = 8) -> Expectation | None:
    return window(ss, t, 1, fraction, weeks)


def hit(e: Expectation, z: float, ratio: float, floor: float) -> bool:
    return (
        e.excess > 0
        and e.excess >= floor
        and e.observed * 100 >= round((1 + ratio) * 100) * e.expected
        and e.score() >= z
    )


def window_points(ss: ScopeSeries, t: int, width: int, fraction: float, weeks: int) -> list[Point]:
    """The hours of a flagged window that stand above their expectation: the evidence.

    Hours clearly above (by half a spread) when there are any, else every hour above."""
    clear: list[Point] = []
    above: list[Point] = []
    for h in range(max(t - width + 1, ss.first_hour), t + 1):
        e = hourly(ss, h, fraction if h == t else 1.0, weeks)
        if e is None or e.excess <= 0:
            continue
        point = Point(h, e.observed, e.expected)
        above.append(point)
        if e.excess > e.spread / 2:
            clear.append(point)
    return clear or above


def rise(
    ss: ScopeSeries, t: int, width: int, e: Expectation, fraction: float, weeks: int
) -> float | None:
    """The evidence of a rise over the `width` hours ending at hour t (see `counts`):
    the larger of the spend's and the calls' z-scores. None for a scope too young for
    its day-to-day swing to be measured."""
    unit = cost_per_call(ss, t)
    if unit <= 0:
        return None
    # the swing of the scope's days is measured once a day, from what it was at its start
    per_day = ss.calls.level(t - t % DAY_H)
    kappa = counts.call_size_spread(ss, t)
    dispersion = 1.0 + kappa * kappa
    swing = counts.day_swing(ss.cost, t, per_day, dispersion, weeks, ss.first_hour)
    if swing is None:
        return None
    z = counts.evidence(e.observed, e.expected, e.samples, unit, dispersion, swing, width)
    calls = expectation(
        ss.calls,
        t,
        width=width,
        fraction=fraction,
        weeks=weeks,
        first_hour=ss.first_hour,
        gate=math.inf,
    )
    calls_swing = counts.day_swing(ss.calls, t, per_day, 1.0, weeks, ss.first_hour)
    if calls is not None and calls_swing is not None:
        by_calls = counts.evidence(
            calls.observed, calls.expected, calls.samples, 1.0, 1.0, calls_swing, width
        )
        z = max(z, by_calls)
    return z


def detect(
    ss: ScopeSeries,
    t: int,
    th: Thresholds,
    fraction: float = 1.0,
    weeks: int = 8,
    *,
    daily: bool = True,
) -> Flag | None:
    floor = th.min_share * ss.cost.level(t)
    for width in WINDOWS if daily else HOURLY_WINDOWS:
        # Cheap first: the excess of a window cannot exceed what it holds.
        if ss.cost.window(t - width + 1, t, fraction) < floor:
            continue
        ratio = ratio_for(th, width)
        e = window(ss, t, width, fraction, weeks, gate=math.inf)
        if e is None:
            return None  # no baseline yet: a new scope is never a spike
        if not hit(e, 0.0, ratio, floor):
            continue
        z = rise(ss, t, width, e, fraction, weeks)
        bar = th.z - COUNT_Z_BELOW
        if z is None:  # a young scope: read against its baseline's own past errors
            young = window(ss, t, width, fraction, weeks, gate=1 + ratio)
            z, bar = (young.score() if young is not None else 0.0), th.z
        if z >= bar:
            return _flag(ss, t, width, e, z, fraction, weeks)
    if daily and fraction >= 1.0:
        found = sustained.detect(ss, t, th.z, th.ratio_day, floor, weeks)
        if found is not None:
            return sustained_flag(ss, t, *found, weeks)
        step = steps.detect(ss.cost, t, th, cost_per_call(ss, t), weeks, ss.first_hour)
        if step is not None:
            return step_flag(ss, t, step, weeks)
    return None


def scope_flag(
    ss: ScopeSeries,
    t: int,
    points: list[Point],
    score: float,
    description: str,
    detail: dict[str, object],
    kind: str = "spend_spike",
) -> Flag:
    """A finding about the scope's spend as a whole, its evidence starting at its first
    point."""
    return Flag(
        kind=kind,
        scope=ss.scope,
        subject="",
        t=t,
        started=points[0].t,
        points=tuple(points),
        score=score,
        description=description,
        department=ss.department,
        detail=detail,
    )


def sustained_flag(
    ss: ScopeSeries, t: int, run: sustained.Run, spend: Expectation, weeks: int
) -> Flag | None:
    points = window_points(ss, t, run.width, 1.0, weeks)
    if not points:
        return None
    rate = run.calls / run.expected_calls
    what = f"the last {run.width} hours" if run.width > 1 else "the hour"
    return scope_flag(
        ss,
        t,
        points,
        math.sqrt(2 * run.llr),
        f"calls over {what} at {rate:.1f}x their seasonal rate, and spend with them",
        {
            "window": f"sustained {run.width}h",
            "window_observed_nanos": spend.observed,
            "window_expected_nanos": spend.expected,
            "calls": run.calls,
            "expected_calls": round(run.expected_calls, 1),
            "z": round(math.sqrt(2 * run.llr), 2),
            "daily_level_nanos": spend.level,
        },
    )


def step_flag(ss: ScopeSeries, t: int, step: steps.Step, weeks: int) -> Flag | None:
    points = window_points(ss, t, step.width, 1.0, weeks)
    if not points:
        return None
    rise = math.exp(step.log_ratio)
    return scope_flag(
        ss,
        t,
        points,
        step.score(),
        (
            f"spend over the last {step.width} hours at {rise:.1f}x the rate of the "
            f"{steps.REFERENCE_H} hours before them"
        ),
        {
            "window": f"step {step.width}h",
            "window_observed_nanos": step.observed,
            "window_expected_nanos": step.expected,
            "seasonal_expected_nanos": step.seasonal,
            "z": round(step.score(), 2),
            "daily_level_nanos": step.level,
        },
    )


def _flag(
    ss: ScopeSeries, t: int, width: int, e: Expectation, z: float, fraction: float, weeks: int
) -> Flag | None:
    if width == 1:
        points = [Point(t, e.observed, e.expected)]
    else:
        points = window_points(ss, t, width, fraction, weeks)
    if not points:
        return None
    what = f"the last {width} hours" if width > 1 else "the hour"
    if e.expected > 0:
        description = f"spend over {what} at {e.observed / e.expected:.1f}x the seasonal baseline"
    else:
        description = f"spend over {what} where the seasonal baseline expects none"
    return scope_flag(
        ss,
        t,
        points,
        z,
        description,
        {
            "window": f"{width}h",
            "window_observed_nanos": e.observed,
            "window_expected_nanos": e.expected,
            "z": round(z, 2),
            "daily_level_nanos": e.level,
        },
    )
