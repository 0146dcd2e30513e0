"""The reservation log of a SQLite store: a reservation appended by a process that is
then killed (SIGKILL) before the store has it is recovered at the next startup and
booked at its reserved amount; a segment a live process holds is left alone."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from sqlalchemy import select

from llmledger.guardrails.book import BudgetBook
from llmledger.guardrails.budgets import set_budget
from llmledger.ledger import reservations, schema
from llmledger.ledger.event import EventFlag, EventSource, EventStatus, UsageEvent, to_us
from llmledger.ledger.journal import event_json
from llmledger.ledger.reservation_log import (
    ReservationLog,
    log_base,
    recover,
    reservation_line,
)
from llmledger.ledger.store import Store
from llmledger.usage import Usage
from tests.conftest import ZONE

NOW = datetime.now(UTC)
AMOUNT = 12_345_000


def event(i: int) -> UsageEvent:
    return UsageEvent(
        id=f"call-{i}",
        ts=NOW,
        provider="openai",
        model_requested="gpt-4o",
        model_used="gpt-4o",
        source=EventSource.GATEWAY,
        status=EventStatus.RESERVED,
        department="Marketing",
        project="SEO",
        agent="seo-agent",
        key_id="key_1",
        end_user="",
        operation="chat",
        usage=Usage(),
        reserved_nanos=AMOUNT,
    )


def budget_holds(store: Store) -> list[reservations.Hold]:
    with store.write() as conn:
        set_budget(conn, scope="agent:Marketing/SEO/seo-agent", limit_usd=Decimal("100"))
        set_budget(conn, scope="org", limit_usd=Decimal("1000"))
    book = BudgetBook(store, ZONE)
    book.load()
    holds = book.holds(["org", "agent:Marketing/SEO/seo-agent"], NOW)
    with store.write() as conn:  # the counters open before any hold, as the gateway does
        for h in holds:
            reservations.open_period(conn, h)
    return holds


def counters(store: Store) -> list[tuple[int, int]]:
    bp = schema.budget_periods
    with store.read() as conn:
        return [
            (int(s), int(r)) for s, r in conn.execute(select(bp.c.spent_nanos, bp.c.reserved_nanos))
        ]


def test_a_reservation_logged_by_a_killed_process_is_booked(
    sqlite_store: Store, tmp_path: Path
) -> None:
    holds = budget_holds(sqlite_store)
    base = log_base(sqlite_store.url)
    assert base is not None
    lines = [reservation_line(event_json(event(i)), holds) for i in range(5)]
    # Another process appends five reservations, then is killed before any reaches the
    # store (no writer ever runs there), the last line torn mid-write.
    script = textwrap.dedent(
        f"""
        import os, signal, sys
        from pathlib import Path
        import orjson
        from llmledger.ledger.reservation_log import ReservationLog
        log = ReservationLog(Path({str(base)!r}))
        for i, line in enumerate(orjson.loads(sys.stdin.buffer.read())):
            log.append(f"call-{{i}}", line)
        os.write(log._current.fd, b'{{"event": {{"id": "torn')
        os.kill(os.getpid(), signal.SIGKILL)
        """
    )
    import orjson

    done = subprocess.run(
        [sys.executable, "-c", script], input=orjson.dumps(lines), capture_output=True
    )
    assert done.returncode == -9, done.stderr.decode()
    segments = list(base.parent.glob(f"{base.name}.reservations.*"))
    assert len(segments) == 1

    assert recover(sqlite_store, base) == 5
    assert not list(base.parent.glob(f"{base.name}.reservations.*"))
    with sqlite_store.read() as conn:
        rows = conn.execute(select(schema.events.c.id, schema.events.c.status)).all()
    assert sorted(rows) == [(f"call-{i}", "reserved") for i in range(5)]
    assert counters(sqlite_store) == [(0, 5 * AMOUNT)] * 2  # held in both budgets

    # Startup then settles them at their reserved amount, flagged: never under-counted.
    with sqlite_store.write() as conn:
        settled = reservations.settle_abandoned(conn, ZONE, to_us(NOW + timedelta(seconds=1)))
    assert settled == 5
    with sqlite_store.read() as conn:
        rows = conn.execute(
            select(schema.events.c.status, schema.events.c.cost_nanos, schema.events.c.flags)
        ).all()
    assert {(s, c) for s, c, _ in rows} == {("unsettled", AMOUNT)}
    assert all(f & EventFlag.UNSETTLED for _, _, f in rows)
    assert counters(sqlite_store) == [(5 * AMOUNT, 0)] * 2

    # Recovering again books nothing twice.
    assert recover(sqlite_store, base) == 0


def test_a_reservation_the_store_already_holds_is_not_written_again(
    sqlite_store: Store,
) -> None:
    holds = budget_holds(sqlite_store)
    base = log_base(sqlite_store.url)
    assert base is not None
    ev = event(1)
    with sqlite_store.write() as conn:
        reservations.record_held(conn, [(ev, holds)])
    path = base.with_name(f"{base.name}.reservations.999999.1")
    path.write_bytes(
        __import__("orjson").dumps(reservation_line(event_json(event(1)), holds)) + b"\n"
    )
    assert recover(sqlite_store, base) == 0
    assert not path.exists()
    assert counters(sqlite_store) == [(0, AMOUNT)] * 2


def test_a_live_process_keeps_its_segments(sqlite_store: Store) -> None:
    holds = budget_holds(sqlite_store)
    base = log_base(sqlite_store.url)
    assert base is not None
    log = ReservationLog(base, segment_bytes=400)  # a new segment every line or so
    for i in range(3):
        log.append(f"call-{i}", reservation_line(event_json(event(i)), holds))
    live = sorted(base.parent.glob(f"{base.name}.reservations.{os.getpid()}.*"))
    assert len(live) >= 2
    assert recover(sqlite_store, base) == 0  # locked: not another process's leftovers
    assert sorted(base.parent.glob(f"{base.name}.reservations.*")) == live
    # Once the store has every reservation of a full segment, the segment goes.
    log.committed(["call-0", "call-1", "call-2"])
    left = sorted(base.parent.glob(f"{base.name}.reservations.*"))
    assert len(left) <= 1 and log.pending == 0
    log.close()
    assert not list(base.parent.glob(f"{base.name}.reservations.*"))
