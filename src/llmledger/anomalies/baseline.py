"""The robust seasonal baseline every spend detector compares against.

For a window of ``width`` hours ending at hour t, the baseline looks at the same window
(same weekday, same hours of the day) in each of the previous ``weeks`` weeks. Each of
those past windows is scaled by the growth since then: the ratio of the scope's level
now to its level then, where a level is the mean of fourteen daily totals less the two
largest (robust to a past spike, blind to the weekday mix). The expectation is the
median of the scaled past windows; the spread is their median absolute deviation
(scaled to a standard deviation), floored so that a flat history or a handful of calls
cannot make any bump look huge.

Amounts stay integers (nano-USD or counts): a scaled sample is ``w * level_now //
level_then``; only the spread, used for scores, is a float.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from llmledger.anomalies.series import DAY_H, WEEK_H, Series

MAD_TO_SD = 1.4826
#: Fewest past weeks with activity before a baseline is trusted.
MIN_WEEKS = 3


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
) -> Expectation | None:
    """Observed against expected for hours t-width+1..t (hour t read at `fraction`).

    `unit` is the size of one event of the series (the cost of a typical call, or 1 for
    a count): the spread is at least that of a Poisson count of such events. None when
    fewer than `MIN_WEEKS` past weeks hold activity (a new scope has no baseline).
    """
    a = t - width + 1
    observed = series.window(a, t, fraction)
    level_now = level(series, a)
    samples: list[int] = []
    for k in range(1, weeks + 1):
        off = WEEK_H * k
        if a - off - 14 * DAY_H < first_hour:
            break
        level_then = level(series, a - off)
        if level_then <= 0:
            continue
        past = series.window(a - off, t - off, fraction)
        samples.append(past * level_now // level_then)
    if len(samples) < MIN_WEEKS:
        return None
    expected = median_int(samples)
    mean = sum(samples) / len(samples)
    # A count of `unit`-sized events varies like a Poisson count (doubled for the spread
    # of sizes); the +1 keeps a quiet hour (expected 0) from making 3 calls look huge.
    poisson = unit * math.sqrt(2.0 * max(mean, 0.0) / unit + 1.0) if unit > 0 else 0.0
    spread = max(
        mad([float(s) for s in samples], float(expected)),
        rel_floor * expected,
        poisson,
        0.01 * level_now * math.sqrt(width / DAY_H),
        1.0,
    )
    return Expectation(observed, expected, spread, level_now, tuple(samples))
