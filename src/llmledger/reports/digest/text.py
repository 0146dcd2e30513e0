"""The digest's plain-text alternative: the same figures as the HTML, line for line."""

from __future__ import annotations

from datetime import datetime

from llmledger.reports.digest import format as fmt
from llmledger.reports.digest.figures import DigestFigures
from llmledger.reports.digest.movers import Mover

_STATUS = {"blocked": "BLOCKED", "alert": "above threshold"}


def _movers(title: str, rows: list[Mover]) -> list[str]:
    lines = ["", title, "-" * len(title)]
    if not rows:
        return [*lines, "No movement this week."]
    for m in rows:
        c = m.change
        lines.append(
            f"{m.name}: {fmt.usd(c.previous_nanos)} -> {fmt.usd(c.current_nanos)}, {fmt.change(c)}"
        )
        if m.reason:
            lines.append(f"    {m.reason}")
    return lines


def render_text(f: DigestFigures, *, due: datetime | None = None, zone_name: str = "") -> str:
    who = f.organisation if f.department is None else f"{f.organisation} / {f.department}"
    head = (
        f"{who}: LLM spend digest, week {f.week.label} ({fmt.week_range(f.week.start, f.week.end)})"
    )
    lines = [head, "=" * len(head)]
    if f.late:
        when = due.strftime("%a %d %b %Y %H:%M") if due else "earlier"
        lines += ["", f"LATE: this digest was due {when} and is sent now that the server is back."]
    lines += [
        "",
        f"Spend this week:      {fmt.usd(f.spend.current_nanos)}",
        f"Last week:            {fmt.usd(f.spend.previous_nanos)}",
        f"Change:               {fmt.change(f.spend)}",
        f"Month to date:        {fmt.position(f.mtd)}",
        f"Year to date:         {fmt.position(f.ytd)}",
        f"Projected annual:     {fmt.usd(f.projected_annual_nanos)}",
        f"Routing savings:      {fmt.usd(f.savings_week_nanos)} this week, "
        f"{fmt.usd(f.savings_mtd_nanos)} month to date",
        "",
        "Daily spend",
        "-----------",
    ]
    lines += [f"{d.strftime('%a %d %b')}  {fmt.usd(n)}" for d, n in f.daily]
    lines += ["", "Budgets that need attention", "---------------------------"]
    if not f.budgets:
        lines.append("Every budget is within its limits and on course.")
    for b in f.budgets:
        status = _STATUS.get(b.status, "projected over")
        line = (
            f"{b.scope} ({b.period}): {fmt.usd(b.spent_nanos)} of {fmt.usd(b.limit_nanos)} "
            f"({b.percent}%), {status}"
        )
        if b.projected_to_exceed:
            line += f"; projected {fmt.usd(b.projected_nanos)}"
            if b.runs_out_on:
                line += f", runs out {b.runs_out_on}"
        lines.append(line)
    lines += ["", "Anomalies this week", "-------------------"]
    if not f.anomalies:
        lines.append("No anomalies were detected.")
    for a in f.anomalies:
        kind = a.kind.replace("_", " ")
        lines.append(f"{a.scope}, {kind}: {fmt.usd(a.impact_nanos)}. {a.description}")
    if f.department is None:
        lines += _movers("Biggest movers by department", f.department_movers)
    lines += _movers("Biggest movers by project", f.project_movers)
    if f.outcome_changes:
        lines += ["", "Biggest changes in cost per outcome", "-----------------------------------"]
        for c in f.outcome_changes:
            sign = "+" if c.percent > 0 else ""
            lines.append(
                f"{c.name} ({c.metric}): {fmt.usd(c.previous_nanos)} -> "
                f"{fmt.usd(c.current_nanos)}, {sign}{c.percent}%"
            )
    lines.append("")
    if f.dashboard_url:
        lines += [f"Dashboard: {f.dashboard_url}", ""]
    zone = zone_name or "organisation time"
    lines.append(
        f"Amounts in USD. Week in {zone}. Year and month to date as of {f.week.end.isoformat()}; "
        f"budgets as of {f.budgets_as_of.strftime('%Y-%m-%d %H:%M %Z')}."
    )
    return "\n".join(lines) + "\n"
