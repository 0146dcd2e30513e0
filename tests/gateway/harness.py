"""The real product on loopback: `create_app` served by uvicorn in a thread."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import uvicorn
from sqlalchemy import select

from llmledger.app import LedgerApp, create_app
from llmledger.ledger import keys, schema
from llmledger.ledger.store import Store
from llmledger.settings import Settings

ADMIN_TOKEN = "test-admin-token"


@dataclass
class RunningGateway:
    url: str
    app: LedgerApp

    @property
    def store(self) -> Store:
        return self.app.runtime.store

    def key(
        self,
        department: str = "Engineering",
        project: str = "Backend",
        agent: str = "coder",
        **kwargs: Any,
    ) -> str:
        with self.store.write() as conn:
            _, secret = keys.create_key(
                conn, department=department, project=project, agent=agent, **kwargs
            )
        return secret

    def events(self, timeout: float = 10.0) -> list[dict[str, Any]]:
        """Every event, once none is still reserved (settling is asynchronous) and the
        writer has nothing queued (with SQLite a reservation is stored behind its call)."""
        deadline = time.monotonic() + timeout
        while True:
            if self.app.runtime.writer.depth and time.monotonic() < deadline:
                time.sleep(0.02)
                continue
            with self.store.read() as conn:
                rows = [
                    dict(r)
                    for r in conn.execute(
                        select(schema.events).order_by(schema.events.c.ts_us)
                    ).mappings()
                ]
            if all(r["status"] != "reserved" for r in rows) or time.monotonic() > deadline:
                return rows
            time.sleep(0.02)

    def usage_of(self, event_id: str) -> dict[str, int]:
        with self.store.read() as conn:
            return {
                r.usage_type: r.quantity_milli // 1000
                for r in conn.execute(
                    select(schema.event_usage).where(schema.event_usage.c.event_id == event_id)
                )
            }


@contextmanager
def serve(settings: Settings, **overrides: Any) -> Iterator[RunningGateway]:
    app = create_app(settings, **overrides)
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=0,
        lifespan="on",
        log_level="warning",
        loop="asyncio",
        http="h11",
        access_log=False,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="gateway", daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the gateway did not start")
        time.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield RunningGateway(f"http://127.0.0.1:{port}", app)
    finally:
        server.should_exit = True
        thread.join(30)
