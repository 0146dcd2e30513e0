"""The reference of `bench/anomalies.py`: what a detector that knew each agent's true
call rate could find within the same false-alarm limit.

The bench draws every agent's calls as Poisson counts around a known rate (hour of day,
weekday, growth) times a swing of the whole day (lognormal, sd `DAY_SWING`) that nobody
can know in advance. The oracle reads each agent's calls over windows of a quarter to 48
hours ending at every quarter hour against that rate:

    z = (observed - expected) / sqrt(expected + DAY_SWING^2 * sum over days of expected^2)

the exact spread of such a count. On the windows clear of every injected rise of calls
it finds the lowest bar that leaves no more than the allowed false alarms (episodes: an
agent's windows over the bar, grouped when less than `GAP_H` apart), and at that bar
counts the spend spikes over 20% of a day whose windows (ending from their start to 24 h
after their end, as the bench scores) clear it.

A real detector must estimate the rate from the data; the oracle is handed it. Its
recall is therefore a reference for what the data allows, not a strict bound (another
statistic could do slightly better than the best window's z), and it shows which of the
bench's spikes are lost in the noise of the counts.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from statistics import NormalDist
from typing import Protocol

DAY_SWING = 0.1
#: Below this normal approximation's z the exact tail is not computed: a count's right
#: tail is heavier than the normal's, so its exact z is lower still.
PREFILTER_Z = 3.0
#: Gauss-Hermite nodes and weights (probabilists', normalised) over the day's swing.
NODES = (
    (0.0, 8 / 15),
    (1.355626179974266, 0.222075922005613),
    (-1.355626179974266, 0.222075922005613),
    (2.856970013872806, 0.011257411327721),
    (-2.856970013872806, 0.011257411327721),
)
STANDARD = NormalDist()
WINDOWS = (1, 2, 3, 6, 12, 24, 48)
CALL_KINDS = ("spend_spike", "runaway_agent")  # the kinds that add calls


class Agent(Protocol):
    calls: list[int]

    @property
    def scope(self) -> str: ...


class Injected(Protocol):
    kind: str
    start_q: int
    end_q: int

    @property
    def agent(self) -> Agent: ...

    @property
    def big(self) -> bool: ...

    @property
    def crossed_q(self) -> int: ...


@dataclass(frozen=True, slots=True)
class Outcome:
    allowed: int
    bar: float
    false_alarms: int
    found: int
    within_1h_line: int
    spikes: int
    missed: tuple[int, ...]
    """Positions (in the injected list) of the spikes over 20% the oracle did not find."""


class Oracle:
    """Every agent's windows scored once; `outcome` then reads them at any budget.

    Windows end at every quarter hour, as the bench's detectors run: the quarters of
    the hour in progress, then whole hours."""

    def __init__(
        self,
        agents: Sequence[Agent],
        injected: Sequence[Injected],
        rate: Callable[[Agent, int], float],
        q_per_h: int,
        first_hour: int,
        gap_h: int,
    ) -> None:
        self.q_per_h, self.first_hour, self.gap_h = q_per_h, first_hour, gap_h
        self.widths = tuple(range(1, q_per_h)) + tuple(w * q_per_h for w in WINDOWS)
        self.injected = injected
        self.clean: dict[str, list[tuple[int, float]]] = {}  # scope -> (quarter, best z)
        self.best: dict[str, list[float]] = {}  # scope -> best z of windows ending at q
        for ag in agents:
            self._score(ag, injected, rate)

    def _score(
        self, ag: Agent, injected: Sequence[Injected], rate: Callable[[Agent, int], float]
    ) -> None:
        quarters = len(ag.calls)
        day = 24 * self.q_per_h
        cum_o = _prefix(ag.calls)
        cum_l = _prefix([rate(ag, q) for q in range(quarters)])
        dirty = [0] * quarters
        for i in injected:
            if i.agent is ag and i.kind in CALL_KINDS:
                dirty[i.start_q : i.end_q] = [1] * (i.end_q - i.start_q)
        cum_d = _prefix(dirty)
        best = [0.0] * quarters
        clean: list[tuple[int, float]] = []
        var_day = DAY_SWING * DAY_SWING
        for t in range(self.first_hour * self.q_per_h, quarters):
            top, top_clean = -math.inf, -math.inf
            for w in self.widths:
                a = t - w + 1
                expected = cum_l[t + 1] - cum_l[a]
                if expected <= 0:
                    continue
                if a // day == t // day:
                    swing = expected * expected
                else:
                    swing, d = 0.0, a - a % day
                    while d <= t:
                        part = cum_l[min(d + day, t + 1)] - cum_l[max(d, a)]
                        swing += part * part
                        d += day
                observed = cum_o[t + 1] - cum_o[a]
                z = (observed - expected) / math.sqrt(expected + var_day * swing)
                if z > PREFILTER_Z:  # worth the exact tail
                    z = tail_z(round(observed), expected, DAY_SWING * math.sqrt(swing) / expected)
                top = max(top, z)
                if cum_d[t + 1] == cum_d[a]:
                    top_clean = max(top_clean, z)
            best[t] = top
            if top_clean > 2.0:
                clean.append((t, top_clean))
        self.best[ag.scope] = best
        self.clean[ag.scope] = clean

    def false_alarms(self, bar: float) -> int:
        episodes, gap = 0, self.gap_h * self.q_per_h
        for hits in self.clean.values():
            last = -math.inf
            for t, z in hits:
                if z >= bar:
                    if t - last > gap:
                        episodes += 1
                    last = t
        return episodes

    def bar_for(self, allowed: int) -> float:
        """The lowest bar (to 0.01) with at most `allowed` false alarms."""
        lo, hi = 2.0, 50.0
        while hi - lo > 0.01:
            mid = (lo + hi) / 2
            if self.false_alarms(mid) <= allowed:
                hi = mid
            else:
                lo = mid
        return hi

    def outcome(self, allowed: int) -> Outcome:
        bar = self.bar_for(allowed)
        qh = self.q_per_h
        spikes = [i for i in self.injected if i.kind == "spend_spike" and i.big]
        found = early = 0
        missed: list[int] = []
        for i in spikes:
            best = self.best[i.agent.scope]
            last = min(len(best) - 1, i.end_q - 1 + 24 * qh)
            hit = next((t for t in range(i.start_q, last + 1) if best[t] >= bar), None)
            if hit is None:
                missed.append(self.injected.index(i))
                continue
            found += 1
            if hit - i.crossed_q <= qh:  # within an hour of the quarter crossing the line
                early += 1
        return Outcome(
            allowed, bar, self.false_alarms(bar), found, early, len(spikes), tuple(missed)
        )

    def peak(self, i: Injected) -> float:
        """The highest z of the windows that count for spike i."""
        best = self.best[i.agent.scope]
        return max(best[i.start_q : min(len(best), i.end_q + 24 * self.q_per_h)])


def tail_z(k: int, mean: float, log_sd: float) -> float:
    """The z of a count of k or more under Poisson(mean x D), D lognormal (0, log_sd):
    the probability of so many calls on a day of any swing, as a normal z."""
    p = sum(w * poisson_tail(k, mean * math.exp(log_sd * x)) for x, w in NODES)
    return 40.0 if p <= 0 else min(40.0, -STANDARD.inv_cdf(min(p, 0.5)))


def poisson_tail(k: int, mu: float) -> float:
    """P(X >= k) for X ~ Poisson(mu), k > mu: summed from k up for small k, else by the
    Wilson-Hilferty approximation of P(Gamma(k) <= mu)."""
    if k <= 0:
        return 1.0
    if k < 50:
        log_term = -mu + k * math.log(mu) - math.lgamma(k + 1)
        total, term, i = 0.0, 1.0, k
        while term > 1e-17 * total or total == 0.0:
            total += term
            i += 1
            term *= mu / i
            if i > k + 500:
                break
        return math.exp(log_term) * total
    z = ((mu / k) ** (1 / 3) - (1 - 1 / (9 * k))) * math.sqrt(9 * k)
    return 0.5 * math.erfc(-z / math.sqrt(2))


def _prefix(values: Sequence[float]) -> list[float]:
    out = [0.0]
    for v in values:
        out.append(out[-1] + v)
    return out
