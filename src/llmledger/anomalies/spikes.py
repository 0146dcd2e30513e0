"""Spend spikes: a scope's spend in the hour, or over the last 24 hours, far above its
seasonal baseline (weekday x hour of day, scaled by growth; see `baseline`).

A window is flagged when all three hold: its robust z-score reaches the sensitivity's
``z``; it is a clear multiple of its expectation (``ratio_hour``, ``ratio_mid``,
``ratio_day``); and the excess is worth a record (``min_share`` of the scope's normal
daily spend). The hour catches bursts within the hour; the last 6 and 24 hours catch a
rise spread over many hours.
"""

from __future__ import annotations

from llmledger.anomalies.baseline import Expectation, expectation
from llmledger.anomalies.flags import Flag, Point, Thresholds
from llmledger.anomalies.series import DAY_H, ScopeSeries

HOUR_FLOOR = 0.2
MID_FLOOR = 0.12
DAY_FLOOR = 0.1


def cost_per_call(ss: ScopeSeries, t: int) -> float:
    """The scope's typical cost of one call over the week before hour t."""
    calls = ss.calls.total(t - 7 * DAY_H, t)
    return ss.cost.total(t - 7 * DAY_H, t) / calls if calls else 0.0


def hourly(ss: ScopeSeries, t: int, fraction: float = 1.0, weeks: int = 8) -> Expectation | None:
    return expectation(
        ss.cost,
        t,
        width=1,
        fraction=fraction,
        weeks=weeks,
        rel_floor=HOUR_FLOOR,
        unit=cost_per_call(ss, t),
        first_hour=ss.first_hour,
    )


def _hit(e: Expectation, z: float, ratio: float, floor: float) -> bool:
    return (
        e.excess > 0
        and e.excess >= floor
        and e.score() >= z
        and e.observed * 100 >= round((1 + ratio) * 100) * e.expected
    )


def _window_points(ss: ScopeSeries, t: int, width: int, fraction: float, weeks: int) -> list[Point]:
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


def detect(
    ss: ScopeSeries,
    t: int,
    th: Thresholds,
    fraction: float = 1.0,
    weeks: int = 8,
    *,
    daily: bool = True,
) -> Flag | None:
    # Cheap first: the excess of a window cannot exceed what it holds.
    floor = th.min_share * ss.cost.level(t)
    hour_now = ss.cost.hour(t, fraction)
    if hour_now < floor and (not daily or ss.cost.window(t - DAY_H + 1, t, fraction) < floor):
        return None
    hour = hourly(ss, t, fraction, weeks)
    if hour is None:
        return None
    hit_hour = hour_now >= floor and _hit(hour, th.z, th.ratio_hour, floor)
    day = None
    width = 1
    if daily and not hit_hour:
        for width, rel_floor, ratio in (
            (6, MID_FLOOR, th.ratio_mid),
            (DAY_H, DAY_FLOOR, th.ratio_day),
        ):
            day = expectation(
                ss.cost,
                t,
                width=width,
                fraction=fraction,
                weeks=weeks,
                rel_floor=rel_floor,
                unit=cost_per_call(ss, t),
                first_hour=ss.first_hour,
            )
            if day is not None and _hit(day, th.z, ratio, floor):
                break
        else:
            return None
    elif not hit_hour:
        return None
    now = Point(t, hour.observed, hour.expected)
    points = tuple(_window_points(ss, t, width, fraction, weeks)) if day is not None else (now,)
    if not points:
        return None
    window = f"{width}h"
    basis = day if day is not None else hour
    ratio = basis.observed / basis.expected if basis.expected else float("inf")
    what = f"the last {width} hours" if day is not None else "the hour"
    desc = f"spend over {what} at {ratio:.1f}x the seasonal baseline"
    return Flag(
        kind="spend_spike",
        scope=ss.scope,
        subject="",
        t=t,
        started=points[0].t,
        points=points,
        score=basis.score(),
        description=desc,
        department=ss.department,
        detail={
            "window": window,
            "window_observed_nanos": basis.observed,
            "window_expected_nanos": basis.expected,
            "z": round(basis.score(), 2),
            "daily_level_nanos": hour.level,
        },
    )
