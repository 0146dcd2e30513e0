"""The reservation lease: any live replica settles what a dead one left open.

A reservation is written before its call goes upstream and settled when the call ends.
A replica killed in between leaves it ``reserved``. Once a reservation is older than
the lease (by default the longest call a provider may take, plus a margin) no live call
can still own it, so any replica settles it at its reserved amount, flagged
``unsettled`` (DESIGN invariant 2). Settling is guarded by ``status = 'reserved'``, so
two replicas (or a late settlement of the call itself) never book it twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import UTC, datetime, timedelta

from sqlalchemy import Connection

from llmledger.ledger import reservations
from llmledger.ledger.event import to_us
from llmledger.ledger.writer import LedgerWriter, WriteFailed
from llmledger.settings import Settings

log = logging.getLogger("llmledger.lease")
MARGIN_S = 60.0
#: Most reservations settled in one transaction (the writer's others wait for it).
BATCH = 500


def lease_seconds(settings: Settings) -> float:
    """The configured lease, or the longest provider call timeout plus a margin."""
    if settings.store.lease_s is not None:
        return float(settings.store.lease_s)
    providers = settings.providers
    longest = max(
        float(p.total_timeout_s)
        for p in (providers.openai, providers.anthropic, providers.gemini, providers.bedrock)
    )
    return longest + MARGIN_S


class LeaseKeeper:
    """Looks for abandoned reservations every `every_s` seconds and settles them."""

    def __init__(self, writer: LedgerWriter, lease_s: float, every_s: float) -> None:
        self.writer = writer
        self.lease_s = lease_s
        self.every_s = every_s
        #: Reservations this process settled for a dead replica (or its own past life).
        self.settled = 0
        self._task: asyncio.Task[None] | None = None

    async def run_once(self, now: datetime | None = None) -> int:
        """Settle every reservation older than the lease; returns how many."""
        cutoff = to_us((now or datetime.now(UTC)) - timedelta(seconds=self.lease_s))
        zone = self.writer.store.zone
        total = 0

        def settle(conn: Connection) -> int:
            return reservations.settle_abandoned(conn, zone, cutoff, limit=BATCH)

        while True:
            done: int = await self.writer.submit(settle)
            total += done
            if done < BATCH:
                break
        if total:
            self.settled += total
            log.warning("settled %d reservations abandoned for over %.0fs", total, self.lease_s)
        return total

    async def _loop(self) -> None:
        while True:
            await asyncio.sleep(self.every_s)
            try:
                await self.run_once()
            except WriteFailed:  # the store is away: the next round tries again
                pass
            except Exception:
                log.exception("lease check failed")

    def start(self) -> None:
        self._task = asyncio.create_task(self._loop(), name="llmledger-lease")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
