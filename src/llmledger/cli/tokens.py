"""``llmledger tokens``: admin API tokens with a role (and an owner's scope)."""

from __future__ import annotations

import typer
from rich.console import Console
from rich.table import Table

from llmledger.cli.context import err_console, fail, get, print_json
from llmledger.guardrails.scopes import ScopeError, parse_scope
from llmledger.ledger import tokens
from llmledger.ledger.audit import record_change
from llmledger.ledger.users import Role

app = typer.Typer(
    help="Admin API tokens: admin, finance, owner (scoped) or viewer.", no_args_is_help=True
)


def _scope_for(role: Role, scope: str) -> str:
    if not scope:
        return ""
    if role is not Role.OWNER:
        fail("--scope: only owner tokens have a scope", 2)
    try:
        parsed = parse_scope(scope)
    except ScopeError as exc:
        fail(str(exc), 2)
    if parsed.kind not in ("department", "project"):
        fail("an owner's scope is department:D or project:D/P", 2)
    return parsed.text


@app.command("create")
def create(
    ctx: typer.Context,
    role_name: str = typer.Option(..., "--role", help="admin, finance, owner or viewer."),
    scope: str = typer.Option("", "--scope", help="Owners only: department:D or project:D/P."),
    name: str = typer.Option("", "--name", help="A name to recognise the token by."),
    json_out: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Issue a token and print it once (only its hash is stored)."""
    cli = get(ctx)
    try:
        role = Role(role_name.strip().lower())
    except ValueError:
        fail(f"--role: one of {', '.join(r.value for r in Role)}", 2)
    scope = _scope_for(role, scope)
    with cli.store() as store, store.write() as conn:
        try:
            token, secret = tokens.create_token(conn, role, scope, name)
        except tokens.TokenError as exc:
            fail(str(exc), 2)
        record_change(conn, "cli", "token.create", token.id, None, token.as_json())
    if json_out:
        print_json({**token.as_json(), "token": secret})
        return
    err_console().print(f"token {token.id} ({token.role}{' ' + token.scope if scope else ''})")
    Console().print(secret, highlight=False)
    err_console().print("[dim]shown once: store it now[/]")


@app.command("list")
def list_command(ctx: typer.Context, json_out: bool = typer.Option(False, "--json")) -> None:
    """Tokens with their prefix, role and scope (never the secret)."""
    cli = get(ctx)
    with cli.store() as store, store.read() as conn:
        found = tokens.list_tokens(conn)
    if json_out:
        print_json({"tokens": [t.as_json() for t in found]})
        return
    table = Table()
    for col in ("id", "prefix", "role", "scope", "name", "revoked"):
        table.add_column(col)
    for t in found:
        table.add_row(
            t.id, t.prefix + "...", t.role.value, t.scope, t.name, "yes" if t.revoked_us else ""
        )
    Console().print(table)


@app.command("revoke")
def revoke(ctx: typer.Context, token_id: str = typer.Argument(...)) -> None:
    """Revoke a token (refused from the next call on)."""
    cli = get(ctx)
    with cli.store() as store, store.write() as conn:
        before = tokens.get_token(conn, token_id)
        if before is None or not tokens.revoke_token(conn, token_id):
            fail(f"no active token {token_id!r}", 1)
        after = tokens.get_token(conn, token_id)
        record_change(
            conn,
            "cli",
            "token.revoke",
            token_id,
            before.as_json(),
            after.as_json() if after else None,
        )
    err_console().print(f"revoked {token_id}")
