"""``llmledger import`` and ``llmledger export``: usage records in and out."""

from __future__ import annotations

import sys
from enum import StrEnum
from pathlib import Path

import typer

from llmledger.analytics import periods
from llmledger.cli.context import err_console, fail, get, parse_day, print_json, progress_bar
from llmledger.reports.exporter import write_csv
from llmledger.reports.importer import import_rows, rows_of


def _count_lines(path: Path) -> int:
    with path.open("rb") as f:
        return sum(buf.count(b"\n") for buf in iter(lambda: f.read(1 << 20), b""))


def import_command(
    ctx: typer.Context,
    file: Path = typer.Argument(..., help="A .jsonl or .csv file of usage records."),
    json_out: bool = typer.Option(False, "--json", help="Print the report as JSON."),
    batch_size: int = typer.Option(10_000, min=1, help="Records committed per transaction."),
) -> None:
    """Import usage records (JSONL or CSV), priced by the catalog, deduplicated by id."""
    cli = get(ctx)
    if not file.is_file():
        fail(f"no such file: {file}", 2)
    if file.suffix.lower() not in (".jsonl", ".ndjson", ".json", ".csv"):
        fail(f"unknown file type {file.suffix!r}: use .jsonl or .csv", 2)
    catalog = cli.catalog()
    total = _count_lines(file)
    with cli.store() as store, progress_bar("importing") as bar:
        task = bar.add_task(f"importing {file.name}", total=total)
        report = import_rows(
            rows_of(file),
            store,
            catalog,
            allow_unpriced=cli.settings.gateway.allow_unpriced,
            batch_size=batch_size,
            progress=lambda n: bar.advance(task, n),
        )
        bar.update(task, completed=total)
    if json_out:
        print_json(report.as_json())
    else:
        console = err_console()
        for line, message in report.errors[:50]:
            console.print(f"line {line}: [red]{message}[/]", highlight=False)
        if len(report.errors) > 50:
            console.print(f"... and {len(report.errors) - 50} more errors")
        console.print(
            f"read {report.read:,}, imported {report.imported:,}, "
            f"duplicates {report.duplicates:,}, errors {len(report.errors):,}, "
            f"unpriced {report.unpriced:,}"
        )
    if report.errors:
        raise typer.Exit(1)


class ExportFormat(StrEnum):
    csv = "csv"
    focus = "focus"


def export_command(
    ctx: typer.Context,
    file: str = typer.Argument(..., help="Output file, or - for standard output."),
    fmt: ExportFormat = typer.Option(ExportFormat.csv, "--format", help="csv or focus."),
    from_: str | None = typer.Option(None, "--from", help="First day (YYYY-MM-DD)."),
    to: str | None = typer.Option(None, "--to", help="Last day (YYYY-MM-DD), inclusive."),
) -> None:
    """Export usage records with the ledger's cost (default: month to date)."""
    cli = get(ctx)
    if fmt is ExportFormat.focus:
        fail("the FOCUS export is not available yet: use --format csv", 2)
    today = cli.today()
    start = parse_day(from_, "--from") or periods.month_start(today)
    end = parse_day(to, "--to") or today
    if end < start:
        fail(f"--to ({end}) is before --from ({start})", 2)
    with cli.store() as store, progress_bar("exporting") as bar:
        task = bar.add_task("exporting", total=None)
        if file == "-":
            count = write_csv(store, start, end, sys.stdout, lambda n: bar.advance(task, n))
        else:
            with open(file, "w", encoding="utf-8", newline="") as out:
                count = write_csv(store, start, end, out, lambda n: bar.advance(task, n))
    err_console().print(f"exported {count:,} records ({start} to {end})")
