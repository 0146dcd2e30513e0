"""What every command needs: the settings, the store, the price catalog, output helpers."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, NoReturn

import orjson
import typer
from pydantic import ValidationError
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from llmledger.ledger.store import Store, StoreError
from llmledger.pricing import PriceCatalog
from llmledger.settings import Settings, SettingsError


@dataclass(slots=True)
class CliContext:
    config: Path | None
    _settings: Settings | None = None

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            try:
                self._settings = Settings.load(self.config)
            except (SettingsError, ValidationError) as exc:
                fail(f"configuration: {exc}")
        return self._settings

    @contextmanager
    def store(self, *, upgrade: bool = True) -> Iterator[Store]:
        settings = self.settings
        try:
            store = Store.open(
                settings.store.url, settings.organisation.zone, pool_size=settings.store.pool_size
            )
        except StoreError as exc:
            fail(str(exc))
        try:
            if upgrade:
                store.upgrade()
            yield store
        finally:
            store.close()

    def catalog(self) -> PriceCatalog:
        return PriceCatalog.build(getattr(self.settings, "pricing", None))

    def today(self) -> date:
        return datetime.now(UTC).astimezone(self.settings.organisation.zone).date()


def get(ctx: typer.Context) -> CliContext:
    obj = ctx.obj
    if not isinstance(obj, CliContext):
        obj = CliContext(config=None)
        ctx.obj = obj
    return obj


def err_console() -> Console:
    return Console(stderr=True)


def fail(message: str, code: int = 1) -> NoReturn:
    err_console().print(f"[bold red]error:[/] {message}", highlight=False)
    raise typer.Exit(code)


def print_json(value: Any) -> None:
    sys.stdout.buffer.write(orjson.dumps(value, option=orjson.OPT_INDENT_2) + b"\n")
    sys.stdout.flush()


def progress_bar(description: str, total: int | None = None) -> Progress:
    """A progress bar on stderr, so that stdout stays clean for --json."""
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=err_console(),
        transient=False,
    )


def parse_day(text: str | None, name: str) -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        fail(f"{name}: expected a date YYYY-MM-DD, got {text!r}", 2)
