"""The dispatcher: delivers due outbox messages, with retries and exponential backoff.

It runs as an asyncio task next to the gateway (or once, from the CLI). Store calls run
in worker threads and network calls are asynchronous with timeouts, so the event loop
that serves the gateway is never held up by a slow mail server or receiver.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
from collections.abc import Mapping
from dataclasses import dataclass, field

from llmledger.notify.channels import Channel, DeliveryError
from llmledger.notify.outbox import Outbox, OutboxEntry
from llmledger.settings import NotifySettings

log = logging.getLogger("llmledger.notify")

_US = 1_000_000


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Attempt n (1-based) failing waits ``base * 2**(n-1)`` seconds, at most ``max``."""

    max_attempts: int = 8
    base_s: int = 30
    max_s: int = 3600
    #: How long a claimed message stays taken; longer than any channel's timeout.
    lease_s: int = 300

    @classmethod
    def from_settings(cls, settings: NotifySettings) -> RetryPolicy:
        return cls(settings.max_attempts, settings.retry_base_s, settings.retry_max_s)

    def delay_s(self, attempt: int) -> int:
        return int(min(self.max_s, self.base_s * 2 ** max(0, attempt - 1)))


@dataclass(slots=True)
class DispatchReport:
    sent: list[str] = field(default_factory=list)
    retrying: list[str] = field(default_factory=list)
    given_up: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, list[str]]:
        return {"sent": self.sent, "retrying": self.retrying, "given_up": self.given_up}


def default_worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


class Dispatcher:
    """Delivers the outbox's due messages through `channels` (by channel name)."""

    def __init__(
        self,
        outbox: Outbox,
        channels: Mapping[str, Channel],
        policy: RetryPolicy | None = None,
        *,
        worker: str | None = None,
    ) -> None:
        self.outbox = outbox
        self.channels = dict(channels)
        self.policy = policy or RetryPolicy()
        self.worker = worker or default_worker_name()
        self.wake = asyncio.Event()

    async def run_once(self, limit: int = 50) -> DispatchReport:
        """One pass: every message due now, each delivered at most once by this pass."""
        report = DispatchReport()
        due = await asyncio.to_thread(self.outbox.due, limit)
        for entry in due:
            await self._attempt(entry, report)
        return report

    async def _attempt(self, entry: OutboxEntry, report: DispatchReport) -> None:
        lease_us = self.policy.lease_s * _US
        if not await asyncio.to_thread(self.outbox.claim, entry, lease_us):
            return  # another worker has it
        attempt = entry.attempts + 1
        started = self.outbox.now_us()
        error: str | None = None
        channel = self.channels.get(entry.channel)
        try:
            if channel is None:
                raise DeliveryError(f"channel {entry.channel!r} is not configured")
            await channel.deliver(entry)
        except DeliveryError as exc:
            error = str(exc)
        except Exception as exc:  # a bug in a channel must not stop the others
            log.exception("delivering %s failed unexpectedly", entry.dedupe_key)
            error = f"{type(exc).__name__}: {exc}"
        retry_at: int | None = None
        if error is not None and attempt < self.policy.max_attempts:
            retry_at = self.outbox.now_us() + self.policy.delay_s(attempt) * _US
        await asyncio.to_thread(
            self.outbox.record,
            entry,
            attempt=attempt,
            started_us=started,
            error=error,
            retry_at_us=retry_at,
            worker=self.worker,
        )
        if error is None:
            report.sent.append(entry.dedupe_key)
        elif retry_at is not None:
            log.warning("%s: attempt %d failed (%s); retrying", entry.dedupe_key, attempt, error)
            report.retrying.append(entry.dedupe_key)
        else:
            log.error("%s: giving up after %d attempts: %s", entry.dedupe_key, attempt, error)
            report.given_up.append(entry.dedupe_key)

    async def run(self, stop: asyncio.Event, interval_s: float) -> None:
        """Deliver until `stop` is set, looking at the outbox every `interval_s` or on wake."""
        while not stop.is_set():
            try:
                await self.run_once()
            except Exception:  # the store may be briefly unreachable; try again later
                log.exception("notification dispatch failed")
            self.wake.clear()
            waiters = [asyncio.ensure_future(stop.wait()), asyncio.ensure_future(self.wake.wait())]
            try:
                await asyncio.wait(waiters, timeout=interval_s, return_when=asyncio.FIRST_COMPLETED)
            finally:
                for w in waiters:
                    w.cancel()
                await asyncio.gather(*waiters, return_exceptions=True)
