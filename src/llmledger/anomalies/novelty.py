"""What is new to a scope: a model or a usage type whose first use of the last
`NEW_DAYS` days followed `HISTORY_DAYS` days in which the scope, itself active, never used
it, and which is still in use (within the last 24 hours). The detectors then sum its
spend since that first use, so something that takes most calls at once is flagged
within the hour, and something that creeps in at a few percent once its spend adds up
to a record; something tried once and dropped is not flagged days later.
"""

from __future__ import annotations

from bisect import bisect_right

from llmledger.anomalies.series import DAY_H, ScopeSeries, Series

HISTORY_DAYS = 28
#: How long the spend of something new is summed from its first use.
NEW_DAYS = 7
#: Days of activity a scope needs before anything can be new to it.
MIN_ACTIVE_DAYS = 7


def first_use(s: Series, lo: int, t: int) -> int | None:
    """The first hour in lo..t with a non-zero value (a search of the prefix sums)."""
    lo = min(max(lo, 0), s.n)
    hi = min(t + 1, s.n)
    j = bisect_right(s.prefix, s.prefix[lo], lo, hi + 1)
    return j - 1 if j <= hi else None


def new_since(ss: ScopeSeries, s: Series, t: int, fraction: float = 1.0) -> int | None:
    """The hour `s` (a model's calls, a usage type's spend) became new to the scope, when
    it is new at hour t (read at `fraction`); else None."""
    first = first_use(s, t - NEW_DAYS * DAY_H + 1, t)
    if first is None or ss.days_active(first) < MIN_ACTIVE_DAYS:
        return None
    if s.window(t - DAY_H + 1, t, fraction) <= 0:
        return None  # no longer in use
    before = first - HISTORY_DAYS * DAY_H
    if s.total(before, first) > 0 or ss.calls.total(before, first) <= 0:
        return None
    return first
