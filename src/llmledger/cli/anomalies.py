"""``llmledger anomalies``: run the detectors over the data up to now, then list; ack,
resolve and mute."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import typer
from rich.console import Console
from rich.table import Table

from llmledger.anomalies import records
from llmledger.anomalies.runner import AnomalyRunner
from llmledger.cli.context import fail, get, print_json
from llmledger.guardrails.scopes import ScopeError
from llmledger.ledger.event import to_us
from llmledger.money import cents

app = typer.Typer(
    help="Anomalies: spend spikes, modality shifts, new models, runaway agents.",
    invoke_without_command=True,
)


def _day(text: str, name: str) -> datetime:
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        fail(f"{name}: expected a date YYYY-MM-DD, got {text!r}", 2)


@app.callback()
def anomalies(
    ctx: typer.Context,
    since: str | None = typer.Option(
        None, "--since", help="First local date to examine and list (default: 7 days ago)."
    ),
    json_out: bool = typer.Option(False, "--json"),
) -> None:
    """Run the detectors over the data up to now, then list the anomalies since --since."""
    if ctx.invoked_subcommand is not None:
        return
    cli = get(ctx)
    zone = cli.settings.organisation.zone
    day = _day(since, "--since").date() if since else cli.today() - timedelta(days=7)
    start = datetime.combine(day, time(0), zone)
    with cli.store() as store:
        AnomalyRunner(cli.settings, store).run(since=start)
        with store.read() as conn:
            found = records.list_anomalies(conn, since_us=to_us(start))
    if json_out:
        print_json({"anomalies": [a.as_json() for a in found]})
        return
    table = Table(
        "id", "kind", "scope", "started", "observed", "expected", "impact", "status", "what"
    )
    for a in found:
        started = datetime.fromtimestamp(a.started_us / 1e6, UTC).astimezone(zone)
        table.add_row(
            a.id,
            a.kind,
            a.scope,
            started.strftime("%Y-%m-%d %H:%M"),
            cents(a.observed_nanos),
            cents(a.expected_nanos),
            cents(a.impact_nanos),
            a.status,
            a.description,
        )
    Console().print(table if found else f"no anomalies since {day}")


@app.command("ack")
def ack(
    ctx: typer.Context,
    anomaly_id: str = typer.Argument(...),
    note: str = typer.Option(..., "--note", help="Why it is understood (kept in the audit log)."),
    json_out: bool = typer.Option(False, "--json"),
) -> None:
    """Acknowledge an anomaly, with a note."""
    with get(ctx).store() as store, store.write() as conn:
        try:
            a = records.acknowledge(
                conn, anomaly_id, note, actor="cli", now_us=to_us(datetime.now(UTC))
            )
        except LookupError:
            fail(f"no anomaly {anomaly_id!r}", 2)
        except records.AnomalyError as exc:
            fail(str(exc), 2)
    print_json(a.as_json()) if json_out else Console().print(f"{a.id}: {a.status}")


@app.command("resolve")
def resolve(
    ctx: typer.Context,
    anomaly_id: str = typer.Argument(...),
    note: str = typer.Option("", "--note"),
    json_out: bool = typer.Option(False, "--json"),
) -> None:
    """Mark an anomaly resolved."""
    with get(ctx).store() as store, store.write() as conn:
        try:
            a = records.resolve(
                conn, anomaly_id, actor="cli", now_us=to_us(datetime.now(UTC)), note=note or None
            )
        except LookupError:
            fail(f"no anomaly {anomaly_id!r}", 2)
    print_json(a.as_json()) if json_out else Console().print(f"{a.id}: {a.status}")


@app.command("mute")
def mute(
    ctx: typer.Context,
    scope: str = typer.Argument(..., help="org, department:D, project:D/P, agent:D/P/A, key:ID"),
    until: str = typer.Option(..., "--until", help="Last local date muted (YYYY-MM-DD)."),
    reason: str = typer.Option("", "--reason"),
    json_out: bool = typer.Option(False, "--json"),
) -> None:
    """Record no anomaly in SCOPE (and below it) up to and including --until."""
    cli = get(ctx)
    end = datetime.combine(
        _day(until, "--until").date() + timedelta(days=1), time(0), cli.settings.organisation.zone
    )
    with cli.store() as store, store.write() as conn:
        try:
            m = records.mute(
                conn, scope, to_us(end), reason=reason, actor="cli", now_us=to_us(datetime.now(UTC))
            )
        except (ScopeError, records.AnomalyError) as exc:
            fail(str(exc), 2)
    print_json(m.as_json()) if json_out else Console().print(f"{m.scope} muted until {until}")
