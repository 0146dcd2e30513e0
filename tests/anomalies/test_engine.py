from __future__ import annotations

from llmledger.anomalies.engine import Policy, evaluate
from tests.anomalies.builders import AGENT, CPC, add, at, build


def test_a_muted_scope_records_nothing() -> None:
    t = at(9, 2, 15)
    frame = build(10, extra=lambda b: add(b, t, 200, 200 * CPC))
    assert evaluate(frame, t, Policy(), muted=lambda s: s == "project:Eng/search") == []
    assert evaluate(frame, t, Policy(), muted=lambda s: s == "department:Sales") != []


def test_sensitivity_per_scope() -> None:
    t = at(9, 2, 15)
    frame = build(10, extra=lambda b: add(b, t, 200, 200 * CPC))
    off = Policy("medium", {"department:Eng": "off"})
    assert evaluate(frame, t, off) == []
    assert off.sensitivity(AGENT) == "off"
    assert Policy("low", {AGENT: "high"}).sensitivity(AGENT) == "high"
    # a moderate burst: seen at high sensitivity, not at low
    frame = build(10, extra=lambda b: add(b, t, 60, 60 * CPC))
    assert evaluate(frame, t, Policy("high")) != []
    assert evaluate(frame, t, Policy("low")) == []
