"""The outbox: messages in the store, each claimed exactly once by its dedupe key.

`enqueue` inserts with ``ON CONFLICT DO NOTHING`` on the unique dedupe key, so two
replicas (or a restarted process) deciding to send the same message make one row. A
dispatcher takes a due row by a compare-and-set on ``next_attempt_us`` that pushes it a
lease into the future: only one worker wins that update, and a worker that dies holding
the lease lets the row become due again when the lease runs out.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import Connection, func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from llmledger.ledger import schema
from llmledger.ledger.event import to_us
from llmledger.ledger.store import Store
from llmledger.notify.message import Clock, Message

_N = schema.notifications
_A = schema.notification_attempts


@dataclass(frozen=True, slots=True)
class OutboxEntry:
    id: int
    dedupe_key: str
    channel: str
    recipient: str
    subject: str
    payload: dict[str, Any]
    payload_text: str
    created_us: int
    attempts: int
    next_attempt_us: int | None
    sent_us: int | None
    last_error: str | None

    @property
    def state(self) -> str:
        """``sent``, ``pending`` (due now or later) or ``failed`` (given up)."""
        if self.sent_us is not None:
            return "sent"
        return "pending" if self.next_attempt_us is not None else "failed"


@dataclass(frozen=True, slots=True)
class Attempt:
    notification_id: int
    attempt: int
    started_us: int
    finished_us: int
    ok: bool
    error: str | None
    worker: str


def _entry(row: Any) -> OutboxEntry:
    m = row._mapping
    return OutboxEntry(
        id=int(m["id"]),
        dedupe_key=m["dedupe_key"],
        channel=m["channel"],
        recipient=m["recipient"],
        subject=m["subject"],
        payload=orjson.loads(m["payload"]),
        payload_text=m["payload"],
        created_us=int(m["created_us"]),
        attempts=int(m["attempts"]),
        next_attempt_us=m["next_attempt_us"],
        sent_us=m["sent_us"],
        last_error=m["last_error"],
    )


class Outbox:
    """The notification outbox of one store."""

    def __init__(self, store: Store, clock: Clock) -> None:
        self.store = store
        self.clock = clock

    def now_us(self) -> int:
        return to_us(self.clock())

    def enqueue(self, message: Message, conn: Connection | None = None) -> bool:
        """Add `message` unless its dedupe key is already taken; True when it was added."""
        if conn is None:
            with self.store.write() as own:
                return self.enqueue(message, own)
        now = self.now_us()
        values = {
            "dedupe_key": message.dedupe_key,
            "channel": message.channel,
            "recipient": message.recipient,
            "subject": message.subject,
            "payload": message.payload_text(),
            "created_us": now,
            "attempts": 0,
            "next_attempt_us": now,
        }
        maker = pg_insert if self.store.dialect == "postgresql" else sqlite_insert
        stmt = (
            maker(_N)
            .values(**values)
            .on_conflict_do_nothing(index_elements=["dedupe_key"])
            .returning(_N.c.id)
        )
        # RETURNING, not rowcount: PostgreSQL reports no row count for an INSERT that
        # returns its generated id.
        return conn.execute(stmt).first() is not None

    def exists(self, dedupe_key: str) -> bool:
        with self.store.read() as conn:
            found = conn.execute(select(_N.c.id).where(_N.c.dedupe_key == dedupe_key)).first()
        return found is not None

    def get(self, dedupe_key: str) -> OutboxEntry | None:
        with self.store.read() as conn:
            row = conn.execute(select(_N).where(_N.c.dedupe_key == dedupe_key)).first()
        return _entry(row) if row is not None else None

    def entries(self, prefix: str = "", limit: int = 1000) -> list[OutboxEntry]:
        """Messages whose dedupe key starts with `prefix`, oldest first."""
        stmt = select(_N).order_by(_N.c.id).limit(limit)
        if prefix:
            stmt = stmt.where(_N.c.dedupe_key.startswith(prefix, autoescape=True))
        with self.store.read() as conn:
            return [_entry(r) for r in conn.execute(stmt)]

    def keys_ending(self, prefix: str, suffix: str) -> list[str]:
        """Dedupe keys of the form ``prefix...suffix`` (the scheduler's claims)."""
        stmt = select(_N.c.dedupe_key).where(
            _N.c.dedupe_key.startswith(prefix, autoescape=True),
            _N.c.dedupe_key.endswith(suffix, autoescape=True),
        )
        with self.store.read() as conn:
            return list(conn.execute(stmt).scalars())

    def due(self, limit: int = 50) -> list[OutboxEntry]:
        """Unsent messages whose next attempt is due now, oldest first."""
        now = self.now_us()
        stmt = (
            select(_N)
            .where(_N.c.sent_us.is_(None), _N.c.next_attempt_us <= now)
            .order_by(_N.c.next_attempt_us, _N.c.id)
            .limit(limit)
        )
        with self.store.read() as conn:
            return [_entry(r) for r in conn.execute(stmt)]

    def claim(self, entry: OutboxEntry, lease_us: int) -> bool:
        """Take `entry` for one attempt; False when another worker took it first."""
        now = self.now_us()
        stmt = (
            update(_N)
            .where(
                _N.c.id == entry.id,
                _N.c.sent_us.is_(None),
                _N.c.next_attempt_us <= now,
                _N.c.attempts == entry.attempts,
            )
            .values(next_attempt_us=now + lease_us, attempts=_N.c.attempts + 1)
        )
        with self.store.write() as conn:
            return conn.execute(stmt).rowcount == 1

    def record(
        self,
        entry: OutboxEntry,
        *,
        attempt: int,
        started_us: int,
        error: str | None,
        retry_at_us: int | None,
        worker: str,
    ) -> None:
        """Write one attempt's outcome: sent, to retry at `retry_at_us`, or given up."""
        finished = self.now_us()
        with self.store.write() as conn:
            conn.execute(
                _A.insert().values(
                    notification_id=entry.id,
                    attempt=attempt,
                    started_us=started_us,
                    finished_us=finished,
                    ok=error is None,
                    error=error,
                    worker=worker,
                )
            )
            if error is None:
                values: dict[str, Any] = {"sent_us": finished, "next_attempt_us": None}
            else:
                values = {"next_attempt_us": retry_at_us, "last_error": error[:2000]}
            conn.execute(update(_N).where(_N.c.id == entry.id).values(**values))

    def attempts(self, notification_id: int) -> list[Attempt]:
        stmt = select(_A).where(_A.c.notification_id == notification_id).order_by(_A.c.attempt)
        with self.store.read() as conn:
            return [
                Attempt(
                    int(r.notification_id),
                    int(r.attempt),
                    int(r.started_us),
                    int(r.finished_us),
                    bool(r.ok),
                    r.error,
                    r.worker,
                )
                for r in conn.execute(stmt)
            ]

    def counts(self) -> dict[str, int]:
        """Messages by state: sent, pending, failed."""
        state = select(
            func.count().filter(_N.c.sent_us.is_not(None)),
            func.count().filter(_N.c.sent_us.is_(None), _N.c.next_attempt_us.is_not(None)),
            func.count().filter(_N.c.sent_us.is_(None), _N.c.next_attempt_us.is_(None)),
        )
        with self.store.read() as conn:
            row = conn.execute(state).one()
        return {"sent": int(row[0]), "pending": int(row[1]), "failed": int(row[2])}
