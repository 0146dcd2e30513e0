"""``llmledger reconcile``: import the providers' cost reports and compare them with the
ledger (``reconcile --month YYYY-MM [--json]``, ``reconcile import FILE --provider P``)."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from llmledger.cli.context import err_console, fail, get, print_json
from llmledger.money import cents
from llmledger.reconcile.compare import reconcile
from llmledger.reconcile.formats import FormatError, provider_id
from llmledger.reconcile.store import import_report
from llmledger.web.api.reconcile import parse_tolerance

app = typer.Typer(help="Provider invoices against the ledger.", invoke_without_command=True)


@app.callback()
def reconcile_command(
    ctx: typer.Context,
    month: str | None = typer.Option(None, "--month", help="YYYY-MM (UTC); default last month."),
    tolerance: str = typer.Option("1", "--tolerance", help="Flag days off by more (percent)."),
    provider: str | None = typer.Option(None, "--provider", help="Only this provider."),
    json_out: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Compare the imported provider reports with the ledger, by UTC day, provider, model."""
    if ctx.invoked_subcommand is not None:
        return
    cli = get(ctx)
    if month is None:
        today = cli.today()
        month = (
            f"{today.year:04d}-{today.month - 1:02d}"
            if today.month > 1
            else f"{today.year - 1:04d}-12"
        )
    try:
        fraction = parse_tolerance(tolerance)
        pid = provider_id(provider) if provider else None
        with cli.store() as store, store.read() as conn:
            result = reconcile(conn, month, tolerance=fraction, provider=pid)
    except (ValueError, FormatError) as exc:
        fail(str(exc), 2)
    data = result.as_json()
    if json_out:
        print_json(data)
        return
    out = Console(highlight=False)
    table = Table(title=f"Reconciliation {month} (UTC days, tolerance {tolerance}%)")
    for col in ("provider", "days", "ledger", "invoice", "difference", "%", "credits", "flagged"):
        table.add_column(col, justify="right" if col not in ("provider", "days") else "left")
    for p in result.by_provider():
        table.add_row(
            str(p["provider"]),
            f"{p['from']} – {p['to']}",
            f"${p['ledger_usd']}",
            f"${p['invoice_usd']}",
            f"${p['difference_usd']}",
            str(p["difference_percent"] or "-"),
            f"${p['credits_usd']}",
            str(p["flagged_days"]),
        )
    out.print(table)
    for line in result.days:
        if line.flagged:
            out.print(
                f"[bold]{line.day} {line.provider}[/]: ledger {cents(line.ledger_nanos)}, "
                f"invoice {cents(line.invoice_nanos)}, difference "
                f"{cents(line.difference_nanos)} ({line.difference_percent}%)"
            )
    for cause in result.causes:
        out.print(f"- {cause.message}")
    if not result.coverage:
        out.print(
            "No provider report imported for this month "
            "(llmledger reconcile import FILE --provider P)."
        )


@app.command("import")
def import_command(
    ctx: typer.Context,
    file: Path = typer.Argument(
        ..., exists=True, dir_okay=False, help="The provider's cost report (CSV or JSON)."
    ),
    provider: str = typer.Option(
        ..., "--provider", help="openai, anthropic, bedrock (aws) or google (gemini)."
    ),
    json_out: bool = typer.Option(False, "--json", help="Print the import as JSON."),
) -> None:
    """Import a provider's own cost report; it replaces the provider's days it covers."""
    cli = get(ctx)
    try:
        with cli.store() as store:
            result = import_report(store, provider, file.read_bytes(), source=f"file:{file.name}")
    except (FormatError, OSError) as exc:
        fail(str(exc), 2)
    if json_out:
        print_json(result.as_json())
    else:
        err = err_console()
        for where, message in result.errors[:50]:
            err.print(f"{where}: {message}", highlight=False)
        data = result.as_json()
        Console(highlight=False).print(
            f"{result.provider} ({result.report_format}): {result.rows} rows for "
            f"{data['days']} days {data['from']} – {data['to']}, cost ${data['cost_usd']}, "
            f"credits ${data['credits_usd']}, replaced {result.replaced}, skipped "
            f"{result.skipped} rows of other services, errors {len(result.errors)}"
        )
    if result.errors:
        raise typer.Exit(1)
