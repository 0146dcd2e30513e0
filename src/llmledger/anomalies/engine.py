"""One evaluation of every detector over every scope at one point in time.

Detectors run per scope with the scope's own sensitivity (a key used by one agent takes
the agent's). Muted scopes and scopes set to ``off`` are still examined, and their
findings dropped only at the end, so that a parent does not report what they explain.
A finding is dropped when it is explained more specifically: a key used by a single
agent defers to the agent; a department's (or project's) spike defers to the flagged
scopes below it when they hold at least half of its excess; an agent's runaway replaces
its spend spike.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

from llmledger.anomalies import modality, models, runaway, spikes
from llmledger.anomalies.flags import Flag, for_sensitivity
from llmledger.anomalies.series import Frame, parent_of


@dataclass(frozen=True, slots=True)
class Policy:
    """Sensitivity by scope: the most specific configured scope wins (``org`` covers all)."""

    default: str = "medium"
    scopes: Mapping[str, str] = field(default_factory=dict)
    weeks: int = 8

    def sensitivity(self, scope: str) -> str:
        current: str | None = scope
        while current is not None:
            if current in self.scopes:
                return self.scopes[current]
            current = parent_of(current)
        return self.default


def chain(scope: str) -> list[str]:
    """The scope and its ancestors up to ``org``."""
    out = []
    current: str | None = scope
    while current is not None:
        out.append(current)
        current = parent_of(current)
    return out


def suppress(frame: Frame, flags: Iterable[Flag]) -> list[Flag]:
    """Keep the most specific explanation of each finding (see the module docstring)."""
    families: dict[tuple[tuple[str, ...], str], dict[str, Flag]] = {}
    for f in flags:
        families.setdefault((f.family, f.subject), {})[f.scope] = f
    kept: list[Flag] = []
    for group in families.values():
        for scope in list(group):
            owner = frame.scopes[scope].owner if scope in frame.scopes else None
            if scope.startswith("key:") and owner is not None and owner in group:
                del group[scope]
        covered: dict[str, int] = {}
        ancestors: set[str] = set()
        for scope in group:
            ancestors.update(chain(scope)[1:])
        for scope, f in group.items():
            if scope in ancestors:
                continue  # not the deepest: its own excess would count twice
            for up in chain(scope)[1:]:
                covered[up] = covered.get(up, 0) + max(f.excess, 0)
        for scope, f in group.items():
            if scope in ancestors and 2 * covered.get(scope, 0) >= f.excess:
                continue
            kept.append(f)
    return kept


def evaluate(
    frame: Frame,
    t: int,
    policy: Policy,
    *,
    fraction: float = 1.0,
    muted: Callable[[str], bool] | None = None,
    hourly_only: bool = False,
) -> list[Flag]:
    """Findings at hour t of `frame` (read at `fraction` when the hour is in progress).

    `hourly_only` runs only the within-the-hour checks (the 1-hour spike and runaway
    agents), for the checks made while an hour is in progress.
    """
    flags: list[Flag] = []
    silenced: set[str] = set()
    fallback = for_sensitivity("medium")
    for ss in frame.scopes.values():
        covering = chain(ss.scope) + (chain(ss.owner) if ss.owner else [])
        level = policy.sensitivity(
            ss.owner if ss.owner and ss.scope not in policy.scopes else ss.scope
        )
        th = for_sensitivity(level)
        if th is None or (muted is not None and any(muted(s) for s in covering)):
            # Still looked at, so that what it explains is not reported by its parents.
            silenced.add(ss.scope)
            th = th or fallback
        assert th is not None
        run = runaway.detect(ss, t, th, fraction, policy.weeks)
        if run is not None:
            flags.append(run)
        else:
            spike = spikes.detect(ss, t, th, fraction, policy.weeks, daily=not hourly_only)
            if spike is not None:
                flags.append(spike)
        if not hourly_only:
            flags.extend(modality.detect(ss, t, th, fraction))
            flags.extend(models.detect(ss, t, th, fraction))
    return [f for f in suppress(frame, flags) if f.scope not in silenced]
