"""Modality shifts: a scope starts spending on a usage type it has not used in four
weeks (images, audio, video, cached or reasoning tokens...; see `novelty`: its spend is
summed from its first use), or a usage type's share of the scope's spend over the last
24 hours rises far above its daily shares of the four weeks before.

Shares are integer parts per million, so the expected spend of a type (its usual share
of what the scope spent) stays an integer amount.
"""

from __future__ import annotations

from llmledger.anomalies.baseline import level, mad, median_int
from llmledger.anomalies.flags import Flag, Point, Thresholds
from llmledger.anomalies.novelty import HISTORY_DAYS, MIN_ACTIVE_DAYS, new_since
from llmledger.anomalies.series import DAY_H, ScopeSeries, Series

PPM = 1_000_000


def _daily_shares(ss: ScopeSeries, s: Series, end: int) -> list[int]:
    out = []
    for j in range(HISTORY_DAYS):
        a, b = end - DAY_H * (j + 1), end - DAY_H * j
        total = ss.cost.total(a, b)
        if total > 0:
            out.append(s.total(a, b) * PPM // total)
    return out


def detect(ss: ScopeSeries, t: int, th: Thresholds, fraction: float = 1.0) -> list[Flag]:
    if ss.days_active(t) < MIN_ACTIVE_DAYS:
        return []
    day_a = t - DAY_H + 1
    hist_a = day_a - HISTORY_DAYS * DAY_H
    total_hist = ss.cost.total(hist_a, day_a)
    if ss.cost.window(day_a, t, fraction) <= 0 or total_hist <= 0:
        return []
    floor = th.min_share * level(ss.cost, day_a)
    out: list[Flag] = []
    for usage_type, s in ss.usage.items():
        first = new_since(ss, s, t, fraction)
        a = day_a if first is None else first  # a new type: its spend since its first use
        total_now = ss.cost.window(a, t, fraction)
        now = s.window(a, t, fraction)
        if now <= 0 or now < floor or total_now <= 0:
            continue
        hist = 0 if first is not None else s.total(hist_a, a)
        share_now = now * PPM // total_now
        points_ppm = round(th.share_points * PPM)
        if hist == 0:
            usual = 0
        else:
            if share_now - hist * PPM // total_hist < points_ppm // 2:
                continue  # cheap test first: nowhere near a shift
            shares = _daily_shares(ss, s, a)
            usual = median_int(shares)
            spread = mad([float(x) for x in shares], float(usual))
            rise = share_now - usual
            if rise < points_ppm or rise < th.z / 2 * spread:
                continue
        expected_now = total_now * usual // PPM
        if now - expected_now < floor:
            continue
        points = []
        for h in range(a, t + 1):
            f = fraction if h == t else 1.0
            used = s.hour(h, f)
            exp = ss.cost.hour(h, f) * usual // PPM
            if used > exp:
                points.append(Point(h, used, exp))
        if not points:
            continue
        if hist == 0:
            desc = f"new spend on {usage_type} (none in the previous {HISTORY_DAYS} days)"
        else:
            desc = (
                f"{usage_type} at {share_now / 10_000:.0f}% of spend "
                f"(usually {usual / 10_000:.0f}%)"
            )
        out.append(
            Flag(
                kind="modality_shift",
                scope=ss.scope,
                subject=usage_type,
                t=t,
                started=points[0].t,
                points=tuple(points),
                score=(share_now - usual) / PPM,
                description=desc,
                department=ss.department,
                usage_type=usage_type,
                detail={"share_ppm": share_now, "usual_share_ppm": usual, "new": hist == 0},
            )
        )
    return out
