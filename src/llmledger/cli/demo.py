"""``llmledger demo``: a fresh store with a year of a company's usage, served live."""

from __future__ import annotations

import asyncio
import random
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import typer
from rich.console import Console

from llmledger.analytics.summary import summary
from llmledger.cli.context import err_console, fail, print_json, progress_bar
from llmledger.demo.serve import sdk_snippet, serve_demo
from llmledger.demo.setup import Demo, build_demo, demo_settings
from llmledger.guardrails.status import all_statuses
from llmledger.ledger.store import Store


def _figures(demo: Demo, now: datetime) -> dict[str, object]:
    org = demo_settings(demo.store_path, demo.budgets).organisation
    store = Store.open(f"sqlite:///{demo.store_path}", org.zone)
    try:
        with store.read() as conn:
            result = summary(
                conn,
                now.astimezone(org.zone).date(),
                fiscal_start_month=org.fiscal_year_start_month,
                annual_budget_usd=org.annual_budget_usd,
                monthly_budget_usd=org.monthly_budget_usd,
            )
            budgets = all_statuses(conn, now, org.zone, org.fiscal_year_start_month)
    finally:
        store.close()
    data = result.as_json()
    return {
        "ytd": data["ytd"],
        "mtd": data["mtd"],
        "projected_annual_usd": data["projected_annual_usd"],
        "savings_mtd_usd": data["savings_mtd_usd"],
        "budgets": [
            {k: b.as_json()[k] for k in ("scope", "limit_usd", "spent_usd", "percent", "status")}
            for b in budgets
        ],
    }


def demo_command(
    port: int = typer.Option(8080, "--port", help="Port to serve on."),
    host: str = typer.Option("127.0.0.1", "--host", help="Address to serve on."),
    days: int = typer.Option(365, "--days", min=1, max=730, help="Days of history up to now."),
    seed: int | None = typer.Option(None, "--seed", help="Random seed (repeatable data)."),
    store: Path = typer.Option(
        Path("llmledger-demo.db"), "--store", help="SQLite file, replaced on every run."
    ),
    no_serve: bool = typer.Option(False, "--no-serve", help="Generate the store and exit."),
    no_live: bool = typer.Option(False, "--no-live", help="Serve without live traffic."),
    json_out: bool = typer.Option(False, "--json", help="With --no-serve: print JSON."),
    scale: str = typer.Option(
        "1", "--scale", hidden=True, help="Multiply every amount (a small company for tests)."
    ),
) -> None:
    """A fresh demo store with a year of a mid-size company's LLM usage, then serve it."""
    chosen = seed if seed is not None else random.SystemRandom().randrange(1_000_000)
    now = datetime.now(UTC)
    with progress_bar("generating") as bar:
        task = bar.add_task("generating a year of usage", total=None)
        try:
            demo = build_demo(
                store,
                now=now,
                days=days,
                seed=chosen,
                scale=_scale(scale),
                progress=lambda n: bar.advance(task, n),
                on_estimate=lambda total: bar.update(task, total=total),
            )
        except OSError as exc:
            fail(f"cannot write the demo store: {exc}")
        bar.update(task, total=demo.events, completed=demo.events)
    figures = _figures(demo, now)
    if json_out:
        print_json(
            {
                "store": str(demo.store_path),
                "config": str(demo.config_path),
                "seed": demo.seed,
                "events": demo.events,
                "seconds": round(demo.seconds, 1),
                "admin": {"email": demo.admin_email, "password": demo.admin_password},
                "key": {"id": demo.showcase_key.id, "key": demo.showcase_key.secret},
                "organisation": {
                    "fiscal_year_start_month": demo.budgets.fiscal_year_start_month,
                    "annual_budget_usd": str(demo.budgets.annual_budget_usd),
                    "monthly_budget_usd": str(demo.budgets.monthly_budget_usd),
                },
                **figures,
            }
        )
    else:
        _report(demo, figures, f"http://{host}:{port}", serving=not no_serve)
    if no_serve:
        return
    try:
        asyncio.run(serve_demo(demo, host=host, port=port, live=not no_live))
    except KeyboardInterrupt:
        pass


def _scale(text: str) -> Decimal:
    try:
        value = Decimal(text)
    except ArithmeticError:
        fail(f"--scale: not a number: {text!r}", 2)
    if not value.is_finite() or value <= 0:
        fail(f"--scale: must be positive: {text!r}", 2)
    return value


def _usd(amount: object) -> str:
    return f"${Decimal(str(amount)):,.2f}"


def _report(demo: Demo, figures: dict[str, object], url: str, *, serving: bool) -> None:
    err = err_console()
    ytd, mtd = figures["ytd"], figures["mtd"]
    assert isinstance(ytd, dict) and isinstance(mtd, dict)
    err.print(
        f"generated {demo.events:,} events in {demo.seconds:.1f}s (seed {demo.seed}) "
        f"into {demo.store_path}",
        highlight=False,
    )
    err.print(
        f"YTD {_usd(ytd['spend_usd'])} of {_usd(ytd['budget_usd'])} ({ytd['percent']}%), "
        f"MTD {_usd(mtd['spend_usd'])} of {_usd(mtd['budget_usd'])} ({mtd['percent']}%), "
        f"routing savings this month {_usd(figures['savings_mtd_usd'])}",
        highlight=False,
    )
    out = Console(highlight=False, soft_wrap=True)
    if serving:
        out.print(f"\n[bold]llmledger demo[/] on {url}  (Ctrl-C to stop)")
    out.print(f"sign in:     {demo.admin_email} / {demo.admin_password}")
    out.print(
        f"admin token: {demo.admin_token}"
        if serving
        else f"config:      llmledger --config {demo.config_path} budgets list"
    )
    key = demo.showcase_key
    out.print(f"agent key:   {key.secret}  ({key.department}/{key.project}/{key.agent})\n")
    out.print(sdk_snippet(url, demo))
