"""``llmledger budgets``: set, list and raise budgets."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation

import typer
from rich.console import Console
from rich.table import Table

from llmledger.cli.context import fail, get, print_json
from llmledger.guardrails import budgets as bud
from llmledger.guardrails.periods import Period
from llmledger.guardrails.scopes import ScopeError
from llmledger.guardrails.status import all_statuses, budget_status
from llmledger.money import MoneyError

app = typer.Typer(help="Budgets: alerts at thresholds, a hard block at 100%.", no_args_is_help=True)


def _usd(text: str) -> Decimal:
    try:
        value = Decimal(text)
    except InvalidOperation:
        fail(f"--limit: not an amount: {text!r}", 2)
    if not value.is_finite() or value < 0:
        fail(f"--limit: must be a positive amount: {text!r}", 2)
    return value


@app.command("set")
def set_budget(
    ctx: typer.Context,
    scope: str = typer.Argument(..., help="org, department:D, project:D/P, agent:D/P/A, key:ID"),
    limit: str = typer.Option(..., "--limit", help="Limit in USD per period."),
    period: Period = typer.Option(
        Period.MONTH, "--period", help="month, quarter, year, fiscal_year."
    ),
    alert_at: str = typer.Option("0.8,0.9", "--alert-at", help="Alert thresholds (fractions)."),
    enforce: bool = typer.Option(
        True, "--enforce/--advisory", help="Hard block at 100%, or alerts only."
    ),
    owners: str = typer.Option("", "--owners", help="Owners' emails, comma-separated."),
    reason: str = typer.Option("", "--reason", help="Why (kept in the audit log)."),
    json_out: bool = typer.Option(False, "--json"),
) -> None:
    """Set the budget of a scope for a period (creates or changes it)."""
    cli = get(ctx)
    org = cli.settings.organisation
    try:
        thresholds = bud.parse_thresholds(alert_at)
        with cli.store() as store, store.write() as conn:
            budget = bud.set_budget(
                conn,
                scope=scope,
                limit_usd=_usd(limit),
                period=period,
                enforced=enforce,
                thresholds=thresholds,
                owners=[o.strip() for o in owners.split(",") if o.strip()],
                actor="cli",
                reason=reason or None,
            )
            status = budget_status(
                conn, budget, datetime.now(UTC), org.zone, org.fiscal_year_start_month
            )
    except (ScopeError, bud.BudgetError, MoneyError) as exc:
        fail(str(exc), 2)
    if json_out:
        print_json(status.as_json())
    else:
        Console().print(
            f"{budget.id}: {budget.scope.text} ${limit}/{period.value} "
            f"({'enforced' if enforce else 'advisory'})"
        )


@app.command("raise")
def raise_cap(
    ctx: typer.Context,
    budget_id: str = typer.Argument(...),
    limit: str = typer.Option(..., "--limit", help="New limit in USD."),
    reason: str = typer.Option(..., "--reason", help="Why (required; audited)."),
) -> None:
    """Raise (or lower) a budget's cap with a reason; a raised cap unblocks at once."""
    cli = get(ctx)
    try:
        with cli.store() as store, store.write() as conn:
            budget = bud.raise_cap(conn, budget_id, _usd(limit), actor="cli", reason=reason)
    except (bud.BudgetError, MoneyError) as exc:
        fail(str(exc), 2)
    Console().print(f"{budget.id}: cap now ${limit}")


@app.command("list")
def list_budgets(ctx: typer.Context, json_out: bool = typer.Option(False, "--json")) -> None:
    """Budgets with spend, reserved, percent and status."""
    cli = get(ctx)
    org = cli.settings.organisation
    with cli.store() as store, store.read() as conn:
        rows = all_statuses(conn, datetime.now(UTC), org.zone, org.fiscal_year_start_month)
    if json_out:
        print_json({"budgets": [r.as_json() for r in rows]})
        return
    table = Table()
    for col in ("id", "scope", "period", "limit", "spent", "reserved", "%", "status", "projected"):
        table.add_column(col)
    for r in rows:
        j = r.as_json()
        table.add_row(
            str(j["id"]),
            str(j["scope"]),
            str(j["period"]),
            f"${j['limit_usd']}",
            f"${j['spent_usd']}",
            f"${j['reserved_usd']}",
            str(j["percent"]),
            str(j["status"]),
            f"${j['projected_usd']}",
        )
    Console().print(table)
