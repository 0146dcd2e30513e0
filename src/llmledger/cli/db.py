"""``llmledger db``: migrate the store, rebuild the rollups."""

from __future__ import annotations

import typer
from sqlalchemy import func, select

from llmledger.cli.context import err_console, get, progress_bar
from llmledger.ledger import rollups, schema

app = typer.Typer(help="The store: migrations and rollups.", no_args_is_help=True)


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
