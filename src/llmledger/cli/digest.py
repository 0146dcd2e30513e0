"""``llmledger digest``: build the weekly digest, preview it, or send it now."""

from __future__ import annotations

import asyncio
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import aiohttp
import typer
from rich.console import Console

from llmledger.cli.context import fail, get, print_json
from llmledger.ledger.event import to_us
from llmledger.ledger.store import Store
from llmledger.notify.channels import channels_from_settings
from llmledger.notify.dispatcher import Dispatcher, DispatchReport, RetryPolicy
from llmledger.notify.message import system_clock
from llmledger.notify.outbox import Outbox
from llmledger.reports.digest import DigestOptions, build_digest, render_email
from llmledger.reports.schedule import audiences, message_for
from llmledger.reports.weeks import Week, WeekError, parse_week, week_of, weekday_index
from llmledger.settings import Settings


def _send(settings: Settings, store: Store, week: Week, department: str | None) -> DispatchReport:
    """Queue this week's digest for every configured audience (or one department's) and
    deliver it. A manual send has its own dedupe key, so it never stands in for the
    scheduled one."""
    outbox = Outbox(store, system_clock)
    targets = [a for a in audiences(settings) if department is None or a.department == department]
    if not targets:
        fail(
            "nobody to send to: configure \\[notify.smtp] with digest.recipients or "
            "digest.department_owners (or digest.slack / digest.webhook)"
        )
    stamp = to_us(datetime.now(UTC))
    opts = DigestOptions.from_settings(settings)
    for audience in targets:
        with store.read() as conn:
            figures = build_digest(
                conn, week, opts, now=datetime.now(UTC), department=audience.department
            )
        key = f"{audience.dedupe_key(week)}:manual:{stamp}"
        outbox.enqueue(message_for(audience, figures, key, settings))

    async def deliver() -> DispatchReport:
        async with aiohttp.ClientSession() as session:
            channels = channels_from_settings(settings.notify, session)
            policy = RetryPolicy.from_settings(settings.notify)
            return await Dispatcher(outbox, channels, policy).run_once(limit=1000)

    return asyncio.run(deliver())


def digest_command(
    ctx: typer.Context,
    week_text: Annotated[
        str | None,
        typer.Option("--week", help="Week YYYY-Www (default: the last complete week)."),
    ] = None,
    department: Annotated[
        str | None, typer.Option("--department", help="Build (or send) one department's digest.")
    ] = None,
    html: Annotated[
        Path | None, typer.Option("--html", help="Write the HTML email to FILE.")
    ] = None,
    text: Annotated[
        Path | None, typer.Option("--text", help="Write the plain-text email to FILE.")
    ] = None,
    send: Annotated[
        bool, typer.Option("--send", help="Send it now to the configured recipients.")
    ] = False,
    json_out: Annotated[
        bool, typer.Option("--json", help="Print the digest's figures as JSON.")
    ] = False,
) -> None:
    """Build the weekly finance digest; preview it as HTML or text, or send it now."""
    cli = get(ctx)
    settings = cli.settings
    zone = settings.organisation.zone
    start_weekday = weekday_index(settings.digest.week_start)
    try:
        week = (
            parse_week(week_text, start_weekday)
            if week_text
            else week_of(cli.today(), start_weekday).previous()
        )
    except WeekError as exc:
        fail(str(exc), 2)
    with cli.store() as store:
        with store.read() as conn:
            figures = build_digest(
                conn,
                week,
                DigestOptions.from_settings(settings),
                now=datetime.now(UTC),
                department=department,
            )
        mail = render_email(figures, zone_name=settings.organisation.timezone)
        if html is not None:
            html.write_text(mail.html, encoding="utf-8")
        if text is not None:
            text.write_text(mail.text, encoding="utf-8")
        report = _send(settings, store, week, department) if send else None
    if json_out:
        data = figures.as_json()
        if report is not None:
            data["delivery"] = report.as_json()
        print_json(data)
    else:
        console = Console()
        if html is None and text is None and report is None:
            sys.stdout.write(mail.text + "\n")
            sys.stdout.flush()
        console.print(f"[bold]{mail.subject}[/]", highlight=False)
        console.print(f"week {week.label}: {week.start} to {week.end} ({zone.key})")
    if report is not None:
        out = Console(stderr=True)
        out.print(f"sent {len(report.sent)} message(s)", highlight=False)
        for key in report.retrying + report.given_up:
            out.print(f"[yellow]not delivered yet:[/] {key} (see `last_error` in the outbox)")
        if report.retrying or report.given_up:
            raise typer.Exit(1)
