from __future__ import annotations

from llmledger.anomalies import spikes
from llmledger.anomalies.baseline import Expectation
from llmledger.anomalies.engine import Policy, evaluate
from llmledger.anomalies.series import WEEK_H, FrameBuilder
from tests.anomalies.builders import AGENT, CPC, START_US, add, at, build, medium

MEDIUM = medium()


def test_a_quiet_weekend_then_a_normal_monday_is_not_an_anomaly() -> None:
    frame = build(10, growth_per_week=0.02)
    for t in range(at(9, 0, 0), frame.hours):  # the whole last week, Monday first
        assert evaluate(frame, t, Policy()) == [], t


def test_an_hour_five_times_its_baseline_is_a_spike() -> None:
    t = at(9, 2, 15)  # a Wednesday afternoon
    frame = build(10, extra=lambda b: add(b, t, 160, 160 * CPC))
    ss = frame.scopes[AGENT]
    flag = spikes.detect(ss, t, MEDIUM)
    assert flag is not None
    assert flag.kind == "spend_spike" and flag.started == t
    (point,) = flag.points
    assert point.observed > 4 * point.expected
    assert flag.detail["window"] == "1h"


def test_a_spike_is_seen_within_the_hour() -> None:
    t = at(9, 2, 15)
    b = FrameBuilder(START_US, t + 1)  # the frame ends in the hour in progress
    frame = build(10, builder=b, extra=lambda b: add(b, t, 120, 120 * CPC))
    # 15 minutes in: the baseline is prorated, the burst is already far above it
    assert spikes.detect(frame.scopes[AGENT], t, MEDIUM, fraction=0.25) is not None


def test_a_day_long_rise_is_a_spike_over_24_hours() -> None:
    first = at(9, 2, 0)

    def extra(b: FrameBuilder) -> None:
        for t in range(first, first + 24):
            add(b, t, 12, 12 * CPC)  # +~75% every hour: no single hour stands out

    frame = build(10, extra=extra)
    flag = spikes.detect(frame.scopes[AGENT], first + 23, MEDIUM)
    assert flag is not None and flag.detail["window"] == "24h"
    assert flag.started <= first + 14


def test_a_brand_new_scope_has_no_baseline_and_no_spike() -> None:
    t = at(9, 2, 15)
    frame = build(10, first_hour=at(9, 0, 0), extra=lambda b: add(b, t, 500, 500 * CPC))
    assert evaluate(frame, t, Policy()) == []


def test_a_small_blip_is_not_worth_a_record() -> None:
    t = at(9, 2, 3)  # a night hour: 4 calls usually
    frame = build(10, extra=lambda b: add(b, t, 4, 4 * CPC))
    assert spikes.detect(frame.scopes[AGENT], t, MEDIUM) is None


def test_the_spike_is_reported_at_the_agent_not_its_parents_or_key() -> None:
    t = at(9, 2, 15)
    frame = build(10, extra=lambda b: add(b, t, 200, 200 * CPC))
    flags = evaluate(frame, t, Policy())
    assert [f.scope for f in flags] == [AGENT]
    assert frame.hours == 10 * WEEK_H


def test_a_quiet_weekend_then_a_normal_monday_checked_every_quarter_hour() -> None:
    frame = build(10, growth_per_week=0.02)
    for t in range(at(9, 5, 0), at(9, 1, 12) + WEEK_H):
        for fraction in (0.25, 0.5, 0.75):
            assert evaluate(frame, t, Policy(), fraction=fraction, hourly_only=True) == [], t


def test_a_burst_across_the_hour_boundary_is_seen_early_in_the_next_hour() -> None:
    t = at(9, 2, 15)

    def extra(b: FrameBuilder) -> None:
        add(b, t - 1, 30, 30 * CPC)  # the last minutes of the hour before: +75%
        add(b, t, 40, 40 * CPC)  # and the first quarter of this one

    b = FrameBuilder(START_US, t + 1)
    frame = build(10, builder=b, extra=extra)
    flag = spikes.detect(frame.scopes[AGENT], t, MEDIUM, fraction=0.25, daily=False)
    assert flag is not None and flag.detail["window"] in ("1h", "2h")
    assert flag.started in (t - 1, t)


def test_a_rise_of_a_half_over_two_days_is_a_spike() -> None:
    first = at(9, 1, 0)

    def extra(b: FrameBuilder) -> None:
        for t in range(first, first + 48):
            calls = 20 if 13 <= t % 24 < 22 else 2  # +50% all day, no hour far out
            add(b, t, calls, calls * CPC)

    frame = build(10, extra=extra)
    ss = frame.scopes[AGENT]
    flags = [spikes.detect(ss, t, MEDIUM) for t in range(first, first + 48)]
    found = [f for f in flags if f is not None]
    assert found and found[0].detail["window"] in ("6h", "12h", "24h")
    assert found[0].started >= first - 1


def test_an_anomaly_last_week_does_not_hide_one_now() -> None:
    t = at(9, 2, 15)

    def extra(b: FrameBuilder) -> None:
        for h in range(at(8, 0, 0), at(8, 4, 0)):  # four days at 4x, a week ago
            add(b, h, 120 if 13 <= h % 24 < 22 else 12, 0)
        add(b, t, 160, 160 * CPC)

    frame = build(10, extra=extra)
    flag = spikes.detect(frame.scopes[AGENT], t, MEDIUM)
    assert flag is not None and flag.started == t
    (point,) = flag.points
    assert point.expected < 60 * CPC  # the baseline is the usual ~40 calls, not 4x that


def test_a_spike_where_the_baseline_expects_nothing_says_so() -> None:
    ss = build(6).scopes[AGENT]
    t = at(5, 2, 3)
    e = Expectation(
        observed=5 * CPC, expected=0, spread=float(CPC), level=300 * CPC, samples=(0,) * 8
    )
    flag = spikes._flag(ss, t, 1, e, 7.0, 1.0, 8)
    assert flag is not None
    assert flag.description == "spend over the hour where the seasonal baseline expects none"
    assert "inf" not in flag.description
