from __future__ import annotations

from collections.abc import Callable

from llmledger.anomalies import spikes, sustained
from llmledger.anomalies.engine import Policy, evaluate
from llmledger.anomalies.flags import Flag
from llmledger.anomalies.series import DAY_H, Frame
from tests.anomalies.builders import AGENT, at, few_calls, medium

MEDIUM = medium()
START = at(11, 2, 14)  # a Wednesday, 14:00 UTC, in the twelfth week


def rise(multiple: float, hours: int, start: int = START) -> Callable[[int], float]:
    return lambda t: multiple if start <= t < start + hours else 1.0


def first_flag(frame: Frame, start: int, hours: int) -> tuple[int, Flag] | None:
    for t in range(start, start + hours):
        flags = evaluate(frame, t, Policy())
        if flags:
            return t, flags[0]
    return None


def test_a_rise_on_a_scope_of_few_calls_adds_up_until_it_is_called() -> None:
    # about 8 calls an hour in the afternoon: a rise to 2.5x is no clear hour on its own
    frame = few_calls(12, peak=8, rise=rise(2.5, 24))
    ss = frame.scopes[AGENT]
    found = first_flag(frame, START, 24)
    assert found is not None
    t, flag = found
    assert t <= START + 6
    assert flag.kind == "spend_spike" and flag.scope == AGENT
    assert flag.started >= START - 1
    run = sustained.run_at(ss.calls, t, 8, ss.first_hour)
    assert run is not None and run.start >= START - 2
    assert run.calls > 1.8 * run.expected_calls


def test_the_sustained_flag_says_what_rose() -> None:
    frame = few_calls(12, peak=8, rise=rise(2.5, 24))
    ss = frame.scopes[AGENT]
    for t in range(START, START + 24):
        found = sustained.detect(ss, t, MEDIUM.z, MEDIUM.ratio_day, 0.0, 8)
        if found is not None:
            flag = spikes.sustained_flag(ss, t, *found, 8)
            assert flag is not None
            assert str(flag.detail["window"]).startswith("sustained ")
            assert "their seasonal rate" in flag.description
            assert flag.detail["calls"] == found[0].calls
            return
    raise AssertionError("the sustained rise was not found")


def test_a_sustained_rise_of_a_half_over_a_day_is_found_on_a_small_scope() -> None:
    # some 300 calls a day (30 an hour in the afternoon): +50% for a day, no hour far out
    frame = few_calls(12, peak=30, rise=rise(1.5, 24))
    found = first_flag(frame, START, 24 + 6)
    assert found is not None
    assert found[1].started >= START - 1


def test_a_quiet_weekend_then_a_normal_monday_is_not_a_rise() -> None:
    for peak in (4, 30):
        frame = few_calls(12, peak=peak)
        ss = frame.scopes[AGENT]
        for t in range(at(11, 5, 0), at(11, 1, 0) + 7 * DAY_H):  # Saturday to Tuesday
            assert evaluate(frame, t, Policy()) == [], (peak, t)
            run = sustained.run_at(ss.calls, t, 8, ss.first_hour)
            assert run is None or run.llr < MEDIUM.z**2 / 2, (peak, t)


def test_a_busy_day_on_many_calls_drives_the_sum_down() -> None:
    busy = START // DAY_H
    frame = few_calls(12, peak=300, swing=0.05, rise=lambda t: 1.4 if t // DAY_H == busy else 1)
    ss = frame.scopes[AGENT]
    for t in range(busy * DAY_H, (busy + 1) * DAY_H):
        assert evaluate(frame, t, Policy()) == [], t
        run = sustained.run_at(ss.calls, t, 8, ss.first_hour)
        assert run is None or run.width <= 2, t


def test_a_muted_scope_is_not_alerted_for_a_sustained_rise() -> None:
    frame = few_calls(12, peak=8, rise=rise(2.5, 24))
    found = first_flag(frame, START, 24)
    assert found is not None
    t = found[0]
    assert evaluate(frame, t, Policy(), muted=lambda s: s == AGENT) == []
    assert evaluate(frame, t, Policy(), muted=lambda s: s == "department:Eng") == []
    assert evaluate(frame, t, Policy(), muted=lambda s: s == "department:Sales") != []


def test_the_hours_after_a_burst_are_not_a_sustained_rise() -> None:
    # a loop of one hour at 20x: the sum it raises drains for days, the rise is over
    frame = few_calls(12, peak=4, rise=rise(20.0, 1))
    ss = frame.scopes[AGENT]
    burst = sustained.run_at(ss.calls, START, 8, ss.first_hour)
    assert burst is not None and burst.llr > MEDIUM.z**2 / 2
    later = sustained.run_at(ss.calls, START + DAY_H, 8, ss.first_hour)
    assert later is not None and later.llr > MEDIUM.z**2 / 2  # still draining a day on
    for t in range(START + 2, START + 3 * DAY_H):
        assert sustained.detect(ss, t, MEDIUM.z, MEDIUM.ratio_day, 0.0, 8) is None, t
