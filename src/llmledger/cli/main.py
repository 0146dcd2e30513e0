"""The ``llmledger`` command."""

from __future__ import annotations

from pathlib import Path

import typer

from llmledger.cli import (
    anomalies,
    audit,
    budgets,
    db,
    demo,
    digest,
    keys,
    outcomes,
    prices,
    prompts,
    reconcile,
    report,
    serve,
    tokens,
    transfer,
    users,
)
from llmledger.cli.context import CliContext

app = typer.Typer(
    name="llmledger",
    help="AI FinOps: a metering gateway, an exact ledger, and the finance views on top.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)


@app.callback()
def root(
    ctx: typer.Context,
    config: Path | None = typer.Option(
        None, "--config", envvar="LLMLEDGER_CONFIG", help="Settings file (TOML)."
    ),
) -> None:
    ctx.obj = CliContext(config=config)


app.add_typer(db.app, name="db")
app.add_typer(report.app, name="report")
app.add_typer(prices.app, name="prices")
app.add_typer(keys.app, name="keys")
app.add_typer(budgets.app, name="budgets")
app.add_typer(users.app, name="users")
app.add_typer(tokens.app, name="tokens")
app.add_typer(anomalies.app, name="anomalies")
app.add_typer(outcomes.app, name="outcomes")
app.add_typer(reconcile.app, name="reconcile")
app.add_typer(prompts.app, name="prompts")
app.command("serve")(serve.serve_command)
app.command("demo")(demo.demo_command)
app.command("import")(transfer.import_command)
app.command("export")(transfer.export_command)
app.command("digest")(digest.digest_command)
app.command("audit")(audit.audit_command)


def run() -> None:
    app()
