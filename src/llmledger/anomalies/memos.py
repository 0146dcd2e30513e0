"""Figures of complete hours carried from one detector run to the next.

The detectors memoise what complete hours give (daily levels, the baseline's past errors
and expectations, the day-to-day swing, the sustained sum...): those hours never change,
so within one frame each is worked out once. The runner loads a new frame every few
minutes; when it starts at the same hour as the one before (the runner starts frames
at midnight UTC, so all day long), the new frame's series take over the old ones'
memos, and a run reads only what the hour in progress adds. The first run of a day
works everything out afresh, and so picks up late data for past hours (an import of
old records).
"""

from __future__ import annotations

from collections.abc import Iterator

from llmledger.anomalies.series import Frame, ScopeSeries, Series

MEMOS = (
    "_levels",
    "memo",
    "noise_memo",
    "expected_memo",
    "step_memo",
    "swing_memo",
    "rate_memo",
    "cusum_memo",
)


def carry(old: Frame | None, new: Frame) -> int:
    """Give `new` the memos of `old` when both start at the same hour; returns the number
    of scopes that took them over."""
    if old is None or old.start_us != new.start_us:
        return 0
    carried = 0
    for name, ss in new.scopes.items():
        before = old.scopes.get(name)
        if before is None or before.first_hour != ss.first_hour:
            continue  # a scope new to the frame, or one whose start moved: afresh
        for a, b in _pairs(before, ss):
            for attr in MEMOS:
                setattr(b, attr, getattr(a, attr))
        carried += 1
    return carried


def _pairs(old: ScopeSeries, new: ScopeSeries) -> Iterator[tuple[Series, Series]]:
    yield old.cost, new.cost
    yield old.calls, new.calls
    for kind_old, kind_new in (
        (old.usage, new.usage),
        (old.model_cost, new.model_cost),
        (old.model_calls, new.model_calls),
    ):
        for key, series in kind_new.items():
            if key in kind_old:
                yield kind_old[key], series
