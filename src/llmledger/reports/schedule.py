"""The digest schedule: which weeks are due for whom, claimed once through the outbox.

Each audience (the finance recipients, each department's owners, Slack, the webhook) has
a recipient-list hash. The digest of week W for it is the outbox message with the dedupe
key ``digest:<W>:<hash>``: whichever process inserts that row first has claimed the send,
and every other insert of it (another replica, a restart) is a no-op. At each look the
scheduler finds the last week claimed for the audience and claims every week due since,
up to ``digest.catch_up_weeks``; a week sent more than `LATE_AFTER` past its due time is
marked late. An audience never sent before starts with the latest week due.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import timedelta

from llmledger.ledger.store import Store
from llmledger.notify.message import Clock, Message, email
from llmledger.notify.outbox import Outbox
from llmledger.reports.digest.figures import (
    AnomalySource,
    DigestFigures,
    DigestOptions,
    build_digest,
    no_anomalies,
)
from llmledger.reports.digest.render import render_email
from llmledger.reports.digest.slack import render_slack
from llmledger.reports.weeks import (
    Week,
    WeekError,
    due_at,
    latest_due,
    parse_send_at,
    parse_week,
    weekday_index,
)
from llmledger.settings import Settings

#: A digest sent this long after its due time says it is late.
LATE_AFTER = timedelta(hours=1)


@dataclass(frozen=True, slots=True)
class Audience:
    """Who gets a digest, on which channel, and with what scope (a department or all)."""

    channel: str
    recipients: tuple[str, ...]
    department: str | None = None

    @property
    def name(self) -> str:
        scope = "finance" if self.department is None else f"department:{self.department}"
        return f"{self.channel}:{scope}"

    @property
    def hash(self) -> str:
        """A short, stable hash of the recipient list (and scope), for the dedupe key."""
        scope = self.department if self.department is not None else "*"
        text = "|".join([self.channel, scope, *sorted(r.strip().lower() for r in self.recipients)])
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    def dedupe_key(self, week: Week) -> str:
        return f"digest:{week.label}:{self.hash}"


def audiences(settings: Settings) -> list[Audience]:
    """Every audience the settings name, given that its channel is configured."""
    d, n = settings.digest, settings.notify
    out: list[Audience] = []
    if n.smtp is not None:
        if d.recipients:
            out.append(Audience("email", tuple(d.recipients)))
        for department, owners in sorted(d.department_owners.items()):
            if owners:
                out.append(Audience("email", tuple(owners), department))
    if d.slack and n.slack is not None:
        out.append(Audience("slack", ("slack",)))
    if d.webhook and n.webhook is not None:
        out.append(Audience("webhook", ("webhook",)))
    return out


def message_for(
    audience: Audience, figures: DigestFigures, key: str, settings: Settings
) -> Message:
    """The outbox message that carries `figures` to `audience`."""
    zone = settings.organisation.zone
    send_at = parse_send_at(settings.digest.send_at)
    due = due_at(figures.week, send_at, zone)
    if audience.channel == "email":
        mail = render_email(figures, due=due, zone_name=settings.organisation.timezone)
        return email(key, list(audience.recipients), mail.subject, mail.text, mail.html)
    if audience.channel == "slack":
        payload = render_slack(figures)
        return Message(key, "slack", "slack", str(payload["text"]), payload)
    body = {"event": "digest", "digest": figures.as_json()}
    return Message(key, "webhook", "webhook", f"digest {figures.week.label}", body)


@dataclass(frozen=True, slots=True)
class Claim:
    """A digest this process put in the outbox."""

    week: Week
    audience: Audience
    late: bool
    dedupe_key: str


class DigestScheduler:
    """Decides which weeks are due at `clock()` and claims them in the outbox."""

    def __init__(
        self,
        settings: Settings,
        store: Store,
        outbox: Outbox,
        clock: Clock,
        anomalies: AnomalySource = no_anomalies,
    ) -> None:
        self.settings = settings
        self.store = store
        self.outbox = outbox
        self.clock = clock
        self.anomalies = anomalies
        self.send_at = parse_send_at(settings.digest.send_at)
        self.start_weekday = weekday_index(settings.digest.week_start)
        self.options = DigestOptions.from_settings(settings)

    def _last_claimed(self, audience: Audience) -> Week | None:
        weeks = []
        for key in self.outbox.keys_ending("digest:", f":{audience.hash}"):
            try:
                weeks.append(parse_week(key.split(":")[1], self.start_weekday))
            except (WeekError, IndexError):
                continue
        return max(weeks, default=None)

    def due_weeks(self, audience: Audience) -> list[tuple[Week, bool]]:
        """(week, late) for every week due now and not yet claimed for `audience`."""
        now = self.clock()
        zone = self.settings.organisation.zone
        latest = latest_due(now, self.send_at, zone, self.start_weekday)
        last = self._last_claimed(audience)
        if last is not None and last >= latest:
            return []
        weeks = [latest]
        while (
            last is not None
            and len(weeks) <= self.settings.digest.catch_up_weeks
            and weeks[-1].previous() > last
        ):
            weeks.append(weeks[-1].previous())
        weeks = weeks[: max(1, self.settings.digest.catch_up_weeks)]
        return [(w, now - due_at(w, self.send_at, zone) > LATE_AFTER) for w in reversed(weeks)]

    def build(self, week: Week, department: str | None) -> DigestFigures:
        with self.store.read() as conn:
            return build_digest(
                conn,
                week,
                self.options,
                now=self.clock(),
                department=department,
                anomalies=self.anomalies,
            )

    def run_once(self) -> list[Claim]:
        """Claim every due digest; returns those this call inserted (others: no-ops)."""
        claims: list[Claim] = []
        for audience in audiences(self.settings):
            for week, late in self.due_weeks(audience):
                key = audience.dedupe_key(week)
                if self.outbox.exists(key):
                    continue
                figures = self.build(week, audience.department).marked_late(late)
                message = message_for(audience, figures, key, self.settings)
                if self.outbox.enqueue(message):
                    claims.append(Claim(week, audience, late, key))
        return claims
