"""The digest as an email: a subject, an HTML body for mail clients and its text twin."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from llmledger.analytics.summary import BudgetPosition
from llmledger.reports.digest import format as fmt
from llmledger.reports.digest.figures import DigestFigures
from llmledger.reports.digest.text import render_text


@dataclass(frozen=True, slots=True)
class DigestEmail:
    subject: str
    html: str
    text: str


def subject(f: DigestFigures) -> str:
    """``Acme LLM spend, week 2026-W48: $12,345.67 (+$1,020.00, +9.0% vs last week)``."""
    who = f.organisation if f.department is None else f"{f.organisation} {f.department}"
    late = "[late] " if f.late else ""
    c = f.spend
    return (
        f"{late}{who} LLM spend, week {f.week.label}: {fmt.usd(c.current_nanos)} "
        f"({fmt.signed_usd(c.delta_nanos)}, {fmt.change_percent(c)} vs last week)"
    )


def _environment() -> Environment:
    env = Environment(
        loader=PackageLoader("llmledger.reports.digest", "templates"),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(
        usd=fmt.usd, signed_usd=fmt.signed_usd, pct=fmt.pct, bar_percent=fmt.bar_percent
    )
    return env


def _colour(p: BudgetPosition) -> str:
    return {"red": "#ef4444", "amber": "#f59e0b"}.get(p.status, "#22c55e")


def _kpis(f: DigestFigures) -> list[dict[str, str]]:
    def pos_note(p: BudgetPosition) -> tuple[str, str]:
        if not p.budget_nanos:
            return "no budget set", "color:#64748b;"
        style = "color:#b91c1c;" if p.variance_nanos < 0 else "color:#15803d;"
        return f"{p.percent}% of {fmt.usd(p.budget_nanos)}", style

    delta = f.spend.delta_nanos
    week_style = "color:#b91c1c;" if delta > 0 else "color:#15803d;" if delta < 0 else ""
    mtd_note, mtd_style = pos_note(f.mtd)
    ytd_note, ytd_style = pos_note(f.ytd)
    budget = f.ytd.budget_nanos
    over = budget and f.projected_annual_nanos > budget
    run_note = f"vs {fmt.usd(budget)} budget" if budget else "at the current pace"
    return [
        {
            "label": "This week",
            "value": fmt.usd(f.spend.current_nanos),
            "note": f"{fmt.change(f.spend)} vs {fmt.usd(f.spend.previous_nanos)} last week",
            "style": week_style,
        },
        {
            "label": "Month to date",
            "value": fmt.usd(f.mtd.spend_nanos),
            "note": mtd_note,
            "style": mtd_style,
        },
        {
            "label": "Year to date",
            "value": fmt.usd(f.ytd.spend_nanos),
            "note": ytd_note,
            "style": ytd_style,
        },
        {
            "label": "Annual run rate",
            "value": fmt.usd(f.projected_annual_nanos),
            "note": run_note,
            "style": "color:#b91c1c;" if over else "color:#64748b;",
        },
    ]


def render_html(f: DigestFigures, *, due: datetime | None = None, zone_name: str = "") -> str:
    """The HTML body: inline CSS, tables, CSS bars; no script, no external resource."""
    movers = f.department_movers + f.project_movers
    positions = [
        {
            "label": label,
            "text": fmt.position(p),
            "width": fmt.bar_percent(p.spend_nanos, max(p.budget_nanos, p.spend_nanos)),
            "colour": _colour(p),
        }
        for label, p in (("Month to date", f.mtd), ("Year to date", f.ytd))
    ]
    template = _environment().get_template("digest.html")
    return template.render(
        f=f,
        subject=subject(f),
        kpis=_kpis(f),
        positions=positions,
        week_range=fmt.week_range(f.week.start, f.week.end),
        daily_max=max((n for _, n in f.daily), default=0),
        movers_max=max((abs(m.change.delta_nanos) for m in movers), default=0),
        due_text=due.strftime("%a %d %b %Y %H:%M") if due else "earlier",
        zone=zone_name or "organisation time",
        budgets_as_of=f.budgets_as_of.strftime("%Y-%m-%d %H:%M %Z"),
    )


def render_email(
    f: DigestFigures, *, due: datetime | None = None, zone_name: str = ""
) -> DigestEmail:
    return DigestEmail(
        subject=subject(f),
        html=render_html(f, due=due, zone_name=zone_name),
        text=render_text(f, due=due, zone_name=zone_name),
    )
