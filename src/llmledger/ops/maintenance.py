"""Store maintenance: monthly event partitions created ahead (PostgreSQL) and raw-event
retention (``store.retention_months``). Partitions are ensured at startup, before the
gateway serves; a full round then runs in the background at once and every
``store.maintenance_s`` seconds.

Every replica runs it; an advisory lock makes them take turns and the work is
idempotent, so N replicas do it once. It uses its own connection, not the gateway's
writer, so a slow round never holds up a reservation; its lock waits are bounded
(`partitions.LOCK_TIMEOUT`) and a round that fails is tried again at the next one.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime

from llmledger.ledger import partitions, retention
from llmledger.ledger.store import Store

log = logging.getLogger("llmledger.maintenance")


@dataclass(slots=True)
class Maintenance:
    store: Store
    every_s: float
    partitions_ahead: int = 3
    retention_months: int | None = None
    #: Rounds that failed (cumulative), for the metrics.
    failures: int = 0
    _task: asyncio.Task[None] | None = field(default=None, init=False)

    def ensure_partitions(self, now: datetime | None = None) -> list[str]:
        with self.store.write() as conn:
            created = partitions.ensure(conn, now or datetime.now(UTC), ahead=self.partitions_ahead)
        if created:
            log.info("created event partitions %s", ", ".join(created))
        return created

    def run_once(self, now: datetime | None = None) -> None:
        """One round, in two transactions: partitions first (so no insert ever lands
        in the default partition for want of one), then retention."""
        now = now or datetime.now(UTC)
        self.ensure_partitions(now)
        if self.retention_months is None:
            return
        with self.store.write() as conn:
            done = retention.apply(conn, now, self.retention_months, actor="maintenance")
        if done.changed:
            log.warning(
                "retention: raw events before %s removed (%d events, partitions: %s)",
                done.cut.isoformat(),
                done.events_deleted,
                ", ".join(done.partitions_dropped) or "none",
            )

    async def _loop(self) -> None:
        while True:
            try:
                await asyncio.to_thread(self.run_once)
            except Exception:
                self.failures += 1
                log.exception("store maintenance failed; retried next round")
            await asyncio.sleep(self.every_s)

    def start(self) -> None:
        self._task = asyncio.create_task(self._loop(), name="llmledger-maintenance")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
