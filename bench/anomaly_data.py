"""The data of `bench/anomalies.py`: a year of quarter-hour usage for 36 agents, and the
anomalies injected into it (see that bench's docstring).
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field

Q_PER_H = 4
WARMUP_H = 9 * 168


@dataclass(slots=True)
class Agent:
    dept: str
    project: str
    name: str
    key: str
    rate: float  # calls per hour at the weekday peak, at the start
    cpc: float  # nano-USD per call
    growth: float  # per year
    weekend: float
    profile: list[float]
    models: list[tuple[str, float]]
    mix: list[tuple[str, float]]
    calls: list[int] = field(default_factory=list)  # per quarter
    cost: list[int] = field(default_factory=list)
    extra_usage: dict[str, list[int]] = field(default_factory=dict)  # per quarter
    extra_model: dict[str, tuple[list[int], list[int]]] = field(default_factory=dict)
    moved_cost: list[int] = field(default_factory=list)  # cost taken off the usual models

    @property
    def scope(self) -> str:
        return f"agent:{self.dept}/{self.project}/{self.name}"


@dataclass(slots=True)
class Injected:
    kind: str
    agent: Agent
    start_q: int
    end_q: int
    impact: int = 0
    daily: int = 0
    size: str = ""
    added: list[int] = field(default_factory=list)  # extra spend per quarter of the span
    detected_at: float | None = None  # hours from the start
    detected_after_line: float | None = None  # hours from crossing the impact line

    @property
    def big(self) -> bool:
        """Whether the impact exceeds 20% of the scope's normal daily spend."""
        return self.impact * 5 > self.daily

    @property
    def crossed_q(self) -> int:
        """The quarter by whose end the extra spend first exceeded 20% of a normal day
        (the end of the anomaly for one that never does)."""
        total = 0
        for i, v in enumerate(self.added):
            total += v
            if total * 5 > self.daily:
                return self.start_q + i
        return self.end_q - 1


def _poisson(rng: random.Random, lam: float) -> int:
    if lam <= 0:
        return 0
    if lam > 30:
        return max(0, round(rng.gauss(lam, math.sqrt(lam))))
    limit, k, p = math.exp(-lam), 0, rng.random()
    while p > limit:
        k += 1
        p *= rng.random()
    return k


def make_agents(rng: random.Random) -> list[Agent]:
    agents = []
    business = [0.15] * 12 + [0.6, 1.0, 1.0, 1.0, 0.9, 1.0, 1.0, 0.9, 0.7, 0.4, 0.25, 0.2]
    flat = [0.8 + 0.2 * rng.random() for _ in range(24)]
    batch = [1.0 if h < 6 else 0.1 for h in range(24)]
    models = [
        "openai/gpt-4o-mini",
        "openai/gpt-4o",
        "anthropic/claude-sonnet-4-5",
        "google/gemini-2.5-flash",
    ]
    for d in ("Engineering", "Sales", "Marketing", "Finance"):
        for p in ("alpha", "beta", "gamma"):
            for a in ("bot-1", "bot-2", "bot-3"):
                profile = rng.choices([business, flat, batch], [0.7, 0.2, 0.1])[0]
                m1, m2 = rng.sample(models, 2)
                split = rng.choice([1.0, 0.8, 0.6])
                agents.append(
                    Agent(
                        d,
                        p,
                        a,
                        f"k-{d[:3]}-{p}-{a}",
                        rate=math.exp(rng.uniform(math.log(3), math.log(150))),
                        cpc=math.exp(rng.uniform(math.log(2e6), math.log(5e7))),
                        growth=rng.uniform(-0.2, 1.0),
                        weekend=rng.uniform(0.15, 0.9),
                        profile=profile,
                        models=[(m1, split), (m2, 1 - split)] if split < 1 else [(m1, 1.0)],
                        mix=[
                            ("input_tokens", 0.35),
                            ("output_tokens", 0.55),
                            ("cached_input_tokens", 0.10),
                        ],
                    )
                )
    return agents


def expected_rate(agent: Agent, q: int, day_factor: float) -> float:
    h = q // Q_PER_H
    weekday = (h // 24) % 7  # the year starts on a Monday
    season = agent.weekend if weekday >= 5 else 1.0
    grow: float = (1 + agent.growth) ** (h / 8760)
    return agent.rate * agent.profile[h % 24] * season * grow * day_factor / Q_PER_H


def generate(agents: list[Agent], quarters: int, rng: random.Random) -> None:
    for ag in agents:
        day_factor = 1.0
        calls, cost = [0] * quarters, [0] * quarters
        for q in range(quarters):
            if q % (24 * Q_PER_H) == 0:
                day_factor = math.exp(rng.gauss(0, 0.1))
            n = _poisson(rng, expected_rate(ag, q, day_factor))
            calls[q] = n
            if n:
                noise = max(0.2, 1 + rng.gauss(0, 0.6 / math.sqrt(n)))
                cost[q] = round(n * ag.cpc * noise)
        ag.calls, ag.cost, ag.moved_cost = calls, cost, [0] * quarters


def inject(agents: list[Agent], quarters: int, per_kind: int, rng: random.Random) -> list[Injected]:
    out: list[Injected] = []
    busy: dict[str, list[tuple[int, int]]] = {}
    kinds = ["spend_spike", "runaway_agent", "modality_shift", "new_model"]
    for i in range(per_kind * len(kinds)):
        kind = kinds[i % len(kinds)]
        for _ in range(100):
            ag = rng.choice(agents)
            start = rng.randrange(WARMUP_H * Q_PER_H + 96, quarters - 7 * 96)
            if kind == "spend_spike":
                length = rng.choice([1, 2, 3, 6, 12, 24, 48]) * Q_PER_H
            elif kind == "runaway_agent":
                length = rng.randint(1, 12)
            elif kind == "modality_shift":
                length = rng.choice([6, 12, 24, 48, 72]) * Q_PER_H
            else:
                length = rng.choice([12, 24, 48, 120]) * Q_PER_H
            # two anomalies of one agent lie five weeks apart: the baseline is the past
            gap = 5 * 168 * Q_PER_H
            spans = busy.setdefault(ag.scope, [])
            if all(start + length + gap < a or start > b + gap for a, b in spans):
                spans.append((start, start + length))
                break
        inj = Injected(kind, ag, start, start + length)
        _apply(inj, rng)
        day0 = max(0, start - 7 * 96)
        inj.daily = sum(ag.cost[day0:start]) // 7
        out.append(inj)
    return out


def _apply(inj: Injected, rng: random.Random) -> None:
    ag = inj.agent
    span = range(inj.start_q, inj.end_q)
    if inj.kind == "spend_spike":
        m = math.exp(rng.uniform(math.log(1.3), math.log(8)))
        inj.size = f"{m:.2f}x spend"
        for q in span:
            extra = _poisson(rng, ag.calls[q] * (m - 1))
            add = round(extra * ag.cpc)
            ag.calls[q] += extra
            ag.cost[q] += add
            inj.impact += add
            inj.added.append(add)
    elif inj.kind == "runaway_agent":
        if rng.random() < 0.5:
            m = math.exp(rng.uniform(math.log(3), math.log(40)))
            inj.size = f"{m:.1f}x calls"
            for q in span:
                extra = _poisson(rng, max(ag.calls[q], ag.rate / 8) * (m - 1))
                ag.calls[q] += extra
                ag.cost[q] += round(extra * ag.cpc)
                inj.impact += round(extra * ag.cpc)
                inj.added.append(round(extra * ag.cpc))
        else:
            m = math.exp(rng.uniform(math.log(2), math.log(15)))
            inj.size = f"{m:.1f}x cost per call"
            for q in span:
                add = round(ag.cost[q] * (m - 1))
                ag.cost[q] += add
                inj.impact += add
                inj.added.append(add)
    elif inj.kind == "modality_shift":
        usage = rng.choice(["images", "audio_seconds", "video_seconds", "reasoning_tokens"])
        share = math.exp(rng.uniform(math.log(0.05), math.log(1.5)))
        inj.size = f"{usage} at {share:.2f} of the usual spend"
        series = ag.extra_usage.setdefault(usage, [0] * len(ag.cost))
        for q in span:
            add = round(ag.cpc * ag.rate / Q_PER_H * share * rng.uniform(0.5, 1.5))
            series[q] += add
            ag.cost[q] += add
            inj.impact += add
            inj.added.append(add)
    else:
        model = rng.choice(NEW_MODELS)
        p, r = rng.uniform(0.05, 1.0), math.exp(rng.uniform(math.log(0.5), math.log(6)))
        model = _unused_model(ag, model, inj.start_q, inj.end_q)
        inj.size = f"{model} for {p:.0%} of calls at {r:.1f}x"
        calls_s, cost_s = ag.extra_model.setdefault(model, ([0] * len(ag.cost), [0] * len(ag.cost)))
        for q in span:
            moved = round(ag.calls[q] * p)
            if not moved or not ag.calls[q]:
                inj.added.append(0)
                continue
            base = ag.cost[q] * moved // ag.calls[q]
            new = round(base * r)
            calls_s[q] += moved
            cost_s[q] += new
            ag.moved_cost[q] += base
            ag.cost[q] += new - base
            inj.impact += new  # the spend that went to a model never used before
            inj.added.append(new)


NEW_MODELS = ["openai/o3", "anthropic/claude-opus-4-1", "google/gemini-2.5-pro"]
#: A new model is new when the agent has not used it for four weeks (the detector's
#: history): another injection of the same model stays this far away, either side.
NEW_MODEL_APART_Q = 35 * 24 * Q_PER_H


def _unused_model(ag: Agent, drawn: str, start_q: int, end_q: int) -> str:
    """`drawn`, or, when the agent uses it within five weeks of the span (an injection of
    the same model nearby), the first of the others it does not: a model the agent has
    just used is not new, and a move at an unchanged price is not an anomaly."""
    lo, hi = max(0, start_q - NEW_MODEL_APART_Q), end_q + NEW_MODEL_APART_Q

    def used(model: str) -> bool:
        calls = ag.extra_model.get(model)
        return calls is not None and any(calls[0][lo:hi])

    if not used(drawn):
        return drawn
    return next((m for m in NEW_MODELS if not used(m)), drawn)
