"""Runaway agents: within the hour, an agent's request rate or its cost per request far
above its norm (a loop, a retry storm, a context that grows with every turn).

The hour in progress (and the hour before with it) is read as far as it has gone. The
request rate is read against the calls' own seasonal baseline and the agent's measured
noise; the cost per request against the larger of the agent's median daily cost per
call over two weeks and the seasonal cost per call of this hour, with the spread of a
sum of that many calls (the agent's measured spread of one call's cost). A cost per
call that rose because the calls moved to another model is a model move (see
`models`), not a runaway. Either way the spend must also be above its baseline by a
share of the agent's daily spend worth recording: a storm of failing calls that cost
nothing is an operations problem, not a cost anomaly.
"""

from __future__ import annotations

import math

from llmledger.anomalies import spikes
from llmledger.anomalies.baseline import Expectation, expectation, median
from llmledger.anomalies.counts import call_size_spread
from llmledger.anomalies.flags import Flag, Point, Thresholds
from llmledger.anomalies.series import DAY_H, ScopeSeries

MIN_CALLS = 3
#: Windows (hours ending now) in which a loop is looked for.
WINDOWS = (1, 2)
#: Relative day-to-day wander of the cost per call that more calls do not average out.
CPC_DRIFT = 0.1
#: A model whose share of the calls grew this much explains a dearer call.
MOVE_SHARE = 0.2


def daily_cost_per_call(ss: ScopeSeries, t: int, days: int = 14) -> float:
    values = []
    for j in range(days):
        a, b = t - DAY_H * (j + 1), t - DAY_H * j
        calls = ss.calls.total(a, b)
        if calls:
            values.append(ss.cost.total(a, b) / calls)
    return median(values)


def _model_moved(ss: ScopeSeries, t: int, width: int, fraction: float, calls: int) -> bool:
    """Whether a model's share of the calls in the window is far above its last week's."""
    a = t - width + 1
    week = ss.calls.total(a - 7 * DAY_H, a)
    for series in ss.model_calls.values():
        share_then = series.total(a - 7 * DAY_H, a) / week if week else 0.0
        if series.window(a, t, fraction) / calls - share_then >= MOVE_SHARE:
            return True
    return False


def detect(
    ss: ScopeSeries, t: int, th: Thresholds, fraction: float = 1.0, weeks: int = 8
) -> Flag | None:
    if ss.kind != "agent":
        return None
    floor = th.min_share * ss.cost.level(t)
    for width in WINDOWS:
        if ss.cost.window(t - width + 1, t, fraction) < floor:
            continue
        cost = spikes.window(ss, t, width, fraction, weeks, gate=1.0)
        if cost is None:
            return None
        if cost.excess <= 0 or cost.excess < floor:
            continue
        flag = _detect_window(ss, t, th, width, cost, fraction, weeks)
        if flag is not None:
            return flag
    return None


def _detect_window(
    ss: ScopeSeries,
    t: int,
    th: Thresholds,
    width: int,
    cost: Expectation,
    fraction: float,
    weeks: int,
) -> Flag | None:
    calls = expectation(
        ss.calls,
        t,
        width=width,
        fraction=fraction,
        weeks=weeks,
        rel_floor=0.25,
        unit=1.0,
        first_hour=ss.first_hour,
        gate=th.runaway_calls,
    )
    if calls is None or calls.observed < MIN_CALLS:
        return None
    rate = calls.observed / max(calls.expected, 1)
    rate_hit = rate >= th.runaway_calls and calls.score() >= th.z
    seasonal = cost.expected / calls.expected if calls.expected > 0 else 0.0
    norm = max(daily_cost_per_call(ss, t), seasonal)
    cpc = cost.observed / calls.observed
    cpc_hit = False
    if not rate_hit and norm > 0 and cpc >= th.runaway_cpc * norm:
        n = calls.observed
        kappa = call_size_spread(ss, t)
        spread = norm * math.sqrt(kappa * kappa * n + (CPC_DRIFT * n) ** 2)
        cpc_hit = (cost.observed - n * norm) / spread >= th.z and not _model_moved(
            ss, t, width, fraction, n
        )
    if not (rate_hit or cpc_hit):
        return None
    points = [Point(t, cost.observed, cost.expected)]
    if width > 1:
        points = spikes.window_points(ss, t, width, fraction, weeks) or points
    if rate_hit:
        desc = f"{calls.observed} calls in {width} hour(s), {rate:.1f}x the usual rate"
        if width == 1:
            desc = f"{calls.observed} calls in the hour, {rate:.1f}x the usual rate"
    else:
        desc = f"cost per call at {cpc / norm:.1f}x its norm"
    return spikes.scope_flag(
        ss,
        t,
        points,
        max(calls.score(), cost.score()),
        desc,
        {
            "calls": calls.observed,
            "expected_calls": calls.expected,
            "cost_per_call_nanos": round(cpc),
            "usual_cost_per_call_nanos": round(norm),
            "signal": "rate" if rate_hit else "cost_per_call",
            "window": f"{width}h",
        },
        kind="runaway_agent",
    )
