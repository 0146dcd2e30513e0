from __future__ import annotations

from llmledger.anomalies import runaway
from llmledger.anomalies.engine import Policy, evaluate
from llmledger.anomalies.series import FrameBuilder
from tests.anomalies.builders import AGENT, CPC, START_US, add, at, build, medium

MEDIUM = medium()


def test_a_retry_storm_is_a_runaway_agent() -> None:
    t = at(9, 3, 16)
    frame = build(10, extra=lambda b: add(b, t, 800, 800 * CPC))
    flag = runaway.detect(frame.scopes[AGENT], t, MEDIUM)
    assert flag is not None and flag.detail["signal"] == "rate"
    flags = evaluate(frame, t, Policy())
    assert [(f.kind, f.scope) for f in flags] == [("runaway_agent", AGENT)]


def test_a_growing_context_is_a_runaway_on_cost_per_call() -> None:
    t = at(9, 3, 16)
    frame = build(10, extra=lambda b: add(b, t, 0, 40 * 8 * CPC))  # same calls, 9x the cost
    flag = runaway.detect(frame.scopes[AGENT], t, MEDIUM)
    assert flag is not None and flag.detail["signal"] == "cost_per_call"


def test_only_agents_run_away() -> None:
    t = at(9, 3, 16)
    frame = build(10, extra=lambda b: add(b, t, 800, 800 * CPC))
    for scope in ("org", "department:Eng", "project:Eng/search", "key:k-1"):
        assert runaway.detect(frame.scopes[scope], t, MEDIUM) is None


def test_a_busy_monday_morning_is_not_a_runaway() -> None:
    frame = build(10)
    for t in range(at(9, 0, 0), at(9, 1, 0)):
        assert runaway.detect(frame.scopes[AGENT], t, MEDIUM) is None


def test_a_loop_at_three_times_the_rate_is_seen_within_the_hour() -> None:
    t = at(9, 3, 16)
    b = FrameBuilder(START_US, t + 1)  # the frame ends in the hour in progress
    frame = build(10, builder=b, extra=lambda b: add(b, t, 90, 90 * CPC))
    flag = runaway.detect(frame.scopes[AGENT], t, MEDIUM, fraction=0.5)
    assert flag is not None and flag.detail["signal"] == "rate"


def test_calls_twice_as_dear_for_two_hours_are_a_runaway() -> None:
    t = at(9, 3, 16)

    def extra(b: FrameBuilder) -> None:
        for h in (t - 1, t):
            add(b, h, 0, 40 * CPC)  # the same calls at twice the cost

    frame = build(10, extra=extra)
    flag = runaway.detect(frame.scopes[AGENT], t, MEDIUM)
    assert flag is not None and flag.detail["signal"] == "cost_per_call"


def test_calls_moved_to_a_dearer_model_are_not_a_runaway() -> None:
    t = at(9, 3, 16)

    def extra(b: FrameBuilder) -> None:
        # most of the hour's calls go to a model at 4x the price: a model move
        add(b, t, 30, 30 * 4 * CPC, model="openai/gpt-4o")

    frame = build(10, extra=extra)
    assert runaway.detect(frame.scopes[AGENT], t, MEDIUM) is None


def test_a_brand_new_agent_has_no_runaway() -> None:
    t = at(9, 3, 16)
    frame = build(10, first_hour=at(9, 0, 0), extra=lambda b: add(b, t, 800, 800 * CPC))
    assert runaway.detect(frame.scopes[AGENT], t, MEDIUM) is None
