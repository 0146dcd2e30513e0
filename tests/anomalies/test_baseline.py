from __future__ import annotations

from llmledger.anomalies.baseline import expectation, mad, median, median_int, noise
from llmledger.anomalies.series import Series
from tests.anomalies.builders import AGENT, at, build


def test_robust_statistics() -> None:
    assert median_int([5, 1, 3]) == 3
    assert median_int([1, 2, 3, 10]) == 2
    assert median([1.0, 2.0, 3.0, 100.0]) == 2.5
    assert mad([1.0, 2.0, 3.0, 100.0], 2.5) == 1.4826 * 1.0


def test_series_windows_and_partial_hours() -> None:
    s = Series([1, 2, 3, 4])
    assert s.total(1, 3) == 5
    assert s.total(-5, 99) == 10
    assert s.window(1, 3) == 9
    assert s.hour(3, 0.5) == 4  # the last hour is in progress: read as recorded
    assert s.hour(1, 0.5) == 1  # an earlier hour is prorated to compare like with like
    q = Series([4, 8], quarters=[1, 1, 1, 1, 2, 2, 2, 2])
    assert q.hour(1, 0.5) == 4


def test_baseline_follows_the_weekday_and_the_hour() -> None:
    frame = build(9)
    ss = frame.scopes[AGENT]
    busy = expectation(ss.cost, at(8, 1, 15), first_hour=ss.first_hour)
    night = expectation(ss.cost, at(8, 1, 3), first_hour=ss.first_hour)
    sunday = expectation(ss.cost, at(8, 6, 15), first_hour=ss.first_hour)
    assert busy is not None and night is not None and sunday is not None
    assert busy.expected > 5 * night.expected
    assert busy.expected > 3 * sunday.expected
    assert abs(busy.observed - busy.expected) < 4 * busy.spread


def test_baseline_scales_the_past_by_growth() -> None:
    frame = build(9, growth_per_week=0.05)
    ss = frame.scopes[AGENT]
    e = expectation(ss.cost, at(8, 2, 16), width=24, first_hour=ss.first_hour)
    assert e is not None
    # without the growth term the median of 8 past weeks would sit ~20% low
    assert abs(e.observed - e.expected) < 0.08 * e.observed


def test_no_baseline_without_history() -> None:
    frame = build(2)
    ss = frame.scopes[AGENT]
    assert expectation(ss.cost, at(1, 2, 15), first_hour=ss.first_hour) is None


def test_noise_is_measured_from_the_baselines_own_past_errors() -> None:
    frame = build(10)
    ss = frame.scopes[AGENT]
    measured = noise(ss.cost, at(9, 2, 15), 1, 8, ss.first_hour)
    assert measured is not None and 0.03 < measured < 0.3  # the built hours swing by ~10%
    assert noise(ss.cost, at(4, 2, 15), 1, 8, ss.first_hour) is None  # too young to know


def test_the_level_ignores_a_few_unusual_days() -> None:
    days = [100] * 24 * 14
    s = Series(days)
    burst = Series(days[: 24 * 10] + [400] * 24 * 4)
    assert s.level(24 * 14) == burst.level(24 * 14) == 2400
