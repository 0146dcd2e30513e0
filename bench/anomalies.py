"""Anomaly detection bench: a year of usage for many scopes, known anomalies injected.

Generates quarter-hour usage for 36 agents (4 departments x 3 projects x 3 agents, one
virtual key each) over a year: weekday and hour-of-day seasonality, steady growth (or
decline), day-to-day swings, Poisson call counts and noisy costs per call. It injects
anomalies of every kind at varied sizes, then runs the detectors as the live runner
would: every quarter hour the within-the-hour checks on the hour in progress, and at
each hour's end every check. It prints precision, recall and time to detection per kind.

    .venv/bin/python bench/anomalies.py [--seed 7] [--per-kind 120] [--days 365]
        [--scopes agent:Sales/alpha/bot-2,agent:Marketing/gamma/bot-1]
"""

from __future__ import annotations

import argparse
import math
import random
import time
from dataclasses import dataclass, field

from anomaly_data import (
    Q_PER_H,
    WARMUP_H,
    Agent,
    Injected,
    expected_rate,
    generate,
    inject,
    make_agents,
)
from anomaly_oracle import Oracle

from llmledger.anomalies.engine import Policy, chain, evaluate
from llmledger.anomalies.flags import Flag
from llmledger.anomalies.series import Frame, ScopeSeries, Series, parent_of, scopes_of

GAP_H = 6


def _hourly(values: list[int]) -> list[int]:
    return [sum(values[i : i + Q_PER_H]) for i in range(0, len(values), Q_PER_H)]


def build_frame(agents: list[Agent], hours: int) -> Frame:
    quarters = hours * Q_PER_H
    acc: dict[str, dict[str, list[int]]] = {}
    owners: dict[str, str] = {}

    def add(scope: str, name: str, values: list[int], n: int) -> None:
        row = acc.setdefault(scope, {}).setdefault(name, [0] * n)
        for i, v in enumerate(values):
            if v:
                row[i] += v

    for ag in agents:
        scopes = scopes_of(ag.dept, ag.project, ag.name, ag.key)
        owners[f"key:{ag.key}"] = ag.scope
        hourly_cost = _hourly(ag.cost)
        usual_models = [(m, share) for m, share in ag.models]
        base = [c - mv for c, mv in zip(ag.cost, ag.moved_cost, strict=True)]
        extra_u = {u: _hourly(v) for u, v in ag.extra_usage.items()}
        base_h = _hourly(
            [b - sum(v[q] for v in ag.extra_usage.values()) for q, b in enumerate(base)]
        )
        for scope in scopes:
            add(scope, "q:cost", ag.cost, quarters)
            add(scope, "q:calls", ag.calls, quarters)
            add(scope, "cost", hourly_cost, hours)
            add(scope, "calls", _hourly(ag.calls), hours)
            for u, share in ag.mix:
                add(scope, f"u:{u}", [int(v * share) for v in base_h], hours)
            for u, v in extra_u.items():
                add(scope, f"u:{u}", v, hours)
            calls_h = _hourly(ag.calls)
            for m, share in usual_models:
                add(scope, f"m:{m}", [int(v * share) for v in base_h], hours)
                add(scope, f"c:{m}", [int(v * share) for v in calls_h], hours)
            for m, (calls_s, cost_s) in ag.extra_model.items():
                add(scope, f"m:{m}", _hourly(cost_s), hours)
                add(scope, f"c:{m}", _hourly(calls_s), hours)
    scopes_out: dict[str, ScopeSeries] = {}
    for scope, s in acc.items():
        kind = scope.partition(":")[0]
        scopes_out[scope] = ScopeSeries(
            scope=scope,
            kind=kind,
            department=scope.partition(":")[2].split("/")[0],
            parent=parent_of(scope),
            cost=Series(s["cost"], s["q:cost"]),
            calls=Series(s["calls"], s["q:calls"]),
            usage={k[2:]: Series(v) for k, v in s.items() if k.startswith("u:")},
            model_cost={k[2:]: Series(v) for k, v in s.items() if k.startswith("m:")},
            model_calls={k[2:]: Series(v) for k, v in s.items() if k.startswith("c:")},
            first_hour=0,
            owner=owners.get(scope),
        )
    return Frame(0, hours, scopes_out)


@dataclass(slots=True)
class Detection:
    kind: str
    scope: str
    first: float
    last: float
    description: str = ""
    matched: bool = False
    kinds: dict[str, float] = field(default_factory=dict)  # kind -> first flagged at


def run_detectors(frame: Frame, policy: Policy, hours: int) -> list[Detection]:
    open_: dict[tuple[tuple[str, ...], str, str], Detection] = {}
    out: list[Detection] = []
    for t in range(WARMUP_H, hours):
        for q in range(1, Q_PER_H + 1):
            full = q == Q_PER_H
            flags: list[Flag] = evaluate(
                frame, t, policy, fraction=q / Q_PER_H, hourly_only=not full
            )
            now = t + q / Q_PER_H
            for f in flags:
                ident = (f.family, f.scope, f.subject)
                d = open_.get(ident)
                if d is None or now - d.last > GAP_H:
                    d = open_[ident] = Detection(f.kind, f.scope, now, now, f.description)
                    out.append(d)
                d.last = now
                d.kinds.setdefault(f.kind, now)
    return out


COMPATIBLE = {
    "spend_spike": ("spend_spike", "runaway_agent"),
    "runaway_agent": ("runaway_agent",),
    "modality_shift": ("modality_shift",),
    "new_model": ("new_model",),
}


def related(inj: Injected, scope: str) -> bool:
    return scope in chain(inj.agent.scope) or scope == f"key:{inj.agent.key}"


def score(injected: list[Injected], detections: list[Detection]) -> None:
    """Match detections with the injected anomalies.

    A detection is true when it overlaps an anomaly in the same scope or one above it
    (up to 24 hours after its end). An anomaly is found when a detection of a compatible
    kind overlaps it; its time to detection runs from its start (and from the moment its
    extra spend crossed 20% of a normal day) to the first time the detection was flagged
    as that kind, never earlier than the anomaly's start.
    """
    for d in detections:
        for inj in injected:
            s, e = inj.start_q / Q_PER_H, inj.end_q / Q_PER_H
            if related(inj, d.scope) and d.first <= e + 24 and d.last >= s:
                d.matched = True
                firsts = [at for k, at in d.kinds.items() if k in COMPATIBLE[inj.kind]]
                if firsts:
                    when = max(min(firsts), s)
                    line = (inj.crossed_q + 1) / Q_PER_H
                    if inj.detected_at is None or when - s < inj.detected_at:
                        inj.detected_at = when - s
                        inj.detected_after_line = max(when - line, 0.0)


def _pct(values: list[float], p: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, int(p * len(s)))] if s else float("nan")


HOURLY_KINDS = ("spend_spike", "runaway_agent")
GOAL_RECALL = 0.95
GOAL_FALSE_PER_100 = 1.0
GOAL_WITHIN_1H = 0.95


def _share(values: list[float], limit: float) -> float:
    return sum(v <= limit for v in values) / len(values) if values else float("nan")


def report(
    injected: list[Injected], detections: list[Detection], scopes: int, hours: int, elapsed: float
) -> None:
    months = scopes * (hours - WARMUP_H) / 730
    print(
        f"{len(injected)} anomalies injected, {len(detections)} detections, "
        f"{scopes} scopes x {(hours - WARMUP_H) / 730:.1f} months evaluated "
        f"({months:.0f} scope-months), detectors ran in {elapsed:.0f}s"
    )
    print(
        "time to detection (ttd) runs from the anomaly's start; '<=1h line' from the moment "
        "its extra spend crossed 20% of a normal day"
    )
    head = (
        f"{'kind':<16}{'precision':>10}{'recall>20%':>12}{'n>20%':>7}{'recall all':>11}"
        f"{'ttd p50':>9}{'ttd p95':>9}{'ttd max':>9}{'<=1h':>7}{'<=1h line':>11}"
    )
    print(head)
    goals: list[tuple[str, bool]] = []
    for kind in COMPATIBLE:
        inj = [i for i in injected if i.kind == kind]
        big = [i for i in inj if i.big]
        dets = [d for d in detections if kind in d.kinds]
        precision = sum(d.matched for d in dets) / len(dets) if dets else float("nan")
        r_big = sum(i.detected_at is not None for i in big) / len(big) if big else float("nan")
        r_all = sum(i.detected_at is not None for i in inj) / len(inj) if inj else float("nan")
        ttd = [i.detected_at * 60 for i in big if i.detected_at is not None]
        after = [i.detected_after_line * 60 for i in big if i.detected_after_line is not None]
        print(
            f"{kind:<16}{precision:>10.3f}{r_big:>12.3f}{len(big):>7}{r_all:>11.3f}"
            f"{_pct(ttd, 0.5):>7.0f}m{_pct(ttd, 0.95):>8.0f}m{max(ttd or [0]):>8.0f}m"
            f"{_share(ttd, 60):>7.2f}{_share(after, 60):>11.2f}"
        )
        goals.append(
            (f"recall >= {GOAL_RECALL} for {kind} (impact > 20% of a day)", r_big >= GOAL_RECALL)
        )
        if kind in HOURLY_KINDS:
            goals.append(
                (
                    f"{kind} detected within 1 h of crossing the impact line "
                    f"(>= {GOAL_WITHIN_1H:.0%} of those found)",
                    _share(after, 60) >= GOAL_WITHIN_1H,
                )
            )
    spikes = [i for i in injected if i.kind == "spend_spike" and i.big]
    print("spend spikes > 20% by length: found, and found within 1 h of the start / of the line")
    for hours_long in sorted({(i.end_q - i.start_q) // Q_PER_H for i in spikes}):
        group = [i for i in spikes if (i.end_q - i.start_q) // Q_PER_H == hours_long]
        found = [i for i in group if i.detected_at is not None]
        from_start = sum(i.detected_at is not None and i.detected_at <= 1 for i in found)
        from_line = sum(
            i.detected_after_line is not None and i.detected_after_line <= 1 for i in found
        )
        print(
            f"  {hours_long:>3} h: {len(found)}/{len(group)} found, {from_start} within 1 h "
            f"of the start, {from_line} of the line"
        )
    false = [d for d in detections if not d.matched]
    per_100 = 100 * len(false) / months
    print(f"false alarms: {len(false)} = {per_100:.2f} per 100 scope-months")
    goals.append((f"false alarms <= {GOAL_FALSE_PER_100} per 100 scope-months", per_100 <= 1.0))
    by_kind: dict[str, int] = {}
    for d in false:
        by_kind[d.kind] = by_kind.get(d.kind, 0) + 1
    print("false alarms by kind:", by_kind or "none")
    for d in false[:15]:
        print(f"  false {d.kind} {d.scope} at h{d.first:.2f}-{d.last:.2f}: {d.description}")
    missed = [i for i in injected if i.big and i.detected_at is None]
    for i in missed[:20]:
        print(
            f"  missed {i.kind} {i.agent.scope} at h{i.start_q / 4:.2f} "
            f"for {(i.end_q - i.start_q) / 4:.2f}h, {i.size}, "
            f"impact {i.impact / max(i.daily, 1):.2f}d"
        )
    slow = [
        i
        for i in injected
        if i.kind in HOURLY_KINDS
        and i.big
        and i.detected_after_line is not None
        and i.detected_after_line > 1
    ]
    for i in slow[:20]:
        print(
            f"  late {i.kind} {i.agent.scope} at h{i.start_q / 4:.2f} "
            f"for {(i.end_q - i.start_q) / 4:.2f}h, {i.size}, "
            f"impact {i.impact / max(i.daily, 1):.2f}d: "
            f"{i.detected_at:.2f} h after the start, {i.detected_after_line:.2f} h after the line"
        )
    print("goals:")
    for text, met in goals:
        print(f"  [{'met' if met else 'NOT MET'}] {text}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--per-kind", type=int, default=120)
    parser.add_argument("--sensitivity", default="medium")
    parser.add_argument(
        "--scopes",
        default="",
        help="comma-separated parts of scope names: evaluate only the matching scopes, "
        "and score only the anomalies of matching agents (a quick look, not the figures)",
    )
    args = parser.parse_args()
    rng = random.Random(args.seed)
    hours = args.days * 24
    agents = make_agents(rng)
    t0 = time.perf_counter()
    generate(agents, hours * Q_PER_H, rng)
    injected = inject(agents, hours * Q_PER_H, args.per_kind, rng)
    frame = build_frame(agents, hours)
    if args.scopes:
        parts = [p for p in args.scopes.split(",") if p]
        kept = {k: v for k, v in frame.scopes.items() if any(p in k for p in parts)}
        frame = Frame(frame.start_us, frame.hours, kept)
        injected = [i for i in injected if i.agent.scope in kept]
    print(
        f"generated {len(agents)} agents, {len(frame.scopes)} scopes, {args.days} days "
        f"in {time.perf_counter() - t0:.0f}s"
    )
    t1 = time.perf_counter()
    detections = run_detectors(frame, Policy(args.sensitivity), hours)
    elapsed = time.perf_counter() - t1
    score(injected, detections)
    report(injected, detections, len(frame.scopes), hours, elapsed)
    if not args.scopes:
        reference(agents, injected, len(frame.scopes), hours)


def reference(agents: list[Agent], injected: list[Injected], scopes: int, hours: int) -> None:
    """The oracle's recall of spend spikes within the same false-alarm limits: what the
    data allows a detector that knew every agent's true call rate (see anomaly_oracle)."""
    t0 = time.perf_counter()
    oracle = Oracle(
        agents,
        injected,
        lambda ag, q: expected_rate(ag, q, 1.0),
        Q_PER_H,
        WARMUP_H,
        GAP_H,
    )
    months = (hours - WARMUP_H) / 730
    spikes = [i for i in injected if i.kind == "spend_spike" and i.big]
    found = sum(i.detected_at is not None for i in spikes)
    print(
        f"reference: an oracle that knows each agent's true call rate, its windows of a "
        f"quarter to 48 h scored by the exact tail of their counts "
        f"({time.perf_counter() - t0:.0f}s); "
        f"the detectors found {found}/{len(spikes)} spend spikes > 20%"
    )
    budgets = {
        "the limit on the agents' own scope-months": math.floor(len(agents) * months / 100),
        "the whole run's allowance, all on the agents": math.floor(scopes * months / 100),
    }
    for label, allowed in budgets.items():
        o = oracle.outcome(allowed)
        print(
            f"  {label} ({o.allowed} false alarms): bar z >= {o.bar:.2f}, "
            f"{o.false_alarms} false, recall > 20% {o.found}/{o.spikes} = "
            f"{o.found / o.spikes:.3f} ({o.within_1h_line} within 1 h of the line); "
            f"detectors / oracle = {found / max(o.found, 1):.2f}"
        )
    o = oracle.outcome(budgets["the limit on the agents' own scope-months"])
    for i in spikes:
        by_oracle = injected.index(i) not in o.missed
        by_detectors = i.detected_at is not None
        if not (by_oracle and by_detectors):
            who = {
                (False, False): "missed by both",
                (True, False): "missed by the detectors, found by the oracle",
                (False, True): "found by the detectors, missed by the oracle",
            }[(by_oracle, by_detectors)]
            print(
                f"  {who}: {i.agent.scope} at h{i.start_q / 4:.2f} "
                f"for {(i.end_q - i.start_q) / 4:.2f}h, {i.size}, "
                f"impact {i.impact / max(i.daily, 1):.2f}d, oracle's best z {oracle.peak(i):.1f}"
            )


if __name__ == "__main__":
    main()
