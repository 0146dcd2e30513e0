"""A sustained rise: hour after hour, the evidence that a scope's calls run at a multiple
of their seasonal rate, summed until it is beyond doubt (a CUSUM).

Each complete hour adds the log-likelihood ratio of its count of calls under a rate
`RISE` times the hour's seasonal one against the seasonal one itself (Poisson counts):
``calls * ln(RISE) - expected * (RISE - 1)``. The sum restarts from zero whenever it
falls below it, so it holds the evidence of the run of hours since the rise began
whatever its length: a rise to 2.2x on a scope of 5 calls an hour, where no single
hour nor fixed window stands out, adds some 2.6 an hour and is called after about
seven, while hours that merely swing around their expectation keep the sum at zero.
An hour adds only when its calls are above (RISE - 1) / ln(RISE) = 1.64 times the
expected ones: a busy day at 1.4x, however many calls it holds, drifts the sum down.

The bar on the sum is the log-likelihood ratio that a single window at the thresholds'
z-score would carry, z^2 / 2 (18 at medium), and a run is reported only while its
later half adds to the sum: a sum raised by a burst takes days to drain on a quiet
scope, and the hours after the burst are not a rise. The expected calls of an hour are the mean
of the same hour in the past weeks scaled by growth (the median of a handful of small
counts is mostly zero), and never below one call (a quiet hour that usually sees none
must not make a few calls look huge). The run must also be worth a record: its spend
above its seasonal expectation by ``min_share`` of a day and by ``ratio_day``.

Only complete hours are read. The sum is memoised hour by hour; when the hour before is
not known it is rebuilt from zero `LOOKBACK_H` hours back: a run older than a week is
forgotten (only a large burst's sum lasts that long on a quiet scope, and the hours
after a burst are not reported).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from llmledger.anomalies.baseline import MIN_WEEKS, Expectation, expectation, scaled_samples
from llmledger.anomalies.counts import MIN_EXPECTED_CALLS
from llmledger.anomalies.series import DAY_H, ScopeSeries, Series

#: The multiple of the seasonal rate the sum is tuned to call fastest.
RISE = 2.5
LOOKBACK_H = 7 * DAY_H


@dataclass(frozen=True, slots=True)
class Run:
    """The hours since a scope's sum last stood at zero, up to and including hour `end`."""

    start: int
    end: int
    llr: float
    calls: int
    expected_calls: float

    @property
    def width(self) -> int:
        return self.end - self.start + 1


def hour_rate(calls: Series, h: int, weeks: int, first_hour: int) -> float | None:
    """The expected calls of complete hour h (None without a baseline). Memoised."""
    memo = calls.rate_memo
    if h in memo:
        return memo[h]
    _, samples = scaled_samples(calls, h, h, 1.0, weeks, first_hour)
    rate = (
        max(sum(samples) / len(samples), MIN_EXPECTED_CALLS) if len(samples) >= MIN_WEEKS else None
    )
    memo[h] = rate
    return rate


def hour_llr(
    calls: Series, h: int, weeks: int, first_hour: int, rise: float = RISE
) -> float | None:
    """What complete hour h adds to the sum tuned to `rise` (None without a baseline)."""
    rate = hour_rate(calls, h, weeks, first_hour)
    if rate is None:
        return None
    return calls.total(h, h + 1) * math.log(rise) - rate * (rise - 1.0)


def ongoing(calls: Series, run: Run, weeks: int, first_hour: int) -> bool:
    """Whether the later half of the run adds to its sum: the rise goes on. A sum raised
    by a burst takes days to drain on a quiet scope; the hours after it are no rise."""
    later = 0.0
    for h in range(run.end - run.width // 2, run.end + 1):
        later += hour_llr(calls, h, weeks, first_hour) or 0.0
    return later > 0


def run_at(calls: Series, t: int, weeks: int, first_hour: int, rise: float = RISE) -> Run | None:
    """The run of the sum tuned to `rise` ending at complete hour t (None when the sum
    stands at zero). Memoised."""
    memo = calls.cusum_memo
    if (rise, t) in memo:
        return memo[rise, t]
    h = t
    while (rise, h - 1) not in memo and h > t - LOOKBACK_H:
        h -= 1
    current = memo.get((rise, h - 1))
    for hour in range(h, t + 1):
        llr = hour_llr(calls, hour, weeks, first_hour, rise)
        if llr is None:
            current = None
        else:
            count = calls.total(hour, hour + 1)
            rate = hour_rate(calls, hour, weeks, first_hour) or 0.0
            if current is None:
                current = Run(hour, hour, llr, count, rate) if llr > 0 else None
            elif current.llr + llr > 0:
                current = Run(
                    current.start,
                    hour,
                    current.llr + llr,
                    current.calls + count,
                    current.expected_calls + rate,
                )
            else:
                current = None
        memo[rise, hour] = current
    return current


def detect(
    ss: ScopeSeries, t: int, z: float, ratio: float, floor: float, weeks: int
) -> tuple[Run, Expectation] | None:
    """A sustained rise at complete hour t: the run whose sum reaches z^2 / 2 and goes
    on, with the spend over it above its expectation by `floor` and by a factor
    1 + `ratio`."""
    run = run_at(ss.calls, t, weeks, ss.first_hour)
    if run is None or run.llr < z * z / 2 or not ongoing(ss.calls, run, weeks, ss.first_hour):
        return None
    spend = expectation(
        ss.cost, t, width=run.width, weeks=weeks, first_hour=ss.first_hour, gate=math.inf
    )
    if spend is None or spend.excess < max(floor, 1.0):
        return None
    if spend.observed * 100 < round((1 + ratio) * 100) * spend.expected:
        return None
    return run, spend
