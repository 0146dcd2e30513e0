"""Budget alerts: one message per threshold per period, again when a budget blocks, and
when it is projected to exceed before any threshold is crossed.

The check reads every budget's status (the same figures as `budgets list`) and enqueues
messages in the notifications outbox under a key made of the budget, the period and the
event (``budget:<id>:<period start>:<0.8|blocked|projected>``). The outbox refuses a key
it already holds, so a message is sent once per period, across restarts and replicas.
Delivery (with retries) is the dispatcher's: a failing channel never touches the gateway.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime

from llmledger.guardrails.status import BudgetStatus, all_statuses
from llmledger.ledger.store import Store
from llmledger.money import cents
from llmledger.notify.message import Clock, Message, email
from llmledger.notify.outbox import Outbox
from llmledger.settings import Settings

log = logging.getLogger("llmledger.alerts")
CHECK_INTERVAL_S = 5.0


def _events(status: BudgetStatus) -> list[tuple[str, str]]:
    """(event key, headline) for each alert the status calls for now."""
    b = status.budget
    out: list[tuple[str, str]] = []
    limit = b.limit_nanos
    for t in b.thresholds:
        if limit and status.spent_nanos * 1 >= t * limit:
            out.append((format(t, "f"), f"passed {format(t * 100, 'f').rstrip('0').rstrip('.')}%"))
    if status.status == "blocked":
        out.append(("blocked", "is blocked: the limit is reached"))
    elif not out and status.projected_nanos > limit > 0:
        out.append(("projected", f"is projected to exceed its limit ({status.runs_out_on})"))
    return out


def _text(status: BudgetStatus, headline: str, org: str, link: str | None) -> str:
    b = status.budget
    lines = [
        f"{org}: the {b.period.value} budget of {b.scope.text} {headline}.",
        "",
        f"Spent:      {cents(status.spent_nanos)} of {cents(b.limit_nanos)} ({status.percent}%)",
        f"Reserved:   {cents(status.reserved_nanos)} for calls in flight",
        f"Projected:  {cents(status.projected_nanos)} by {status.period_end}",
        f"Enforced:   {'yes, calls are blocked at 100%' if b.enforced else 'no (advisory)'}",
        f"Period:     {status.period_start} to {status.period_end} (exclusive)",
    ]
    if link:
        lines += ["", f"Review or raise the cap: {link.rstrip('/')}/guardrails"]
    return "\n".join(lines)


class BudgetAlerter:
    def __init__(self, settings: Settings, store: Store, outbox: Outbox, clock: Clock) -> None:
        self.settings = settings
        self.store = store
        self.outbox = outbox
        self.clock = clock

    def messages(self, now: datetime) -> list[Message]:
        org = self.settings.organisation
        with self.store.read() as conn:
            statuses = all_statuses(conn, now, org.zone, org.fiscal_year_start_month)
        finance = list(self.settings.digest.recipients)
        link = self.settings.digest.dashboard_url or self.settings.server.public_url
        out: list[Message] = []
        n = self.settings.notify
        for status in statuses:
            b = status.budget
            for event, headline in _events(status):
                key = f"budget:{b.id}:{status.period_start}:{event}"
                subject = f"[llmledger] Budget {b.scope.text} {headline}"
                text = _text(status, headline, org.name, link)
                recipients = sorted(set(b.owners) | set(finance))
                if n.smtp is not None and recipients:
                    out.append(email(f"{key}:email", recipients, subject, text))
                payload = {
                    "type": "budget_alert",
                    "event": event,
                    "text": subject,
                    **status.as_json(),
                }
                if n.webhook is not None:
                    out.append(Message(f"{key}:webhook", "webhook", "webhook", subject, payload))
                if n.slack is not None:
                    out.append(
                        Message(
                            f"{key}:slack",
                            "slack",
                            "slack",
                            subject,
                            {"text": f"{subject}\n{text}"},
                        )
                    )
        return out

    def check(self) -> list[str]:
        """Enqueue what is due now; returns the keys newly enqueued."""
        fresh = []
        for message in self.messages(self.clock()):
            if self.outbox.enqueue(message):
                fresh.append(message.dedupe_key)
        return fresh


async def run_alerts(
    alerter: BudgetAlerter,
    stop: asyncio.Event,
    interval_s: float = CHECK_INTERVAL_S,
    on_enqueued: Callable[[], None] | None = None,
) -> None:
    while not stop.is_set():
        try:
            if await asyncio.to_thread(alerter.check) and on_enqueued:
                on_enqueued()
        except Exception:
            log.exception("budget alert check failed")
        try:
            await asyncio.wait_for(stop.wait(), interval_s)
        except TimeoutError:
            pass
