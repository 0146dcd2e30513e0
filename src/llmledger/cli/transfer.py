"""``llmledger import`` and ``llmledger export``: usage records in and out."""

from __future__ import annotations

import sys
from collections.abc import Callable
from datetime import date
from enum import StrEnum
from pathlib import Path

import typer

from llmledger.analytics import periods
from llmledger.cli.context import err_console, fail, get, parse_day, print_json, progress_bar
from llmledger.ledger.store import Store
from llmledger.reports import focus
from llmledger.reports.exporter import write_csv
from llmledger.reports.importer import import_rows, rows_of
from llmledger.settings import Settings


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
    parquet: bool = typer.Option(
        False, "--parquet", help="FOCUS as Parquet (also chosen by a .parquet file name)."
    ),
    validate: bool = typer.Option(
        False, "--validate", help="Check the FOCUS file against the specification's rules."
    ),
) -> None:
    """Export usage records with the ledger's cost (default: month to date); with
    ``--format focus``, a FOCUS 1.2 dataset (CSV, or Parquet)."""
    cli = get(ctx)
    as_parquet = parquet or file.lower().endswith(".parquet")
    if fmt is ExportFormat.csv and (as_parquet or validate):
        fail("--parquet and --validate apply to --format focus", 2)
    if fmt is ExportFormat.focus and as_parquet and file == "-":
        fail("Parquet cannot go to standard output: give a file name", 2)
    if validate and file == "-":
        fail("--validate needs a file name", 2)
    today = cli.today()
    start = parse_day(from_, "--from") or periods.month_start(today)
    end = parse_day(to, "--to") or today
    if end < start:
        fail(f"--to ({end}) is before --from ({start})", 2)
    with cli.store() as store, progress_bar("exporting") as bar:
        task = bar.add_task("exporting", total=None)
        advance = lambda n: bar.advance(task, n)  # noqa: E731
        if fmt is ExportFormat.focus:
            count = _export_focus(store, start, end, file, as_parquet, cli.settings, advance)
        elif file == "-":
            count = write_csv(store, start, end, sys.stdout, advance)
        else:
            with open(file, "w", encoding="utf-8", newline="") as out:
                count = write_csv(store, start, end, out, advance)
    kind = "FOCUS rows" if fmt is ExportFormat.focus else "records"
    err_console().print(f"exported {count:,} {kind} ({start} to {end})")
    if validate:
        problems = focus.validate_file(Path(file))
        for problem in problems[:50]:
            err_console().print(f"[red]{problem}[/]", highlight=False)
        if problems:
            fail(f"{len(problems)} FOCUS problem(s) in {file}", 1)
        err_console().print(f"{file}: valid FOCUS {focus.FOCUS_VERSION}")


def _export_focus(
    store: Store,
    start: date,
    end: date,
    file: str,
    as_parquet: bool,
    settings: Settings,
    advance: Callable[[int], None],
) -> int:
    rows = focus.focus_rows(store, start, end, focus.Account.of(settings.organisation.name))
    if as_parquet:
        return focus.write_parquet(rows, file, advance)
    if file == "-":
        return focus.write_csv(rows, sys.stdout, advance)
    with open(file, "w", encoding="utf-8", newline="") as out:
        return focus.write_csv(rows, out, advance)
