from __future__ import annotations

from llmledger.anomalies import runaway
from llmledger.anomalies.engine import Policy, evaluate
from tests.anomalies.builders import AGENT, CPC, add, at, build, medium

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
