"""Runaway agents: within the hour, an agent's request rate or its cost per request far
above its norm (a loop, a retry storm, a context that grows with every turn).

The request rate is read against the calls' own seasonal baseline; the cost per request
against the larger of the agent's median daily cost per call over two weeks and the
seasonal cost per call of this hour. Either way the hour's spend must also be above its
baseline by a share of the agent's daily spend worth recording: a storm of failing
calls that cost nothing is an operations problem, not a cost anomaly.
"""

from __future__ import annotations

from llmledger.anomalies import spikes
from llmledger.anomalies.baseline import expectation, median
from llmledger.anomalies.flags import Flag, Point, Thresholds
from llmledger.anomalies.series import DAY_H, ScopeSeries

MIN_CALLS = 3


def daily_cost_per_call(ss: ScopeSeries, t: int, days: int = 14) -> float:
    values = []
    for j in range(days):
        a, b = t - DAY_H * (j + 1), t - DAY_H * j
        calls = ss.calls.total(a, b)
        if calls:
            values.append(ss.cost.total(a, b) / calls)
    return median(values)


def detect(
    ss: ScopeSeries, t: int, th: Thresholds, fraction: float = 1.0, weeks: int = 8
) -> Flag | None:
    if ss.kind != "agent" or ss.cost.hour(t, fraction) < th.min_share * ss.cost.level(t):
        return None
    cost = spikes.hourly(ss, t, fraction, weeks)
    if cost is None or cost.excess <= 0 or cost.excess < th.min_share * cost.level:
        return None
    calls = expectation(
        ss.calls,
        t,
        width=1,
        fraction=fraction,
        weeks=weeks,
        rel_floor=0.25,
        unit=1.0,
        first_hour=ss.first_hour,
    )
    if calls is None or calls.observed < MIN_CALLS:
        return None
    rate = calls.observed / max(calls.expected, 1)
    rate_hit = rate >= th.runaway_calls and calls.score() >= th.z
    seasonal = cost.expected / calls.expected if calls.expected > 0 else 0.0
    norm = max(daily_cost_per_call(ss, t), seasonal)
    cpc = cost.observed / calls.observed
    cpc_hit = norm > 0 and cpc >= th.runaway_cpc * norm and cost.score() >= th.z
    if not (rate_hit or cpc_hit):
        return None
    if rate_hit:
        desc = f"{calls.observed} calls in the hour, {rate:.1f}x the usual rate"
    else:
        desc = f"cost per call at {cpc / norm:.1f}x its norm"
    return Flag(
        kind="runaway_agent",
        scope=ss.scope,
        subject="",
        t=t,
        started=t,
        points=(Point(t, cost.observed, cost.expected),),
        score=max(calls.score(), cost.score()),
        description=desc,
        department=ss.department,
        detail={
            "calls": calls.observed,
            "expected_calls": calls.expected,
            "cost_per_call_nanos": round(cpc),
            "usual_cost_per_call_nanos": round(norm),
            "signal": "rate" if rate_hit else "cost_per_call",
        },
    )
