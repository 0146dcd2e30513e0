from __future__ import annotations

from llmledger.anomalies import models
from llmledger.anomalies.series import FrameBuilder
from tests.anomalies.builders import AGENT, CPC, add, at, build, medium

MEDIUM = medium()


def test_a_new_model_and_provider() -> None:
    first = at(5, 2, 15)

    def extra(b: FrameBuilder) -> None:
        for t in range(first, first + 3):
            add(b, t, 10, 10 * 5 * CPC, model="anthropic/claude-opus-4-1")

    frame = build(6, extra=extra)
    (flag,) = models.detect(frame.scopes[AGENT], first + 2, MEDIUM)
    assert flag.kind == "new_model" and flag.subject == "anthropic/claude-opus-4-1"
    assert flag.detail["new_provider"] is True and flag.started == first


def test_a_sudden_move_to_a_pricier_model_already_known() -> None:
    def extra(b: FrameBuilder) -> None:
        # o3 was tried once a week ago; today most calls go to it at 8x the price
        add(b, at(4, 2, 15), 1, 8 * CPC, model="openai/o3")
        for t in range(at(5, 2, 0), at(5, 3, 0)):
            add(b, t, 15, 15 * 8 * CPC, model="openai/o3")

    frame = build(6, extra=extra)
    flags = models.detect(frame.scopes[AGENT], at(5, 2, 23), MEDIUM)
    assert [f.subject for f in flags] == ["move:openai/o3"]
    assert sum(p.observed - p.expected for p in flags[0].points) > 0


def test_the_usual_models_are_not_new() -> None:
    frame = build(6)
    for t in range(at(5, 0, 0), at(5, 1, 0)):
        assert models.detect(frame.scopes[AGENT], t, MEDIUM) == []


def test_a_brand_new_scope_uses_models_for_the_first_time_without_an_anomaly() -> None:
    frame = build(6, first_hour=at(5, 1, 0))
    assert models.detect(frame.scopes[AGENT], at(5, 1, 16), MEDIUM) == []
