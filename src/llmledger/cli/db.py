"""``llmledger db``: migrate the store, rebuild the rollups, drop old raw events."""

from __future__ import annotations

from datetime import UTC, datetime

import typer
from sqlalchemy import func, select

from llmledger.cli.context import err_console, fail, get, print_json, progress_bar
from llmledger.ledger import partitions, retention, rollups, schema

app = typer.Typer(help="The store: migrations, rollups, retention.", no_args_is_help=True)


@app.command("upgrade")
def upgrade(ctx: typer.Context) -> None:
    """Create or migrate the store's schema to the newest version (safe to rerun)."""
    cli = get(ctx)
    with cli.store(upgrade=True) as store:
        err_console().print(f"store is up to date ({store.dialect})")


@app.command("rebuild-rollups")
def rebuild_rollups(ctx: typer.Context) -> None:
    """Recompute every rollup from the raw events."""
    cli = get(ctx)
    with cli.store() as store:
        with store.read() as conn:
            total = conn.execute(
                select(func.count())
                .select_from(schema.events)
                .where(schema.events.c.status.in_(rollups.COUNTED_STATUSES))
            ).scalar_one()
        with progress_bar("rebuilding rollups") as bar:
            task = bar.add_task("rebuilding rollups", total=total)
            with store.write() as conn:
                seen = rollups.rebuild(conn, store.zone, progress=lambda n: bar.advance(task, n))
        err_console().print(f"rebuilt rollups from {seen:,} events")


@app.command("retention")
def retention_command(
    ctx: typer.Context,
    keep_months: int | None = typer.Option(
        None,
        "--keep-months",
        min=0,
        help="Months of raw events kept before the current UTC month "
        "(default: store.retention_months).",
    ),
    dry_run: bool = typer.Option(False, "--dry-run", help="Count, change nothing."),
    as_json: bool = typer.Option(False, "--json", help="Print the result as JSON."),
) -> None:
    """Drop raw events older than the kept months (whole partitions on PostgreSQL);
    every rollup, so every finance figure, stays. Audit-logged."""
    cli = get(ctx)
    months = keep_months if keep_months is not None else cli.settings.store.retention_months
    if months is None:
        fail("no retention set: pass --keep-months N or set store.retention_months")
    now = datetime.now(UTC)
    with cli.store() as store:
        with store.write() as conn:
            partitions.ensure(conn, now, ahead=cli.settings.store.partitions_ahead)
        with store.write() as conn:
            done = retention.apply(conn, now, months, actor="cli", dry_run=dry_run)
    if as_json:
        print_json({**done.as_json(), "changed": done.changed})
        return
    if not done.changed:
        err_console().print(f"nothing to do: raw events before {done.cut} are already gone")
        return
    verb = "would remove" if dry_run else "removed"
    err_console().print(
        f"{verb} {done.events_deleted:,} raw events before {done.cut} "
        f"({done.usage_lines_deleted:,} usage lines; partitions dropped: "
        f"{', '.join(done.partitions_dropped) or 'none'}); rollups kept"
    )
