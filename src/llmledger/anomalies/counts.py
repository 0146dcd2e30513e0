"""How far a window of a scope's spend (or calls) strays by chance: a model of counts.

A window of hours holds a count of calls and their cost. Without any anomaly it strays
from its seasonal expectation in three ways: the count itself (Poisson), the size of
each call (the cost of a window of n calls varies like n calls of a relative spread
kappa: a dispersion of 1 + kappa^2), and what all the hours of a day share (a busy day,
a quiet one: a relative swing measured from the scope's own days). The expectation
errs as well: it is the median of a few past weeks, each as noisy as the window. A
window expecting `lam` calls therefore varies like

    (lam * dispersion + swing^2 * lam^2) * (1 + pi / (2 n))       (n past weeks)

and the evidence of a rise is the signed root of the deviance of the observed count
under that model (negative binomial: Poisson calls at a rate that swings from day to
day like a gamma), scaled for the size of calls and the baseline's own error. Near the
expectation it is the usual z-score; in the tails it follows the count's own shape
instead of a normal one: 8 calls in an hour that usually sees one (the long upper tail
of a small count) is not taken for a 7-sigma event, nor a busy day at 1.5x on a scope
of thousands of calls, while 25 calls where 10 are expected (2.5x on a scope of few
calls, sustained over a few hours) still accumulates its evidence.

The day's swing is measured, never assumed: the robust spread (1.4826 x the median
absolute value) of the baseline's own errors for the 24 hours ending at every hour of
the `SWING_DAYS` days before, less what the Poisson noise of a day's calls explains.
Two months of days make it a steady figure: a spread measured from four weeks of one
hour of the day is itself off by a fifth one time in three, and a bar on a z-score
must then sit far higher to keep its false alarms.
"""

from __future__ import annotations

import math

from llmledger.anomalies.baseline import MAD_TO_SD, MIN_NOISE, median, past_error
from llmledger.anomalies.series import DAY_H, ScopeSeries, Series

#: Days of 24-hour errors that measure a scope's day-to-day swing.
SWING_DAYS = 56
MIN_SWING_DAYS = 14
#: The smallest expected count a window is read against (a quiet hour that usually sees
#: none must not make three calls look huge).
MIN_EXPECTED_CALLS = 1.0
#: Bounds of the relative spread of one call's cost, when it cannot be measured.
MIN_CALL_SPREAD = 0.1
UNKNOWN_CALL_SPREAD = 1.0


def call_size_spread(ss: ScopeSeries, t: int) -> float:
    """The relative spread of one call's cost (a sum of n calls spreads by this over
    the square root of n), measured over the week before hour t's day. Memoised per day."""
    day = t // DAY_H
    key = (day, 0)
    cached = ss.calls.memo.get(key)
    if cached is not None:
        return cached
    b = day * DAY_H
    a = b - 7 * DAY_H
    calls = ss.calls.total(a, b)
    spread = UNKNOWN_CALL_SPREAD
    if calls:
        usual = ss.cost.total(a, b) / calls
        devs = []
        for h in range(a, b):
            n = ss.calls.total(h, h + 1)
            if n and usual > 0:
                devs.append(abs(ss.cost.total(h, h + 1) / (n * usual) - 1) * math.sqrt(n))
        if len(devs) >= DAY_H:
            spread = max(MAD_TO_SD * median(devs), MIN_CALL_SPREAD)
    ss.calls.memo[key] = spread
    return spread


def deviance_z(observed: float, expected: float, shape: float = math.inf) -> float:
    """The evidence that a count `observed` is above `expected`: the signed root of its
    deviance (0 when it is not above).

    With a finite `shape` k the count is negative binomial (Poisson with a rate that
    swings like a gamma of variance 1/k: its variance is expected + expected^2 / k),
    else Poisson. The gamma's long right tail reads a day at 1.6x on a scope of
    thousands of calls as the busy day it may be, not as a 6-sigma count."""
    if observed <= expected or expected <= 0:
        return 0.0
    deviance = observed * math.log(observed / expected)
    if math.isinf(shape):
        deviance -= observed - expected
    else:
        deviance -= (observed + shape) * math.log((observed + shape) / (expected + shape))
    return math.sqrt(max(2.0 * deviance, 0.0))


def day_swing(
    series: Series, t: int, per_day: float, dispersion: float, weeks: int, first_hour: int
) -> float | None:
    """The relative swing of the scope's days that is not the noise of their counts.

    From the baseline's errors for the 24 hours ending at each hour of the
    `SWING_DAYS` days before hour t's day (a busy day shows in all the windows that
    hold it, whatever hour they end at); `per_day` is the scope's usual count of calls
    in a day and `dispersion` that of one call, both as they were at the start of the
    day. None for a scope with fewer than `MIN_SWING_DAYS` days of such errors (too
    young to know). Memoised per day."""
    day = t // DAY_H
    memo = series.swing_memo
    if day in memo:
        return memo[day]
    errors = []
    for h in range(day * DAY_H - SWING_DAYS * DAY_H, day * DAY_H):
        e = past_error(series, h, DAY_H, weeks, first_hour)
        if e is not None:
            errors.append(abs(e))
    value: float | None = None
    if len(errors) >= MIN_SWING_DAYS * DAY_H:
        total = MAD_TO_SD * median(errors)
        # the measured errors hold the baseline's own error (see `inflation`) and the
        # noise of a day's count of calls
        counted = dispersion / per_day if per_day > 0 else 0.0
        swing2 = total * total / inflation(weeks) - counted
        value = math.sqrt(max(swing2, MIN_NOISE * MIN_NOISE))
    memo[day] = value
    return value


def inflation(samples: int) -> float:
    """How much a median of `samples` past weeks adds to a window's own variance."""
    return 1.0 + math.pi / (2.0 * max(samples, 1))


def rate_of(expected: int, samples: tuple[int, ...]) -> float:
    """The window's expected amount as a rate: its median, or the mean of the past
    weeks less the largest when higher (the median of a few small counts is often
    zero where the mean is not)."""
    if len(samples) < 3:
        return float(expected)
    trimmed = sorted(samples)[:-1]
    return max(float(expected), sum(trimmed) / len(trimmed))


def evidence(
    observed: int,
    expected: int,
    samples: tuple[int, ...],
    unit: float,
    dispersion: float,
    swing: float,
    width: int,
) -> float:
    """The z-score of a window of `width` hours: `observed` against its expectation, in
    events of size `unit` (the cost of a typical call, or 1 for a count of calls) of
    `dispersion`, on a scope whose days swing by `swing`."""
    if unit <= 0 or dispersion <= 0:
        return 0.0
    lam = max(rate_of(expected, samples) / unit, MIN_EXPECTED_CALLS)
    # a window longer than a day holds more than one day's swing
    shared = swing * swing * min(1.0, DAY_H / width)
    shape = 1.0 / shared if shared > 0 else math.inf
    z = deviance_z(observed / unit / dispersion, lam / dispersion, shape)
    return z / math.sqrt(inflation(len(samples)))
