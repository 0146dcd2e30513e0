"""The outcome columns of ``/attribution``: each scope's outcomes and cost per outcome.

They are the rows of ``GET /api/v1/roi`` for the same period, called as the API is (same
scope rules, same function: `llmledger.roi.figures.roi`), so the two never disagree. An ROI
row belongs to the tree row of its own scope: an agent's outcomes to the agent, outcomes
recorded without an agent to the project, without a project to the department. The ROI
figures count a scope's whole cost: a provider or model filter narrows the table's cost
columns, not the cost per outcome (outcomes are not made by one provider).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from llmledger.web.api import roi
from llmledger.web.api.deps import RuntimeDep
from llmledger.web.auth.principal import Principal

#: (key, heading) of the outcome columns, after the usage columns; the CSV adds the metric.
HEADINGS = (("outcomes", "Outcomes"), ("cost_per_outcome", "Cost / outcome"))
CSV_COLUMNS = ("outcome_metric", "outcomes", "outcome_unit", "cost_per_outcome")

ScopeKey = tuple[str, ...]
"""(department,), (department, project) or (department, project, agent): raw names."""


@dataclass(frozen=True, slots=True)
class OutcomeCell:
    """One metric of a scope as the ROI API gives it: exact decimal strings."""

    metric: str
    unit: str
    outcomes: str
    cost_per_outcome_usd: str | None

    @property
    def measured(self) -> bool:
        """Outcomes were recorded in the period (otherwise the cost per outcome is unknown)."""
        return self.cost_per_outcome_usd is not None


def scope_key(department: str, project: str, agent: str) -> ScopeKey:
    """The tree row an ROI row belongs to: its scope without the empty trailing levels."""
    if not project:
        return (department,)
    if not agent:
        return (department, project)
    return (department, project, agent)


def cells_by_scope(rows: Iterable[Mapping[str, Any]]) -> dict[ScopeKey, list[OutcomeCell]]:
    out: dict[ScopeKey, list[OutcomeCell]] = defaultdict(list)
    for r in rows:
        cpo = r["cost_per_outcome_usd"]
        out[scope_key(r["department"], r["project"], r["agent"])].append(
            OutcomeCell(
                r["metric"], r["unit"], str(r["outcomes"]), None if cpo is None else str(cpo)
            )
        )
    for cells in out.values():
        cells.sort(key=lambda c: c.metric)
    return dict(out)


async def outcome_cells(
    runtime: RuntimeDep, principal: Principal, start: str, end: str
) -> dict[ScopeKey, list[OutcomeCell]]:
    """The ROI API's rows for ``start``..``end`` (local days), by the scope they belong to."""
    data = await roi.get_roi(
        runtime, principal, from_=start, to=end, department=None, project=None, agent=None
    )
    rows = data["rows"]
    assert isinstance(rows, list)
    return cells_by_scope(rows)


def csv_values(cells: Sequence[OutcomeCell]) -> list[str]:
    """The outcome columns of one CSV line: what the table shows, exact; empty for "—".

    A scope with two measured metrics (rare) lists both, in the same order, joined by "; "."""
    measured = [c for c in cells if c.measured]
    return [
        "; ".join(c.metric for c in measured),
        "; ".join(c.outcomes for c in measured),
        "; ".join(c.unit for c in measured),
        "; ".join(c.cost_per_outcome_usd or "" for c in measured),
    ]
