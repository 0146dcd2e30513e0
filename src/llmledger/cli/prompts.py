"""``llmledger prompts``: prompt logging rules per scope, stored calls, and the purge."""

from __future__ import annotations

import orjson
import typer
from rich.console import Console
from rich.table import Table

from llmledger.cli.context import err_console, fail, get, print_json
from llmledger.gateway.prompts import merge, settings_rules
from llmledger.guardrails.scopes import ScopeError, parse_scope
from llmledger.ledger import prompts
from llmledger.ledger.audit import record_change

app = typer.Typer(
    help="Prompt logging: off unless switched on for a scope, kept for a retention period.",
    no_args_is_help=True,
)


def _scope(text: str) -> str:
    try:
        scope = parse_scope(text)
    except ScopeError as exc:
        fail(str(exc), 2)
    if scope.kind == "end_user":
        fail("prompt logging is set on org, department:D, project:D/P, agent:D/P/A or key:ID", 2)
    return scope.text


@app.command("list")
def list_rules(
    ctx: typer.Context, json_out: bool = typer.Option(False, "--json", help="Print JSON.")
) -> None:
    """The rules in force: from the settings, and those set here or through the API."""
    cli = get(ctx)
    with cli.store() as store, store.read() as conn:
        stored = prompts.rules(conn)
    merged = merge(settings_rules(cli.settings.gateway), stored)
    rows = [merged[k].as_json() for k in sorted(merged)]
    if json_out:
        print_json({"rules": rows})
        return
    if not rows:
        err_console().print("prompt logging is off for every scope")
        return
    table = Table()
    for col in ("scope", "enabled", "retention_days", "source"):
        table.add_column(col)
    for r in rows:
        table.add_row(*(str(r[c]) for c in ("scope", "enabled", "retention_days", "source")))
    Console().print(table)


@app.command("enable")
def enable(
    ctx: typer.Context,
    scope: str = typer.Argument(..., help="org, department:D, project:D/P, agent:D/P/A, key:ID"),
    retention_days: int | None = typer.Option(
        None,
        "--retention-days",
        min=1,
        max=3650,
        help="Days a stored call is kept (default: gateway.log_prompts_retention_days).",
    ),
) -> None:
    """Store the request and answer of this scope's calls (audited)."""
    cli = get(ctx)
    canonical = _scope(scope)
    days = retention_days or cli.settings.gateway.log_prompts_retention_days
    with cli.store() as store, store.write() as conn:
        prompts.set_rule(conn, "cli", canonical, True, days)
    err_console().print(f"prompt logging on for {canonical}, kept {days} days")


@app.command("disable")
def disable(
    ctx: typer.Context,
    scope: str = typer.Argument(..., help="org, department:D, project:D/P, agent:D/P/A, key:ID"),
) -> None:
    """Store nothing more for this scope (what is stored is kept until its retention)."""
    cli = get(ctx)
    canonical = _scope(scope)
    days = cli.settings.gateway.log_prompts_retention_days
    with cli.store() as store, store.write() as conn:
        before = next((r for r in prompts.rules(conn) if r.scope == canonical), None)
        prompts.set_rule(conn, "cli", canonical, False, before.retention_days if before else days)
    err_console().print(f"prompt logging off for {canonical}")


@app.command("reset")
def reset(
    ctx: typer.Context,
    scope: str = typer.Argument(..., help="org, department:D, project:D/P, agent:D/P/A, key:ID"),
) -> None:
    """Remove the rule set here or through the API; the settings' rule applies again."""
    cli = get(ctx)
    canonical = _scope(scope)
    with cli.store() as store, store.write() as conn:
        if not prompts.reset_rule(conn, "cli", canonical):
            fail(f"no prompt logging rule set for {canonical!r}", 1)
    err_console().print(f"prompt logging rule of {canonical} removed")


@app.command("show")
def show(
    ctx: typer.Context,
    event_id: str = typer.Argument(..., help="The event (request) id."),
    json_out: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """A stored call's request and answer (the read is audited)."""
    cli = get(ctx)
    with cli.store() as store, store.write() as conn:
        row = prompts.find(conn, event_id)
        if row is None:
            fail(f"no stored prompt for event {event_id!r}", 1)
        record_change(conn, "cli", "prompt.read", event_id, None, None)
    out = prompts.as_json(row, cli.settings.organisation.zone)
    if json_out:
        print_json(out)
        return
    console = Console()
    for part in ("request", "response"):
        body = out[part]
        assert isinstance(body, dict)
        cut = " (cut)" if body["truncated"] else ""
        console.rule(f"{part}: {body['bytes']} bytes{cut}")
        console.print(str(body["body"]), markup=False, highlight=False)
    console.print(orjson.dumps({k: out[k] for k in ("event_id", "scope", "expires_at")}).decode())


@app.command("purge")
def purge(
    ctx: typer.Context, json_out: bool = typer.Option(False, "--json", help="Print JSON.")
) -> None:
    """Delete every stored call past its retention now (the server does it periodically)."""
    cli = get(ctx)
    total = 0
    with cli.store() as store:
        while True:
            with store.write() as conn:
                done = prompts.purge(conn)
            total += done
            if done < prompts.PURGE_BATCH:
                break
    if json_out:
        print_json({"deleted": total})
        return
    err_console().print(f"deleted {total} stored prompts past their retention")
