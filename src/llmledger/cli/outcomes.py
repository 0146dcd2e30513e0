"""``llmledger outcomes``: declare outcome metrics and import counted outcomes."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from llmledger.cli.context import err_console, fail, get, print_json, progress_bar
from llmledger.roi.metrics import MetricError, declare_metric, list_metrics
from llmledger.roi.outcomes import import_outcomes, rows_of

app = typer.Typer(help="Business outcomes (for cost per outcome).", no_args_is_help=True)


@app.command("declare")
def declare_command(
    ctx: typer.Context,
    scope: str = typer.Argument(..., help="department:D, project:D/P or agent:D/P/A"),
    metric: str = typer.Argument(..., help="Metric name, e.g. articles_published."),
    unit: str = typer.Option(..., "--unit", help="What one outcome is, e.g. article."),
    value: str | None = typer.Option(None, "--value", help="USD value of one outcome."),
    description: str = typer.Option("", "--description", help="What is counted."),
    json_out: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Declare (or re-declare) a metric of a scope, with its unit and optional value."""
    cli = get(ctx)
    with cli.store() as store, store.write() as conn:
        try:
            declared = declare_metric(conn, scope, metric, unit, value, description)
        except MetricError as exc:
            fail(str(exc), 2)
    if json_out:
        print_json(declared.as_json())
    else:
        Console(highlight=False).print(
            f"declared {declared.metric} ({declared.unit}) for {declared.scope}"
        )


@app.command("metrics")
def metrics_command(
    ctx: typer.Context, json_out: bool = typer.Option(False, "--json", help="Print JSON.")
) -> None:
    """The declared metrics."""
    with get(ctx).store() as store, store.read() as conn:
        metrics = list_metrics(conn)
    if json_out:
        print_json({"metrics": [m.as_json() for m in metrics]})
        return
    table = Table(title="Outcome metrics")
    for col in ("scope", "metric", "unit", "value per unit"):
        table.add_column(col)
    for m in metrics:
        value = m.as_json().get("value_per_unit_usd")
        table.add_row(m.scope, m.metric, m.unit, f"${value}" if value else "-")
    Console().print(table)


@app.command("import")
def import_command(
    ctx: typer.Context,
    file: Path = typer.Argument(..., exists=True, dir_okay=False, help=".jsonl or .csv"),
    json_out: bool = typer.Option(False, "--json", help="Print the report as JSON."),
) -> None:
    """Import outcomes, deduplicated by id; bad rows are reported by line."""
    cli = get(ctx)
    with cli.store() as store, progress_bar("importing") as bar:
        task = bar.add_task(f"importing {file.name}", total=None)
        try:
            report = import_outcomes(
                rows_of(file),
                store,
                source=f"file:{file.name}",
                progress=lambda n: bar.advance(task, n),
            )
        except ValueError as exc:
            fail(str(exc), 2)
    if json_out:
        print_json(report.as_json())
    else:
        err = err_console()
        for line, message in report.errors[:50]:
            err.print(f"line {line}: {message}", highlight=False)
        Console(highlight=False).print(
            f"read {report.read}, imported {report.imported}, duplicates {report.duplicates}, "
            f"errors {len(report.errors)}"
        )
    if report.errors:
        raise typer.Exit(1)
