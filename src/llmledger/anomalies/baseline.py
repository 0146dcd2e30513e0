"""The robust seasonal baseline every spend detector compares against.

For a window of ``width`` hours ending at hour t, the baseline looks at the same window
(same weekday, same hours of the day) in each of the previous ``weeks`` weeks. Each of
those past windows is scaled by the growth since then: the ratio of the scope's level
now to its level then, where a level is a trimmed mean of fourteen daily totals (robust
to a past anomaly of a few days, blind to the weekday mix). The expectation is the
median of the scaled past windows.

The spread is the scope's own noise: how far this same baseline was off for the same
window at the same hour on each of the 28 days before (the robust spread of those
errors), never below the Poisson noise of the scope's calls. A quiet hour that usually
sees none must not make three calls look huge, and a scope whose days swing by 10%
must not page for a 15% rise. A scope too young for a month of errors uses the spread
of the past weeks' windows, floored at a share of the expectation.

Amounts stay integers (nano-USD or counts): a scaled sample is ``w * level_now /
level_then`` rounded to the nearest integer (floored, a count of two calls scaled by
0.97 would be one); only the spread, used for scores, is a float.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from llmledger.anomalies.series import DAY_H, WEEK_H, Series

MAD_TO_SD = 1.4826
#: Fewest past weeks with activity before a baseline is trusted.
MIN_WEEKS = 3
#: Days of the baseline's own past errors that measure a scope's noise.
NOISE_DAYS = 28
MIN_NOISE_DAYS = 10
#: The smallest relative noise believed (a perfectly regular history is luck).
MIN_NOISE = 0.03


def median_int(values: Sequence[int]) -> int:
    s = sorted(values)
    n = len(s)
    if n == 0:
        return 0
    mid = n // 2
    return s[mid] if n % 2 else (s[mid - 1] + s[mid]) // 2


def median(values: Sequence[float]) -> float:
    s = sorted(values)
    n = len(s)
    if n == 0:
        return 0.0
    mid = n // 2
    return float(s[mid]) if n % 2 else (s[mid - 1] + s[mid]) / 2


def mad(values: Sequence[float], centre: float) -> float:
    """Median absolute deviation about `centre`, scaled to a normal standard deviation."""
    return MAD_TO_SD * median([abs(v - centre) for v in values])


def level(series: Series, end: int) -> int:
    """A scope's daily level before hour `end` (see `Series.level`)."""
    return series.level(end)


@dataclass(frozen=True, slots=True)
class Expectation:
    observed: int
    expected: int
    spread: float
    level: int
    """The scope's daily level before the window (its "normal daily spend")."""
    samples: tuple[int, ...]

    @property
    def excess(self) -> int:
        return self.observed - self.expected

    def score(self) -> float:
        return self.excess / self.spread if self.spread > 0 else 0.0


def scaled_samples(
    series: Series, a: int, t: int, fraction: float, weeks: int, first_hour: int
) -> tuple[int, list[int]]:
    """The daily level before hour `a`, and the past weeks' windows scaled by growth."""
    level_now = series.level(a)
    samples: list[int] = []
    window = series.window
    for k in range(1, weeks + 1):
        off = WEEK_H * k
        if a - off - 14 * DAY_H < first_hour:
            break
        level_then = series.level(a - off)
        if level_then > 0:
            # rounded, not floored: a count of 2 calls scaled by 0.97 is 2, not 1
            scaled = window(a - off, t - off, fraction) * level_now
            samples.append((2 * scaled + level_then) // (2 * level_then))
    return level_now, samples


def past_error(series: Series, t: int, width: int, weeks: int, first_hour: int) -> float | None:
    """How far the baseline was off for the complete window of `width` hours ending at
    hour t, as a share of what it expected (None without a baseline). Memoised: the
    hours behind it are complete and never change."""
    key = (t, width)
    if key in series.memo:
        return series.memo[key]
    error: float | None = None
    if t >= first_hour:
        _, samples = scaled_samples(series, t - width + 1, t, 1.0, weeks, first_hour)
        if len(samples) >= MIN_WEEKS:
            expected = median_int(samples)
            if expected > 0:
                error = series.window(t - width + 1, t) / expected - 1.0
    series.memo[key] = error
    return error


def noise(series: Series, t: int, width: int, weeks: int, first_hour: int) -> float | None:
    """The scope's own relative noise for a window of `width` hours ending at hour t's
    hour of the day: the robust spread (1.4826 x median absolute value) of the
    baseline's errors for the same window on each of the `NOISE_DAYS` days before.

    It measures what the baseline cannot know (a busy day, a quiet afternoon, the
    baseline's own error) from the scope's history; a past anomaly is one outlier among
    28. None with fewer than `MIN_NOISE_DAYS` errors (a young scope)."""
    key = (t, width)
    if key in series.noise_memo:
        return series.noise_memo[key]
    errors = []
    for j in range(1, NOISE_DAYS + 1):
        e = past_error(series, t - DAY_H * j, width, weeks, first_hour)
        if e is not None:
            errors.append(abs(e))
    value = MAD_TO_SD * median(errors) if len(errors) >= MIN_NOISE_DAYS else None
    series.noise_memo[key] = value
    return value


def expectation(
    series: Series,
    t: int,
    *,
    width: int = 1,
    fraction: float = 1.0,
    weeks: int = 8,
    rel_floor: float = 0.1,
    unit: float = 0.0,
    first_hour: int = 0,
    gate: float | None = None,
) -> Expectation | None:
    """Observed against expected for hours t-width+1..t (hour t read at `fraction`).

    `unit` is the size of one event of the series (the cost of a typical call, or 1 for
    a count): the spread is at least that of a Poisson count of such events. The spread
    is otherwise the scope's own measured noise for such a window (`noise`), or, for a
    scope too young to have measured it, the spread of the past weeks' windows floored
    at `rel_floor` of the expectation. None when fewer than `MIN_WEEKS` past weeks hold
    activity (a new scope has no baseline).

    With `gate`, the noise is measured only when the window is at least `gate` times
    its expectation (the spread of a window that is not above its baseline does not
    matter, and measuring it costs a month of past windows).
    """
    a = t - width + 1
    observed = series.window(a, t, fraction)
    level_now, samples = scaled_samples(series, a, t, fraction, weeks, first_hour)
    if len(samples) < MIN_WEEKS:
        return None
    expected = median_int(samples)
    mean = sum(samples) / len(samples)
    # A count of `unit`-sized events varies like a Poisson count (doubled for the spread
    # of sizes); the +1 keeps a quiet hour (expected 0) from making 3 calls look huge.
    poisson = unit * math.sqrt(2.0 * max(mean, 0.0) / unit + 1.0) if unit > 0 else 0.0
    measured = None
    if gate is None or observed > gate * expected:
        measured = noise(series, t, width, weeks, first_hour)
    if measured is not None:
        relative = max(measured, MIN_NOISE)
    else:
        spread = mad([float(s) for s in samples], float(expected))
        relative = max(spread / max(expected, 1), rel_floor)
    spread = max(
        relative * expected,
        poisson,
        0.01 * level_now * math.sqrt(width / DAY_H),
        1.0,
    )
    return Expectation(observed, expected, spread, level_now, tuple(samples))
