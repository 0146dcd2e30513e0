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


def _creeping(b: FrameBuilder) -> None:
    # from Monday of week 5, two calls of each busy hour go to a model never used before
    for day in range(5):
        for hour in range(13, 22):
            add(b, at(5, day, hour), 2, 2 * CPC, model="anthropic/claude-opus-4-1")


def test_a_new_model_creeping_in_is_flagged_once_its_spend_adds_up() -> None:
    frame = build(6, extra=_creeping)
    ss = frame.scopes[AGENT]
    # a day of it (18 calls' worth) is under the record floor (12% of a ~350-call day)
    assert models.detect(ss, at(5, 0, 21), MEDIUM) == []
    flags = models.detect(ss, at(5, 2, 20), MEDIUM)
    assert [f.subject for f in flags] == ["anthropic/claude-opus-4-1"]
    assert flags[0].started == at(5, 0, 13)
    assert flags[0].detail["spend_since_first_call_nanos"] == 3 * 18 * CPC - 2 * CPC


def test_a_model_back_after_five_weeks_is_new_again_and_within_four_is_not() -> None:
    back = at(5, 2, 15)

    def extra(b: FrameBuilder, weeks_before: int) -> None:
        add(b, back - weeks_before * 168, 1, CPC, model="openai/o3")
        for t in range(back, back + 3):
            add(b, t, 20, 20 * CPC, model="openai/o3")

    after_five = build(6, extra=lambda b: extra(b, 5))
    after_three = build(6, extra=lambda b: extra(b, 3))
    flags = models.detect(after_five.scopes[AGENT], back + 2, MEDIUM)
    assert [f.subject for f in flags] == ["openai/o3"] and flags[0].started == back
    assert models.detect(after_three.scopes[AGENT], back + 2, MEDIUM) == []


def test_a_project_whose_pricier_agent_dominates_at_weekends_is_no_move() -> None:
    # an office agent on gpt-4o-mini and a batch agent on sonnet at 10x, busy every day:
    # at weekends the project's cost per call nearly doubles, every weekend
    batch = ("Eng", "search", "batch", "k-2")

    def extra(b: FrameBuilder) -> None:
        for t in range(b.hours):
            add(b, t, 6, 6 * 10 * CPC, dims=batch, model="anthropic/claude-sonnet-4-5")

    project = build(6, extra=extra).scopes["project:Eng/search"]
    saturday_night, sunday_night = at(5, 5, 23), at(5, 6, 23)
    for t in (saturday_night, sunday_night):
        assert models.detect(project, t, MEDIUM) == []

    # the same project sending most of a Wednesday's calls to sonnet is a move
    def moved(b: FrameBuilder) -> None:
        extra(b)
        for t in range(at(5, 2, 0), at(5, 3, 0)):
            add(b, t, 30, 30 * 10 * CPC, dims=batch, model="anthropic/claude-sonnet-4-5")

    wednesday = build(6, extra=moved).scopes["project:Eng/search"]
    assert any(
        f.subject.startswith("move:") for f in models.detect(wednesday, at(5, 2, 23), MEDIUM)
    )
