"""New models and providers in a scope, and sudden moves to a more expensive model.

A model is new to a scope when it served none of the scope's calls in the four weeks
before its first call of the last week (see `novelty`) and its spend since that first
call is worth a record. A move to a pricier model is a rise of the scope's cost per
call over the last 24 hours far above its daily medians of the four weeks before (and
above the median of the same 24 hours in those weeks: a project whose pricier agent is
busiest at weekends costs more per call every weekend), together with a model whose
share of the calls grew: the expected spend is what the same calls would have cost at
the usual cost per call.
"""

from __future__ import annotations

from llmledger.anomalies.baseline import level, mad, median_int
from llmledger.anomalies.flags import Flag, Point, Thresholds
from llmledger.anomalies.novelty import HISTORY_DAYS, MIN_ACTIVE_DAYS, new_since
from llmledger.anomalies.series import DAY_H, WEEK_H, ScopeSeries

MIN_MOVE_CALLS = 10
#: Rise of a model's share of the calls that makes a cost-per-call rise a "move".
MOVE_SHARE = 0.2


def _new_models(ss: ScopeSeries, t: int, floor: float, fraction: float) -> list[Flag]:
    out = []
    for model, cost in ss.model_cost.items():
        first = new_since(ss, ss.model_calls[model], t, fraction)
        if first is None:
            continue
        hist_a = first - HISTORY_DAYS * DAY_H
        now = cost.window(first, t, fraction)
        if now <= 0 or now < floor:
            continue
        known_providers = {
            m.split("/", 1)[0] for m, c in ss.model_calls.items() if c.total(hist_a, first) > 0
        }
        points = []
        for h in range(first, t + 1):
            v = cost.hour(h, fraction if h == t else 1.0)
            if v > 0:
                points.append(Point(h, v, 0))
        provider = model.split("/", 1)[0]
        new_provider = provider not in known_providers
        what = "provider and model" if new_provider else "model"
        out.append(
            Flag(
                kind="new_model",
                scope=ss.scope,
                subject=model,
                t=t,
                started=points[0].t,
                points=tuple(points),
                score=now / floor if floor else 0.0,
                description=f"new {what} {model} (unused in the previous {HISTORY_DAYS} days)",
                department=ss.department,
                detail={
                    "model": model,
                    "provider": provider,
                    "new_provider": new_provider,
                    "spend_since_first_call_nanos": now,
                },
            )
        )
    return out


def same_day_cpc(ss: ScopeSeries, a: int, t: int, fraction: float) -> int:
    """The median cost per call of hours a..t in each of the four weeks before."""
    values = []
    for j in range(1, HISTORY_DAYS // 7 + 1):
        calls = ss.calls.window(a - j * WEEK_H, t - j * WEEK_H, fraction)
        if calls:
            values.append(ss.cost.window(a - j * WEEK_H, t - j * WEEK_H, fraction) // calls)
    return median_int(values) if values else 0


def _move(
    ss: ScopeSeries, t: int, th: Thresholds, a: int, hist_a: int, floor: float, fraction: float
) -> Flag | None:
    calls_now = ss.calls.window(a, t, fraction)
    cost_now = ss.cost.window(a, t, fraction)
    calls_hist = ss.calls.total(hist_a, a)
    if calls_now < MIN_MOVE_CALLS or not calls_hist:
        return None
    usual_all = ss.cost.total(hist_a, a) // calls_hist
    if cost_now < (1 + th.cpc_move) * usual_all * calls_now:
        return None  # cheap test first
    daily = []
    for j in range(HISTORY_DAYS):
        d0, d1 = a - DAY_H * (j + 1), a - DAY_H * j
        c = ss.calls.total(d0, d1)
        if c:
            daily.append(ss.cost.total(d0, d1) // c)
    median = median_int(daily)
    spread = mad([float(x) for x in daily], float(median))
    # a scope whose mix of calls differs by weekday (its pricier agent busy at weekends)
    # is read against the same day of the week as well
    usual = max(median, same_day_cpc(ss, a, t, fraction))
    cpc_now = cost_now // calls_now
    expected = calls_now * usual
    if (
        cpc_now < (1 + th.cpc_move) * usual
        or cpc_now - usual < th.z / 2 * spread
        or cost_now - expected < floor
    ):
        return None
    best, rise = "", 0.0
    for model, calls in ss.model_calls.items():
        share_now = calls.window(a, t, fraction) / calls_now
        share_then = calls.total(hist_a, a) / calls_hist
        cost_m = ss.model_cost[model].window(a, t, fraction)
        m_calls = calls.window(a, t, fraction)
        if share_now - share_then > rise and m_calls and cost_m / m_calls > usual:
            best, rise = model, share_now - share_then
    if rise < MOVE_SHARE:
        return None
    points = []
    for h in range(a, t + 1):
        f = fraction if h == t else 1.0
        calls_h = ss.model_calls[best].hour(h, f)
        if calls_h:
            points.append(Point(h, ss.model_cost[best].hour(h, f), calls_h * usual))
    return Flag(
        kind="new_model",
        scope=ss.scope,
        subject=f"move:{best}",
        t=t,
        started=points[0].t if points else t,
        points=tuple(points) or (Point(t, cost_now, expected),),
        score=(cpc_now - usual) / spread if spread else 0.0,
        description=(f"move to {best}: cost per call at {cpc_now / max(usual, 1):.1f}x the usual"),
        department=ss.department,
        detail={
            "model": best,
            "share_rise": round(rise, 3),
            "cost_per_call_nanos": cpc_now,
            "usual_cost_per_call_nanos": usual,
        },
    )


def detect(ss: ScopeSeries, t: int, th: Thresholds, fraction: float = 1.0) -> list[Flag]:
    if ss.days_active(t) < MIN_ACTIVE_DAYS:
        return []
    a = t - DAY_H + 1
    hist_a = a - HISTORY_DAYS * DAY_H
    if ss.calls.total(hist_a, a) <= 0:
        return []
    floor = th.min_share * level(ss.cost, a)
    out = _new_models(ss, t, floor, fraction)
    if not out:
        move = _move(ss, t, th, a, hist_a, floor, fraction)
        if move is not None:
            out.append(move)
    return out
