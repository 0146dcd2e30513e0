"""``llmledger users``: dashboard users (argon2 passwords, roles, owner scopes)."""

from __future__ import annotations

import os

import typer
from rich.console import Console
from rich.table import Table

from llmledger.cli.context import err_console, fail, get, print_json
from llmledger.guardrails.scopes import ScopeError, parse_scope
from llmledger.ledger.audit import record_change
from llmledger.ledger.users import Role, UserError, create_user, disable_user, list_users

app = typer.Typer(
    help="Dashboard users: admin, finance, owner (scoped) or viewer.", no_args_is_help=True
)


@app.command("create")
def create(
    ctx: typer.Context,
    email: str = typer.Option(..., "--email", help="Sign-in email."),
    role_name: str = typer.Option(..., "--role", help="admin, finance, owner or viewer."),
    scope: str = typer.Option("", "--scope", help="Owners only: department:D or project:D/P."),
    password_env: str | None = typer.Option(
        None, "--password-env", help="Read the password from this environment variable."
    ),
    json_out: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Create a user; the password is asked for (or read from --password-env)."""
    cli = get(ctx)
    try:
        role = Role(role_name.strip().lower())
    except ValueError:
        fail(f"--role: one of {', '.join(r.value for r in Role)}", 2)
    if scope:
        try:
            parsed = parse_scope(scope)
        except ScopeError as exc:
            fail(str(exc), 2)
        if parsed.kind not in ("department", "project"):
            fail("an owner's scope is department:D or project:D/P", 2)
        scope = parsed.text
    if password_env:
        password = os.environ.get(password_env, "")
        if not password:
            fail(f"environment variable {password_env} is empty or not set", 2)
    else:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    with cli.store() as store, store.write() as conn:
        try:
            user = create_user(conn, email, password, role, scope)
        except UserError as exc:
            fail(str(exc), 2)
        record_change(conn, "cli", "user.create", user.id, None, user.as_json())
    if json_out:
        print_json(user.as_json())
        return
    err_console().print(
        f"created {user.role} {user.email} ({user.id})"
        + (f" for {user.scope}" if user.scope else "")
    )


@app.command("list")
def list_command(ctx: typer.Context, json_out: bool = typer.Option(False, "--json")) -> None:
    """Users with their role and scope (never a password hash)."""
    cli = get(ctx)
    with cli.store() as store, store.read() as conn:
        found = list_users(conn)
    if json_out:
        print_json({"users": [u.as_json() for u in found]})
        return
    table = Table()
    for col in ("id", "email", "role", "scope"):
        table.add_column(col)
    for u in found:
        table.add_row(u.id, u.email, u.role.value, u.scope)
    Console().print(table)


@app.command("disable")
def disable(ctx: typer.Context, email: str = typer.Argument(..., help="The user's email.")) -> None:
    """Disable a user: their sessions end at once and they cannot sign in again."""
    cli = get(ctx)
    with cli.store() as store, store.write() as conn:
        user = disable_user(conn, email)
        if user is None:
            fail(f"no active user {email!r}", 1)
        record_change(
            conn,
            "cli",
            "user.disable",
            user.id,
            user.as_json(),
            {**user.as_json(), "disabled": True},
        )
    err_console().print(f"disabled {user.email} ({user.id})")
