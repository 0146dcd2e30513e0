"""``llmledger serve``: gateway, admin API and dashboard in one process."""

from __future__ import annotations

import typer
import uvicorn

from llmledger.app import create_app
from llmledger.cli.context import err_console, get


def serve_command(
    ctx: typer.Context,
    host: str | None = typer.Option(None, "--host", help="Address to listen on."),
    port: int | None = typer.Option(None, "--port", help="Port to listen on."),
) -> None:
    """Serve the gateway, the admin API and the dashboard (default 127.0.0.1:8080)."""
    cli = get(ctx)
    settings = cli.settings
    host = host or settings.server.host
    port = settings.server.port if port is None else port
    app = create_app(settings, freeze_heap=True)
    err_console().print(
        f"llmledger serving on http://{host}:{port} (store: {app.runtime.store.dialect})"
    )
    uvicorn.run(
        app,
        host=host,
        port=port,
        loop="uvloop",
        http="httptools",
        lifespan="on",
        access_log=False,
        log_level="warning",
        timeout_graceful_shutdown=30,
    )
