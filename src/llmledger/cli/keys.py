"""``llmledger keys``: issue, list and revoke virtual keys."""

from __future__ import annotations

import time

import typer
from rich.console import Console
from rich.table import Table

from llmledger.cli.context import err_console, fail, get, print_json
from llmledger.gateway.revocations import publish_now
from llmledger.ledger import keys
from llmledger.ledger.audit import record_change

app = typer.Typer(help="Virtual keys: one per agent (or project/department).", no_args_is_help=True)


@app.command("create")
def create(
    ctx: typer.Context,
    department: str = typer.Option(..., "--department", help="Department the key bills to."),
    project: str = typer.Option("", "--project", help="Project (optional)."),
    agent: str = typer.Option("", "--agent", help="Agent (optional; needs --project)."),
    name: str = typer.Option("", "--name", help="A name to recognise the key by."),
    models: str = typer.Option("", "--models", help="Allowed models, comma-separated globs."),
    allow_headers: bool = typer.Option(
        False,
        "--allow-attribution-headers",
        help="Let callers refine attribution with X-Project/X-Agent headers.",
    ),
    expires_in_days: int | None = typer.Option(
        None, "--expires-in-days", min=1, max=36500, help="The key stops working after N days."
    ),
    rpm: int | None = typer.Option(
        None, "--rpm", min=1, help="Requests per minute (all replicas together with Redis)."
    ),
    tpm: int | None = typer.Option(
        None, "--tpm", min=1, help="Tokens per minute (all replicas together with Redis)."
    ),
    json_out: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Issue a key and print it once (only its hash is stored)."""
    cli = get(ctx)
    allowed = tuple(m.strip() for m in models.split(",") if m.strip())
    expires_us = (
        time.time_ns() // 1000 + expires_in_days * 86_400_000_000
        if expires_in_days is not None
        else None
    )
    with cli.store() as store, store.write() as conn:
        try:
            key, secret = keys.create_key(
                conn,
                department=department,
                project=project,
                agent=agent,
                name=name,
                allowed_models=allowed,
                allow_attribution_headers=allow_headers,
                expires_us=expires_us,
                rpm_limit=rpm,
                tpm_limit=tpm,
            )
        except ValueError as exc:
            fail(str(exc), 2)
        record_change(conn, "cli", "key.create", key.id, None, key.as_json())
    if json_out:
        print_json(
            {
                "id": key.id,
                "key": secret,
                "department": key.department,
                "project": key.project,
                "agent": key.agent,
            }
        )
        return
    err_console().print(f"key {key.id} for {department}/{project or '-'}/{agent or '-'}")
    Console().print(secret, highlight=False)
    err_console().print("[dim]shown once: store it now[/]")


@app.command("list")
def list_keys(ctx: typer.Context, json_out: bool = typer.Option(False, "--json")) -> None:
    """Keys with their prefix and attribution (never the secret)."""
    cli = get(ctx)
    with cli.store() as store, store.read() as conn:
        found = keys.list_keys(conn)
    if json_out:
        print_json({"keys": [k.as_json() for k in found]})
        return
    table = Table()
    for col in ("id", "prefix", "department", "project", "agent", "revoked"):
        table.add_column(col)
    for k in found:
        table.add_row(
            k.id, k.prefix + "...", k.department, k.project, k.agent, "yes" if k.revoked_us else ""
        )
    Console().print(table)


@app.command("revoke")
def revoke(ctx: typer.Context, key_id: str = typer.Argument(...)) -> None:
    """Revoke a key (every replica refuses it at once with Redis, else within two seconds)."""
    cli = get(ctx)
    with cli.store() as store, store.write() as conn:
        before = keys.find_by_id(conn, key_id)
        if before is None or not keys.revoke_key(conn, key_id):
            fail(f"no active key {key_id!r}", 1)
        after = keys.find_by_id(conn, key_id)
        record_change(
            conn, "cli", "key.revoke", key_id, before.as_json(), after.as_json() if after else None
        )
    redis_url = cli.settings.store.redis_url
    if redis_url and not publish_now(redis_url, key_id):
        err_console().print("Redis cannot be reached: replicas refuse the key within two seconds")
    err_console().print(f"revoked {key_id}")
