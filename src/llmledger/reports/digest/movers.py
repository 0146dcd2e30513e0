"""Week-over-week movers by department and by project, with a reason where the data has one.

Everything comes from the daily rollups: cost per (department, project, model), per
(department, project, agent) and usage cost per (department, project, usage type), for
this week and the week before. A reason names what appeared (a new model, a new
modality, a new agent) or disappeared, whichever carries the most money in the
direction of the movement; failing that, the model that explains most of it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import ROUND_HALF_EVEN, Decimal

from sqlalchemy import Connection

from llmledger.analytics.periods import DateRange
from llmledger.ledger import queries
from llmledger.money import cents, format_usd
from llmledger.usage import TEXT_TOKEN_TYPES, UsageType

#: Usage types read as a modality in reasons ("images", "audio seconds", ...).
MODALITY_NAMES = {
    t.value: t.value.replace("_", " ") for t in UsageType if t not in TEXT_TOKEN_TYPES
}
MODALITY_NAMES.pop(UsageType.REQUESTS.value)


def percent_change(current: int, previous: int) -> Decimal | None:
    """Change in percent of the previous amount, to 0.1; None when there was nothing."""
    if previous == 0:
        return None
    value = Decimal((current - previous) * 100) / Decimal(previous)
    return value.quantize(Decimal("0.1"), rounding=ROUND_HALF_EVEN)


@dataclass(frozen=True, slots=True)
class Change:
    current_nanos: int
    previous_nanos: int

    @property
    def delta_nanos(self) -> int:
        return self.current_nanos - self.previous_nanos

    @property
    def percent(self) -> Decimal | None:
        return percent_change(self.current_nanos, self.previous_nanos)

    def as_json(self) -> dict[str, object]:
        pct = self.percent
        return {
            "current_usd": format_usd(self.current_nanos),
            "previous_usd": format_usd(self.previous_nanos),
            "change_usd": format_usd(self.delta_nanos),
            "change_percent": None if pct is None else format(pct, "f"),
        }


@dataclass(frozen=True, slots=True)
class Mover:
    """One department or project whose spend moved most from last week to this week."""

    dimension: str  # "department" or "project"
    department: str
    project: str | None
    change: Change
    reason: str | None

    @property
    def name(self) -> str:
        dept = self.department or "(unattributed)"
        if self.project is None:
            return dept
        return f"{dept} / {self.project or '(no project)'}"

    def as_json(self) -> dict[str, object]:
        out: dict[str, object] = {"department": self.department}
        if self.project is not None:
            out["project"] = self.project
        out.update(self.change.as_json())
        out["reason"] = self.reason
        return out


@dataclass(slots=True)
class _Cell:
    """What one slice of spend was made of in one week (cost per model, agent, modality)."""

    cost: int = 0
    models: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    agents: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    modalities: dict[str, int] = field(default_factory=lambda: defaultdict(int))

    def add(self, other: _Cell, agent_prefix: str = "") -> None:
        self.cost += other.cost
        for k, v in other.models.items():
            self.models[k] += v
        for k, v in other.agents.items():
            self.agents[agent_prefix + k] += v
        for k, v in other.modalities.items():
            self.modalities[k] += v


Slices = dict[tuple[str, str], _Cell]


def _week_slices(conn: Connection, period: DateRange, filters: Mapping[str, str]) -> Slices:
    cells: Slices = defaultdict(_Cell)
    dp = ("department", "project")
    for s in queries.call_sums(conn, period.start, period.end, (*dp, "model"), filters):
        cell = cells[(s.key[0], s.key[1])]
        cell.cost += s.cost_nanos
        cell.models[s.key[2]] += s.cost_nanos
    for s in queries.call_sums(conn, period.start, period.end, (*dp, "agent"), filters):
        if s.key[2]:
            cells[(s.key[0], s.key[1])].agents[s.key[2]] += s.cost_nanos
    for u in queries.usage_sums(conn, period.start, period.end, dp, filters):
        if u.usage_type in MODALITY_NAMES:
            cells[(u.key[0], u.key[1])].modalities[u.usage_type] += u.cost_nanos
    return cells


def _by_department(slices: Slices) -> dict[str, _Cell]:
    out: dict[str, _Cell] = defaultdict(_Cell)
    for (dept, project), cell in slices.items():
        out[dept].add(cell, agent_prefix=f"{project or '(no project)'}/")
    return out


def _appeared(now: Mapping[str, int], before: Mapping[str, int]) -> list[tuple[str, int]]:
    return [(k, v) for k, v in now.items() if v > 0 and before.get(k, 0) == 0]


def reason(current: _Cell, previous: _Cell) -> str | None:
    """One line saying why a slice moved, or None when the rollups do not show why."""
    delta = current.cost - previous.cost
    if delta == 0:
        return None
    growing = delta > 0
    a, b = (current, previous) if growing else (previous, current)
    candidates: list[tuple[int, str]] = []
    for model, cost in _appeared(a.models, b.models):
        what = f"new model {model}" if growing else f"model {model} no longer used"
        candidates.append((cost, what))
    for usage_type, cost in _appeared(a.modalities, b.modalities):
        name = MODALITY_NAMES[usage_type]
        what = f"new modality: {name}" if growing else f"no more {name}"
        candidates.append((cost, what))
    for agent, cost in _appeared(a.agents, b.agents):
        what = f"new agent {agent}" if growing else f"agent {agent} stopped"
        candidates.append((cost, what))
    if candidates:
        cost, what = max(candidates, key=lambda c: (c[0], c[1]))
        sign = "" if growing else "-"
        return f"{what} ({sign}{cents(cost)} {'this' if growing else 'last'} week)"
    # Nothing new or gone: name the model that explains most of the movement.
    deltas = {
        m: current.models.get(m, 0) - previous.models.get(m, 0)
        for m in set(current.models) | set(previous.models)
    }
    model, moved = max(deltas.items(), key=lambda kv: (kv[1] if growing else -kv[1], kv[0]))
    if moved != 0 and (moved > 0) == growing and 2 * abs(moved) >= abs(delta):
        signed = cents(moved) if moved < 0 else "+" + cents(moved)
        return f"mostly {model or '(unknown model)'} ({signed})"
    return None


def _top(
    items: Iterable[tuple[tuple[str, str | None], _Cell, _Cell]], dimension: str, limit: int
) -> list[Mover]:
    movers = []
    for (dept, project), now, before in items:
        change = Change(now.cost, before.cost)
        if change.delta_nanos == 0:
            continue
        movers.append(Mover(dimension, dept, project, change, reason(now, before)))
    movers.sort(key=lambda m: (-abs(m.change.delta_nanos), m.department, m.project or ""))
    return movers[:limit]


@dataclass(frozen=True, slots=True)
class Movers:
    departments: list[Mover]
    projects: list[Mover]


def movers(
    conn: Connection,
    this_week: DateRange,
    last_week: DateRange,
    *,
    department: str | None = None,
    limit: int = 5,
) -> Movers:
    """The biggest movements by department and by project (within `department` if set)."""
    filters = {"department": department} if department is not None else {}
    now = _week_slices(conn, this_week, filters)
    before = _week_slices(conn, last_week, filters)
    empty = _Cell()
    project_items = [
        ((d, p), now.get((d, p), empty), before.get((d, p), empty))
        for d, p in sorted(set(now) | set(before))
    ]
    dept_now, dept_before = _by_department(now), _by_department(before)
    dept_items: list[tuple[tuple[str, str | None], _Cell, _Cell]] = [
        ((d, None), dept_now.get(d, empty), dept_before.get(d, empty))
        for d in sorted(set(dept_now) | set(dept_before))
    ]
    departments = [] if department is not None else _top(dept_items, "department", limit)
    projects_in: list[tuple[tuple[str, str | None], _Cell, _Cell]] = list(project_items)
    return Movers(departments, _top(projects_in, "project", limit))
