"""A step up within the day: the last hours against the hours just before them.

A scope's whole day can be busy (more users, a longer queue): such a day is busy all
day, so the seasonal baseline alone cannot tell a 1.5x rise from a busy day. Comparing
the last `k` hours with the `REFERENCE_H` hours before them, each against its own
seasonal expectation, cancels what the day shares: a step up that starts after the
reference hours shows; a day that was busy from its first hour does not.

The statistic is the log of (observed / expected over the window) over (observed /
expected over the reference), the reference read as no lower than its expectation (a
quiet morning must not make a normal afternoon look like a step). Its spread is the
scope's own, measured as the baseline's noise is: the robust spread of the same
statistic at the same hour of the day on each of the 28 days before, never below the
Poisson noise of the calls in the window and the reference. A step is flagged when it
is `z - 1.5` spreads up, the window is above both its seasonal expectation and the
reference's rate by clear margins, and the excess over the reference's rate is worth a
record (``min_share`` of a day).

Only complete hours are read: a step is a matter of hours, not minutes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from llmledger.anomalies.baseline import (
    MAD_TO_SD,
    MIN_NOISE,
    MIN_NOISE_DAYS,
    MIN_WEEKS,
    NOISE_DAYS,
    median,
    median_int,
    scaled_samples,
)
from llmledger.anomalies.flags import Thresholds
from llmledger.anomalies.series import DAY_H, Series

#: The windows (hours) of the step, and the hours before a window it is measured against.
STEP_WINDOWS = (2, 3, 4, 6, 9, 12)
REFERENCE_H = 12
#: The reference must hold this share of a day's expected spend (a few night hours of
#: an office agent are too few calls to measure a level against).
MIN_REFERENCE = 0.15
#: A step's z-score bar is this far below the windows' `z`: what the day shares (the
#: noise that makes a long window need a large z) is gone from it.
STEP_Z_BELOW = 1.5


@dataclass(frozen=True, slots=True)
class Step:
    """The last `width` hours against the reference hours before them."""

    width: int
    observed: int
    expected: int
    """The window's expectation at the reference's level (its seasonal one if higher)."""
    seasonal: int
    """The window's seasonal expectation alone."""
    level: int
    log_ratio: float
    spread: float
    poisson: float

    @property
    def excess(self) -> int:
        return self.observed - self.expected

    def score(self) -> float:
        return self.log_ratio / self.spread if self.spread > 0 else 0.0


def hourly_expected(series: Series, h: int, weeks: int, first_hour: int) -> int | None:
    """The seasonal expectation of complete hour h (None without a baseline). Memoised."""
    memo = series.expected_memo
    if h in memo:
        return memo[h]
    _, samples = scaled_samples(series, h, h, 1.0, weeks, first_hour)
    value = median_int(samples) if len(samples) >= MIN_WEEKS else None
    memo[h] = value
    return value


def _expected(series: Series, a: int, b: int, weeks: int, first_hour: int) -> int | None:
    total = 0
    for h in range(a, b):
        e = hourly_expected(series, h, weeks, first_hour)
        if e is None:
            return None
        total += e
    return total


def measure(
    series: Series, t: int, width: int, unit: float, weeks: int, first_hour: int
) -> Step | None:
    """The step of the `width` complete hours ending at hour t (None when the window or
    its reference lacks a baseline, or the reference holds too little to measure).
    Memoised: complete hours never change."""
    key = (t, width)
    memo = series.step_memo
    if key in memo:
        return memo[key]
    step: Step | None = None
    a = t - width + 1
    r = a - REFERENCE_H
    if r >= first_hour:
        level = series.level(a)
        seasonal = _expected(series, a, t + 1, weeks, first_hour)
        reference = _expected(series, r, a, weeks, first_hour)
        observed = series.total(a, t + 1)
        before = series.total(r, a)
        if (
            seasonal
            and reference
            and reference >= MIN_REFERENCE * level
            and observed > 0
            and before > 0
        ):
            # the reference's rate, read as no lower than its expectation
            rate = max(before / reference, 1.0)
            log_ratio = math.log(observed / seasonal) - math.log(rate)
            poisson = math.sqrt(2.0 * unit / seasonal + 2.0 * unit / reference) if unit > 0 else 0.0
            step = Step(
                width,
                observed,
                round(seasonal * rate),
                seasonal,
                level,
                log_ratio,
                0.0,
                poisson,
            )
    memo[key] = step
    return step


def noise(series: Series, t: int, width: int, unit: float, weeks: int, first_hour: int) -> float:
    """The robust spread of the step statistic at hour t's hour of the day over the
    `NOISE_DAYS` days before (infinite with fewer than `MIN_NOISE_DAYS` of them)."""
    values = []
    for j in range(1, NOISE_DAYS + 1):
        s = measure(series, t - DAY_H * j, width, unit, weeks, first_hour)
        if s is not None:
            values.append(abs(s.log_ratio))
    if len(values) < MIN_NOISE_DAYS:
        return math.inf
    return MAD_TO_SD * median(values)


def detect(
    series: Series, t: int, th: Thresholds, unit: float, weeks: int, first_hour: int
) -> Step | None:
    """The first window (shortest first) whose step up clears the bars at hour t."""
    floor = th.min_share * series.level(t)
    rise = math.log(1 + th.ratio_hour / 2)
    above = 1 + th.ratio_day / 2
    for width in STEP_WINDOWS:
        s = measure(series, t, width, unit, weeks, first_hour)
        if s is None or s.log_ratio < rise or s.observed < above * s.seasonal or s.excess < floor:
            continue
        spread = max(noise(series, t, width, unit, weeks, first_hour), MIN_NOISE, s.poisson)
        found = Step(
            s.width,
            s.observed,
            s.expected,
            s.seasonal,
            s.level,
            s.log_ratio,
            spread,
            s.poisson,
        )
        if found.score() >= th.z - STEP_Z_BELOW:
            return found
    return None
