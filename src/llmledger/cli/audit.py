"""``llmledger audit``: who changed what (keys, budgets, users, tokens), newest first."""

from __future__ import annotations

from datetime import UTC, datetime

import orjson
import typer
from rich.console import Console
from rich.table import Table

from llmledger.cli.context import get, print_json
from llmledger.ledger.audit import entries


def _when(ts_us: object) -> str:
    return datetime.fromtimestamp(int(str(ts_us)) / 1_000_000, UTC).isoformat()


def audit_command(
    ctx: typer.Context,
    target: str | None = typer.Option(None, "--target", help="Only changes of this id."),
    limit: int = typer.Option(100, "--limit", min=1, max=10_000, help="How many entries."),
    json_out: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """The audit log, newest first."""
    cli = get(ctx)
    with cli.store() as store, store.read() as conn:
        found = entries(conn, target, limit)
    rows = [{**{str(k): v for k, v in e.items()}, "at": _when(e["ts_us"])} for e in found]
    if json_out:
        print_json({"entries": rows})
        return
    table = Table()
    for col in ("at", "actor", "action", "target", "after", "reason"):
        table.add_column(col)
    for r in rows:
        after = orjson.dumps(r["after"]).decode() if r["after"] is not None else ""
        table.add_row(
            str(r["at"]),
            str(r["actor"]),
            str(r["action"]),
            str(r["target"]),
            after[:80],
            str(r["reason"] or ""),
        )
    Console().print(table)
