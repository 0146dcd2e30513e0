"""Running the detectors on new data, recording what they find, and alerting.

`AnomalyRunner.run` evaluates every hour from the last one it evaluated (or `since`)
up to the hour in progress, reading the hourly rollups with enough history for the
baseline. Evaluating an hour twice changes nothing (see `records`), so runs may overlap
across restarts and replicas. An anomaly whose dollar impact reaches
``[anomalies] min_impact_usd`` is sent once to the alert channels, through the outbox
under the key ``anomaly:<id>:<channel>``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from sqlalchemy import Connection

from llmledger.analytics.periods import DateRange
from llmledger.anomalies import memos, records
from llmledger.anomalies.baseline import NOISE_DAYS
from llmledger.anomalies.counts import SWING_DAYS
from llmledger.anomalies.engine import Policy, evaluate
from llmledger.anomalies.flags import Flag
from llmledger.anomalies.records import Anomaly
from llmledger.anomalies.series import DAY_H, HOUR_US, WEEK_H, Frame, load_frame
from llmledger.ledger.event import to_us
from llmledger.ledger.store import Store
from llmledger.money import cents, usd_to_nanos
from llmledger.notify.message import Clock, Message, email, system_clock
from llmledger.notify.outbox import Outbox
from llmledger.reports.digest.figures import AnomalyLine
from llmledger.settings import Settings

log = logging.getLogger("llmledger.anomalies")
#: The hour in progress is read once this much of it has passed.
MIN_FRACTION = 0.25
#: Hours looked back on the first run of a process.
FIRST_LOOKBACK_H = 3
#: Records quiet this long are resolved.
QUIET_HOURS = 72


@dataclass(frozen=True, slots=True)
class RunResult:
    hours: int
    flags: int
    touched: list[Anomaly]
    alerts: list[str]


def policy_of(settings: Settings) -> Policy:
    a = settings.anomalies
    return Policy(a.sensitivity, dict(a.scope_sensitivity), a.history_weeks)


class AnomalyRunner:
    def __init__(
        self,
        settings: Settings,
        store: Store,
        outbox: Outbox | None = None,
        clock: Clock = system_clock,
    ) -> None:
        self.settings = settings
        self.store = store
        self.outbox = outbox
        self.clock = clock
        self.policy = policy_of(settings)
        self._next_hour_us: int | None = None
        #: The last run's frame, whose memos of complete hours the next run takes over.
        self.last_frame: Frame | None = None

    def run(self, now: datetime | None = None, since: datetime | None = None) -> RunResult:
        now_us = to_us(now or self.clock())
        current = now_us - now_us % HOUR_US
        fraction = (now_us - current) / HOUR_US
        if since is not None:
            first = to_us(since) - to_us(since) % HOUR_US
        elif self._next_hour_us is not None:
            first = min(self._next_hour_us, current)
        else:
            first = current - FIRST_LOOKBACK_H * HOUR_US
        # the baseline's weeks, the fortnight of its levels, the days of its own past
        # errors (the noise, the day-to-day swing) and the longest window
        past_days = max(NOISE_DAYS, SWING_DAYS) + 2
        history = ((self.policy.weeks + 2) * WEEK_H + past_days * DAY_H) * HOUR_US
        # at midnight UTC, the same for every run of the day (a first run's look-back
        # included), so that the memos carry from one run to the next all day
        start = min(first, current - FIRST_LOOKBACK_H * HOUR_US) - history
        start -= start % (DAY_H * HOUR_US)
        with self.store.read() as conn:
            frame = load_frame(conn, start, current + HOUR_US)
            muted = records.muted_checker(records.active_mutes(conn, now_us))
        memos.carry(self.last_frame, frame)
        last = frame.index(current) if fraction >= MIN_FRACTION else frame.index(current) - 1
        flags: list[Flag] = []
        hours = 0
        for t in range(frame.index(first), last + 1):
            f = fraction if frame.hour_us(t) == current else 1.0
            flags.extend(evaluate(frame, t, self.policy, fraction=f, muted=muted))
            hours += 1
        with self.store.write() as conn:
            touched = records.record_flags(conn, frame, flags, now_us)
            records.resolve_quiet(conn, now_us, QUIET_HOURS)
        alerts = self._alert(touched) if self.outbox is not None else []
        self._next_hour_us = current  # the hour in progress is read again next time
        self.last_frame = frame
        return RunResult(hours, len(flags), touched, alerts)

    def messages(self, anomaly: Anomaly) -> list[Message]:
        s = self.settings
        key = f"anomaly:{anomaly.id}"
        subject = (
            f"[llmledger] Anomaly in {anomaly.scope}: {anomaly.kind.replace('_', ' ')}, "
            f"{cents(anomaly.impact_nanos)} over expected"
        )
        link = s.digest.dashboard_url or s.server.public_url
        lines = [
            f"{s.organisation.name}: {anomaly.description}.",
            "",
            f"Scope:     {anomaly.scope}",
            f"Started:   {anomaly.as_json()['started_at']}",
            f"Observed:  {cents(anomaly.observed_nanos)}",
            f"Expected:  {cents(anomaly.expected_nanos)}",
            f"Impact:    {cents(anomaly.impact_nanos)}",
        ]
        if link:
            lines += ["", f"Review, acknowledge or mute: {link.rstrip('/')}/anomalies"]
        text = "\n".join(lines)
        out: list[Message] = []
        n = s.notify
        recipients = sorted(set(s.anomalies.recipients or s.digest.recipients))
        if n.smtp is not None and recipients:
            out.append(email(f"{key}:email", recipients, subject, text))
        if n.webhook is not None:
            payload = {"type": "anomaly", "text": subject, **anomaly.as_json()}
            out.append(Message(f"{key}:webhook", "webhook", "webhook", subject, payload))
        if n.slack is not None:
            out.append(
                Message(f"{key}:slack", "slack", "slack", subject, {"text": f"{subject}\n{text}"})
            )
        return out

    def _alert(self, touched: Sequence[Anomaly]) -> list[str]:
        assert self.outbox is not None
        floor = usd_to_nanos(self.settings.anomalies.min_impact_usd)
        fresh = []
        for anomaly in touched:
            if anomaly.status != "open" or anomaly.impact_nanos < max(floor, 1):
                continue
            for message in self.messages(anomaly):
                if self.outbox.enqueue(message):
                    fresh.append(message.dedupe_key)
        return fresh

    def check(self) -> list[str]:
        """One periodic run; returns the alert keys newly enqueued."""
        return self.run().alerts


async def run_anomalies(
    runner: AnomalyRunner,
    stop: asyncio.Event,
    interval_s: float,
    on_enqueued: Callable[[], None] | None = None,
) -> None:
    """Run the detectors every `interval_s` until `stop` is set."""
    while not stop.is_set():
        try:
            if await asyncio.to_thread(runner.check) and on_enqueued:
                on_enqueued()
        except Exception:
            log.exception("anomaly detection run failed")
        try:
            await asyncio.wait_for(stop.wait(), interval_s)
        except TimeoutError:
            pass


class DigestAnomalies:
    """The digest's `AnomalySource`: anomalies that started within the week."""

    def __init__(self, settings: Settings, limit: int = 10) -> None:
        self.zone = settings.organisation.zone
        self.limit = limit

    def __call__(
        self, conn: Connection, period: DateRange, department: str | None
    ) -> Sequence[AnomalyLine]:
        start = datetime.combine(period.start, time(0), self.zone)
        end = datetime.combine(period.end + timedelta(days=1), time(0), self.zone)
        found = records.list_anomalies(
            conn, since_us=to_us(start), until_us=to_us(end), department=department, limit=1000
        )
        found = [a for a in found if a.impact_nanos > 0]
        found.sort(key=lambda a: (-a.impact_nanos, a.started_us))
        return [
            AnomalyLine(
                a.kind, a.scope, a.description, a.impact_nanos, str(a.as_json()["started_at"])
            )
            for a in found[: self.limit]
        ]
