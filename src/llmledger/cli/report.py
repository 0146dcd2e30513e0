"""``llmledger report``: the executive summary and cost breakdowns."""

from __future__ import annotations

import csv
import sys

import typer
from rich.console import Console
from rich.table import Table

from llmledger.analytics import periods
from llmledger.analytics.costs import BreakdownError, breakdown, parse_group_by
from llmledger.analytics.summary import summary
from llmledger.cli.context import fail, get, parse_day, print_json
from llmledger.money import cents
from llmledger.roi.figures import default_period, roi
from llmledger.usage import UsageType

app = typer.Typer(help="Finance figures from the rollups.", no_args_is_help=True)


@app.command("summary")
def summary_command(
    ctx: typer.Context,
    as_of: str | None = typer.Option(None, "--as-of", help="Day (YYYY-MM-DD); default today."),
    json_out: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """YTD and MTD against budget, projected annual spend, savings, usage, 12-month trend."""
    cli = get(ctx)
    day = parse_day(as_of, "--as-of") or cli.today()
    org = cli.settings.organisation
    with cli.store() as store, store.read() as conn:
        result = summary(
            conn,
            day,
            fiscal_start_month=org.fiscal_year_start_month,
            annual_budget_usd=org.annual_budget_usd,
            monthly_budget_usd=org.monthly_budget_usd,
        )
    if json_out:
        print_json(result.as_json())
        return
    table = Table(title=f"{org.name}: LLM spend as of {day}")
    for col in ("", "spend", "budget", "variance", "%"):
        table.add_column(col, justify="right")
    for label, pos in (("Year to date", result.ytd), ("Month to date", result.mtd)):
        pct = pos.percent
        table.add_row(
            label,
            cents(pos.spend_nanos),
            cents(pos.budget_nanos),
            cents(pos.variance_nanos),
            "-" if pct is None else f"{pct}%",
        )
    c = Console()
    c.print(table)
    c.print(f"Projected annual spend: {cents(result.projected_annual_nanos)}")
    c.print(f"Routing savings this month: {cents(result.savings_mtd_nanos)}")


@app.command("costs")
def costs_command(
    ctx: typer.Context,
    by: str = typer.Option("department", "--by", help="Comma-separated dimensions."),
    from_: str | None = typer.Option(None, "--from", help="First day (YYYY-MM-DD)."),
    to: str | None = typer.Option(None, "--to", help="Last day (YYYY-MM-DD), inclusive."),
    json_out: bool = typer.Option(False, "--json", help="Print JSON."),
    csv_out: bool = typer.Option(False, "--csv", help="Print CSV."),
) -> None:
    """Cost by any dimensions: department, project, agent, key, provider, model, usage_type."""
    cli = get(ctx)
    try:
        group_by = parse_group_by(by)
    except BreakdownError as exc:
        fail(str(exc), 2)
    today = cli.today()
    start = parse_day(from_, "--from") or periods.month_start(today)
    end = parse_day(to, "--to") or today
    if end < start:
        fail(f"--to ({end}) is before --from ({start})", 2)
    with cli.store() as store, store.read() as conn:
        result = breakdown(conn, periods.DateRange(start, end), group_by)
    data = result.as_json()
    if json_out:
        print_json(data)
        return
    rows = data["rows"]
    assert isinstance(rows, list)
    types = [t.value for t in UsageType if any(t.value in r["usage"] for r in rows)]
    if csv_out:
        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow([*group_by, "cost_usd", "requests", *types])
        for r in rows:
            writer.writerow(
                [r[g] for g in group_by]
                + [r["cost_usd"], r["requests"]]
                + [r["usage"].get(t, "") for t in types]
            )
        return
    table = Table(title=f"Cost {start} to {end}")
    for g in group_by:
        table.add_column(g)
    table.add_column("cost", justify="right")
    table.add_column("requests", justify="right")
    for r in rows:
        labels = [str(r[g]) or "-" for g in group_by]
        table.add_row(*labels, f"${r['cost_usd']}", str(r["requests"]))
    table.add_row(*["" for _ in group_by], f"${data['total_usd']}", "", style="bold")
    Console().print(table)


@app.command("roi")
def roi_command(
    ctx: typer.Context,
    from_: str | None = typer.Option(None, "--from", help="First day (YYYY-MM-DD)."),
    to: str | None = typer.Option(None, "--to", help="Last day (YYYY-MM-DD), inclusive."),
    json_out: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Cost per outcome by agent and project (default: the last three months)."""
    cli = get(ctx)
    end = parse_day(to, "--to") or cli.today()
    start = parse_day(from_, "--from") or default_period(end).start
    if end < start:
        fail(f"--to ({end}) is before --from ({start})", 2)
    with cli.store() as store, store.read() as conn:
        result = roi(conn, periods.DateRange(start, end))
    if json_out:
        print_json(result.as_json())
        return
    table = Table(title=f"Cost per outcome {start} to {end}")
    for col in ("scope", "metric", "outcomes", "cost", "per outcome", "value"):
        table.add_column(col, justify="left" if col in ("scope", "metric") else "right")
    for r in result.rows:
        cpo = r.cost_per_outcome_nanos
        table.add_row(
            "/".join(x for x in (r.department, r.project, r.agent) if x),
            r.metric,
            str(r.outcomes_milli // 1000) if r.outcomes_milli else "none",
            cents(r.cost_nanos),
            "-" if cpo is None else cents(cpo),
            "-" if r.value_nanos is None else cents(r.value_nanos),
        )
    Console().print(table)
