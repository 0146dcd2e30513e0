"""What a detector reports for one hour (a `Flag`), and how sensitive it is (`Thresholds`)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

KINDS = ("spend_spike", "modality_shift", "new_model", "runaway_agent")
SENSITIVITIES = ("off", "low", "medium", "high")
SPEND_KINDS = ("spend_spike", "runaway_agent")


@dataclass(frozen=True, slots=True)
class Thresholds:
    """The bars a deviation must clear; `for_sensitivity` gives the named sets."""

    z: float
    """Robust z-score of a window: its excess over the scope's measured noise."""
    ratio_hour: float
    """An hour must be at least (1 + ratio_hour) times its expectation."""
    ratio_mid: float
    """A 6- or 12-hour window must be at least (1 + ratio_mid) times its expectation."""
    ratio_day: float
    """A 24-hour window must be at least (1 + ratio_day) times its expectation."""
    min_share: float
    """Smallest excess worth a record, as a share of the scope's normal daily spend."""
    runaway_calls: float
    """An agent's calls in an hour against their expectation (a loop, a retry storm)."""
    runaway_cpc: float
    """An agent's cost per call in an hour against its norm (a growing context)."""
    share_points: float
    """Smallest rise of a usage type's share of spend (0.15 = 15 points)."""
    cpc_move: float
    """A scope's cost per call against its history, for a move to a pricier model."""


def for_sensitivity(name: str) -> Thresholds | None:
    """The thresholds of ``low``, ``medium`` or ``high``; None for ``off``."""
    if name == "off":
        return None
    if name == "low":
        return Thresholds(8.0, 2.0, 1.0, 0.8, 0.25, 5.0, 3.0, 0.25, 1.0)
    if name == "medium":
        return Thresholds(6.0, 0.5, 0.4, 0.4, 0.12, 2.5, 1.6, 0.15, 0.6)
    if name == "high":
        return Thresholds(4.5, 0.4, 0.3, 0.25, 0.06, 2.0, 1.4, 0.10, 0.4)
    raise ValueError(f"unknown sensitivity {name!r} (known: {', '.join(SENSITIVITIES)})")


@dataclass(frozen=True, slots=True)
class Point:
    """One hour of an anomaly's evidence: what was spent and what was expected."""

    t: int
    observed: int
    expected: int


@dataclass(frozen=True, slots=True)
class Flag:
    """A detector's finding at hour `t` for one scope (and subject within it)."""

    kind: str
    scope: str
    subject: str
    """What within the scope: a usage type, ``provider/model``, or "" for the spend."""
    t: int
    started: int
    points: tuple[Point, ...]
    score: float
    description: str
    department: str = ""
    usage_type: str | None = None
    detail: Mapping[str, object] = field(default_factory=dict)

    @property
    def identity(self) -> tuple[str, str, str]:
        return (self.kind, self.scope, self.subject)

    @property
    def family(self) -> tuple[str, ...]:
        """Kinds that describe the same trouble: a runaway agent is also a spend spike."""
        return SPEND_KINDS if self.kind in SPEND_KINDS else (self.kind,)

    @property
    def excess(self) -> int:
        return sum(p.observed - p.expected for p in self.points)
