from __future__ import annotations

from llmledger.anomalies import memos
from llmledger.anomalies.engine import Policy, evaluate
from llmledger.anomalies.flags import Flag
from llmledger.anomalies.series import Frame, FrameBuilder
from tests.anomalies.builders import AGENT, CPC, START_US, add, at, build

SPIKE = at(9, 2, 15)  # a Wednesday afternoon, week 9
POLICY = Policy("medium")


def _frame(hours: int, start_us: int = START_US) -> Frame:
    """The office agent up to `hours`, a fivefold rise from SPIKE on."""

    def extra(b: FrameBuilder) -> None:
        for t in range(SPIKE, min(SPIKE + 4, b.hours)):
            add(b, t, 160, 160 * CPC)

    return build(10, extra=extra, builder=FrameBuilder(start_us, hours))


def _seen(frame: Frame, hours: range) -> list[Flag]:
    return [f for t in hours for f in evaluate(frame, t, POLICY)]


def test_a_later_frame_takes_over_the_memos_and_finds_the_same() -> None:
    earlier = _frame(SPIKE)
    assert _seen(earlier, range(SPIKE - 3, SPIKE)) == []  # warms its memos
    later = _frame(SPIKE + 3)
    assert memos.carry(earlier, later) == len(later.scopes)
    assert later.scopes[AGENT].cost.memo is earlier.scopes[AGENT].cost.memo
    warm = _seen(later, range(SPIKE, SPIKE + 3))
    cold = _seen(_frame(SPIKE + 3), range(SPIKE, SPIKE + 3))
    assert warm == cold and any(f.scope == AGENT for f in warm)


def test_a_frame_starting_at_another_hour_takes_over_nothing() -> None:
    earlier = _frame(SPIKE)
    _seen(earlier, range(SPIKE - 2, SPIKE))
    moved = _frame(SPIKE + 3, START_US + 3_600_000_000)
    assert memos.carry(earlier, moved) == 0
    assert memos.carry(None, moved) == 0
    assert moved.scopes[AGENT].cost.memo == {}
