"""``llmledger prices``: quote the exact cost of a usage."""

from __future__ import annotations

from datetime import UTC, datetime

import typer
from rich.console import Console
from rich.table import Table

from llmledger.cli.context import fail, get, print_json
from llmledger.money import format_usd
from llmledger.pricing import quote_json
from llmledger.usage import Usage, UsageError

app = typer.Typer(help="The price catalog.", no_args_is_help=True)


def parse_usage_option(text: str) -> Usage:
    raw: dict[str, object] = {}
    for part in text.split(","):
        part = part.strip()
        if not part:
            continue
        name, sep, value = part.partition("=")
        if not sep:
            raise UsageError(f"expected type=quantity, got {part!r}")
        raw[name.strip()] = value.strip()
    return Usage.parse(raw)


@app.command("quote")
def quote_command(
    ctx: typer.Context,
    provider: str = typer.Option(..., "--provider", help="openai, anthropic, google, bedrock."),
    model: str = typer.Option(..., "--model", help="Model id as the provider names it."),
    usage: str = typer.Option(..., "--usage", help="e.g. input_tokens=1000,output_tokens=200"),
    at: str | None = typer.Option(None, "--at", help="Price in force at (ISO 8601); now."),
    attributes: str = typer.Option("", "--attr", help="Price attributes: size=1024x1024,..."),
    json_out: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """The exact cost of a usage, with the price lines used."""
    cli = get(ctx)
    try:
        parsed = parse_usage_option(usage)
    except UsageError as exc:
        fail(str(exc), 2)
    moment = datetime.now(UTC)
    if at:
        try:
            moment = datetime.fromisoformat(at.replace("Z", "+00:00"))
        except ValueError:
            fail(f"--at: not ISO 8601: {at!r}", 2)
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
    attrs = dict(p.split("=", 1) for p in attributes.split(",") if "=" in p)
    quote = cli.catalog().quote(parsed, provider, model, moment, attrs)
    data = quote_json(quote)
    if json_out:
        print_json(data)
    else:
        table = Table(title=f"{provider}/{model}")
        for col in ("usage type", "quantity", "unit price (USD)", "per", "cost (USD)"):
            table.add_column(col, justify="right")
        for line in quote.lines:
            table.add_row(
                line.usage_type.value,
                str(line.quantity),
                format(line.unit_price_usd, "f"),
                f"{line.per:,}",
                format_usd(line.cost_nanos),
            )
        Console().print(table)
        Console().print(
            f"total: ${data['total_usd']}" + ("  [red](unpriced)[/]" if data["unpriced"] else "")
        )
    if quote.unpriced:
        raise typer.Exit(3)
