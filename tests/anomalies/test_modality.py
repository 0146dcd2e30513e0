from __future__ import annotations

from llmledger.anomalies import modality
from llmledger.anomalies.series import FrameBuilder
from tests.anomalies.builders import AGENT, CPC, add, at, build, medium

MEDIUM = medium()


def test_steady_usage_types_are_no_shift() -> None:
    frame = build(6)
    for t in range(at(5, 0, 0), at(5, 2, 0)):
        assert modality.detect(frame.scopes[AGENT], t, MEDIUM) == []


def test_new_spend_on_images_is_a_modality_shift() -> None:
    first = at(5, 1, 14)

    def extra(b: FrameBuilder) -> None:
        for t in range(first, first + 4):
            add(b, t, 5, 30 * CPC, usage="images")

    frame = build(6, extra=extra)
    (flag,) = modality.detect(frame.scopes[AGENT], first + 3, MEDIUM)
    assert flag.kind == "modality_shift" and flag.usage_type == "images"
    assert flag.started == first and flag.detail["new"] is True
    assert all(p.expected == 0 for p in flag.points)
    assert sum(p.observed for p in flag.points) == 4 * 30 * CPC


def test_a_usage_type_taking_a_much_larger_share_is_a_shift() -> None:
    first = at(5, 1, 0)

    def extra(b: FrameBuilder) -> None:
        for t in range(first, first + 24):
            add(b, t, 0, 30 * CPC, usage="output_tokens")  # output: 60% -> ~90% of spend

    frame = build(6, extra=extra)
    flags = modality.detect(frame.scopes[AGENT], first + 23, MEDIUM)
    assert [f.subject for f in flags] == ["output_tokens"]
    assert flags[0].detail["new"] is False


def test_a_new_scope_has_no_modality_history() -> None:
    t = at(5, 1, 14)
    frame = build(
        6, first_hour=at(5, 0, 0), extra=lambda b: add(b, t, 5, 300 * CPC, usage="video_seconds")
    )
    assert modality.detect(frame.scopes[AGENT], t, MEDIUM) == []


def test_audio_creeping_in_is_flagged_once_its_spend_since_its_first_use_adds_up() -> None:
    # from Monday of week 5, a little audio in each busy hour: 18 calls' worth a day,
    # under the record floor (12% of a ~350-call day) on any one day
    def extra(b: FrameBuilder) -> None:
        for day in range(5):
            for hour in range(13, 22):
                add(b, at(5, day, hour), 0, 2 * CPC, usage="audio_seconds")

    ss = build(6, extra=extra).scopes[AGENT]
    assert modality.detect(ss, at(5, 0, 21), MEDIUM) == []
    (flag,) = modality.detect(ss, at(5, 2, 20), MEDIUM)
    assert flag.usage_type == "audio_seconds" and flag.detail["new"] is True
    assert flag.started == at(5, 0, 13)
    assert sum(p.observed for p in flag.points) == 3 * 18 * CPC - 2 * CPC


def test_a_new_usage_type_tried_once_and_dropped_is_not_flagged_days_later() -> None:
    tried = at(5, 0, 14)

    def extra(b: FrameBuilder) -> None:
        for t in range(tried, tried + 3):
            add(b, t, 5, 30 * CPC, usage="video_seconds")

    ss = build(6, extra=extra).scopes[AGENT]
    assert [f.subject for f in modality.detect(ss, tried + 5, MEDIUM)] == ["video_seconds"]
    assert [f.subject for f in modality.detect(ss, tried + 23, MEDIUM)] == ["video_seconds"]
    for t in range(tried + 3 + 24, at(5, 4, 0)):
        assert modality.detect(ss, t, MEDIUM) == []
