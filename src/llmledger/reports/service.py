"""The server's background sending: the outbox dispatcher and the digest scheduler.

`NotifyService.start()` starts two asyncio tasks on the server's loop; `stop()` ends
them and closes the HTTP session. Both tasks do their store work in threads and their
network work asynchronously, so the gateway never waits on them.
"""

from __future__ import annotations

import asyncio
import logging

import aiohttp

from llmledger.anomalies.runner import AnomalyRunner, DigestAnomalies, run_anomalies
from llmledger.guardrails.alerts import BudgetAlerter, run_alerts
from llmledger.ledger.store import Store
from llmledger.notify.channels import channels_from_settings
from llmledger.notify.dispatcher import Dispatcher, RetryPolicy
from llmledger.notify.message import Clock, system_clock
from llmledger.notify.outbox import Outbox
from llmledger.reports.digest.figures import AnomalySource
from llmledger.reports.schedule import DigestScheduler, audiences
from llmledger.settings import Settings

log = logging.getLogger("llmledger.digest")

#: Seconds between two looks at the digest schedule.
SCHEDULE_INTERVAL_S = 60.0


async def run_scheduler(
    scheduler: DigestScheduler,
    stop: asyncio.Event,
    *,
    interval_s: float = SCHEDULE_INTERVAL_S,
    on_claim: asyncio.Event | None = None,
) -> None:
    """Claim due digests until `stop` is set; sets `on_claim` when it enqueued one."""
    while not stop.is_set():
        try:
            claims = await asyncio.to_thread(scheduler.run_once)
        except Exception:  # a store hiccup must not end the schedule
            log.exception("digest schedule failed")
            claims = []
        for c in claims:
            late = " (late)" if c.late else ""
            log.info("digest %s for %s queued%s", c.week.label, c.audience.name, late)
        if claims and on_claim is not None:
            on_claim.set()
        try:
            await asyncio.wait_for(stop.wait(), timeout=interval_s)
        except TimeoutError:
            pass


class NotifyService:
    """The dispatcher, budget alerts, anomaly detection and the digest scheduler: one thing
    to start and stop."""

    def __init__(
        self,
        settings: Settings,
        store: Store,
        *,
        clock: Clock = system_clock,
        anomalies: AnomalySource | None = None,
        schedule_interval_s: float = SCHEDULE_INTERVAL_S,
        alert_interval_s: float | None = None,
        worker: str | None = None,
    ) -> None:
        self.settings = settings
        self.store = store
        self.clock = clock
        self.outbox = Outbox(store, clock)
        self.scheduler = DigestScheduler(
            settings, store, self.outbox, clock, anomalies or DigestAnomalies(settings)
        )
        self.anomaly_runner = AnomalyRunner(settings, store, self.outbox, clock)
        self.schedule_interval_s = schedule_interval_s
        self.alerter = BudgetAlerter(settings, store, self.outbox, clock)
        self.alert_interval_s = alert_interval_s or settings.notify.budget_check_s
        self.worker = worker
        self.dispatcher: Dispatcher | None = None
        self._session: aiohttp.ClientSession | None = None
        self._stop = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []

    async def start(self) -> None:
        n = self.settings.notify
        self._stop = asyncio.Event()
        self._session = aiohttp.ClientSession()
        self.dispatcher = Dispatcher(
            self.outbox,
            channels_from_settings(n, self._session),
            RetryPolicy.from_settings(n),
            worker=self.worker,
        )
        self._tasks = [
            asyncio.create_task(
                self.dispatcher.run(self._stop, n.poll_interval_s), name="llmledger-dispatcher"
            )
        ]
        dispatcher = self.dispatcher
        self._tasks.append(
            asyncio.create_task(
                run_alerts(self.alerter, self._stop, self.alert_interval_s, dispatcher.wake.set),
                name="llmledger-budget-alerts",
            )
        )
        if self.settings.anomalies.enabled:
            self._tasks.append(
                asyncio.create_task(
                    run_anomalies(
                        self.anomaly_runner,
                        self._stop,
                        self.settings.anomalies.check_interval_s,
                        dispatcher.wake.set,
                    ),
                    name="llmledger-anomalies",
                )
            )
        if audiences(self.settings):
            self._tasks.append(
                asyncio.create_task(
                    run_scheduler(
                        self.scheduler,
                        self._stop,
                        interval_s=self.schedule_interval_s,
                        on_claim=self.dispatcher.wake,
                    ),
                    name="llmledger-digest-schedule",
                )
            )

    async def stop(self) -> None:
        self._stop.set()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []
        if self._session is not None:
            await self._session.close()
            self._session = None
