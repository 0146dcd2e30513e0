from __future__ import annotations

import math

from llmledger.anomalies import counts
from llmledger.anomalies.baseline import scaled_samples
from llmledger.anomalies.series import Series
from tests.anomalies.builders import AGENT, at, few_calls


def test_the_deviance_reads_a_small_count_by_its_own_tail() -> None:
    # 8 calls where 1 is expected: (8 - 1) / sqrt(1) would call it a 7-sigma event
    assert 3.5 < counts.deviance_z(8, 1) < 4.5
    # many calls: the usual z-score
    assert abs(counts.deviance_z(1100, 1000) - 100 / math.sqrt(1000)) < 0.1
    assert counts.deviance_z(9, 10) == 0.0


def test_a_day_to_day_swing_makes_a_busy_day_on_many_calls_an_ordinary_one() -> None:
    # 1.4x on 10,000 calls: 40 sigmas of a Poisson count, under 4 with days that swing
    # by 10% (a gamma of shape 100)
    assert counts.deviance_z(14_000, 10_000) > 30
    assert counts.deviance_z(14_000, 10_000, shape=100) < 4


def test_the_evidence_of_a_window_scales_for_the_size_of_calls() -> None:
    samples = (10, 10, 10, 10, 10, 10, 10, 10)
    by_count = counts.evidence(25, 10, samples, 1.0, 1.0, 0.05, 3)
    # the same window in nano-USD, calls of 1000 each of a relative spread of 1
    by_cost = counts.evidence(25_000, 10_000, samples, 1000.0, 2.0, 0.05, 3)
    assert by_count > 3.5
    assert by_cost < by_count / 1.3


def test_a_quiet_hour_that_usually_sees_none_is_read_against_a_call() -> None:
    z = counts.evidence(3, 0, (0, 0, 0, 0, 0, 0, 0, 0), 1.0, 1.0, 0.05, 1)
    assert z < 2.5


def test_the_swing_of_a_scopes_days_is_measured() -> None:
    t = at(11, 2, 15)
    swinging = few_calls(12, peak=200, swing=0.15).scopes[AGENT]
    steady = few_calls(12, peak=200, swing=0.0).scopes[AGENT]
    per_day = swinging.calls.level(t - t % 24)
    measured = counts.day_swing(swinging.calls, t, per_day, 1.0, 8, 0)
    assert measured is not None and 0.08 < measured < 0.25
    quiet = counts.day_swing(steady.calls, t, steady.calls.level(t - t % 24), 1.0, 8, 0)
    assert quiet is not None and quiet < measured / 2
    young = few_calls(5, peak=200).scopes[AGENT]
    assert counts.day_swing(young.calls, at(4, 2, 15), per_day, 1.0, 8, 0) is None


def test_scaled_samples_of_small_counts_are_rounded_not_floored() -> None:
    # two calls at this hour of the week for nine weeks, the scope a little quieter now
    hours = 10 * 168
    values = [2 if h % 168 == 100 else 1 for h in range(hours)]
    for h in range(hours - 168, hours):
        if h % 168 != 100 and h % 12 == 0:
            values[h] = 0
    s = Series(values)
    t = 9 * 168 + 100
    level_now, samples = scaled_samples(s, t, t, 1.0, 8, 0)
    assert 0.9 < level_now / s.level(t - 168) < 1.0  # floored, 2 x 0.95 would be 1
    assert samples and all(v == 2 for v in samples)
