"""Reserve before forwarding, settle after (DESIGN invariants 2 and 3).

`reserve` writes the event as ``reserved`` with its worst-case cost and holds that amount
in every budget period of its scope chain, refusing atomically when an enforced budget
cannot hold it. `settle` releases the holds, books the real cost and rolls the event up.
`settle_abandoned` settles reservations left open by a crash at their reserved amount.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, bindparam, delete, func, select, update
from sqlalchemy import exc as sa_exc
from sqlalchemy.dialects import postgresql, sqlite

from llmledger.ledger import queries, schema
from llmledger.ledger.event import (
    EventFlag,
    EventSource,
    EventStatus,
    LineCost,
    UsageEvent,
    from_us,
)
from llmledger.ledger.recording import add_to_delta, event_row, usage_tuples
from llmledger.ledger.rollups import COUNTED_STATUSES, RollupDelta, apply
from llmledger.usage import Usage, UsageType


@dataclass(frozen=True, slots=True)
class Hold:
    """Money held in one budget's current period for one request."""

    budget_id: str
    scope: str
    period_start_us: int
    limit_nanos: int
    enforced: bool
    filters: tuple[tuple[str, str], ...] = ()
    """Rollup filters selecting the scope's spend (to open a period's counter)."""
    first_day: str = ""
    last_day: str = ""
    """The period's local dates, inclusive (to open a period's counter)."""
    opened: bool = False
    """True when the period's counter is known to exist (skips the look-up)."""


@dataclass(frozen=True, slots=True)
class Refusal:
    """Why a reservation was refused: the first enforced budget that could not hold it."""

    hold: Hold
    spent_nanos: int
    reserved_nanos: int


def opening_spend(conn: Connection, hold: Hold) -> int:
    """Spend already booked in the scope and period when its counter opens."""
    filters = dict(hold.filters)
    if "end_user" in filters:
        e = schema.events
        stmt = select(func.coalesce(func.sum(e.c.cost_nanos), 0)).where(
            e.c.end_user == filters["end_user"],
            e.c.ts_us >= hold.period_start_us,
            e.c.status.in_(COUNTED_STATUSES),
        )
        return int(conn.execute(stmt).scalar_one())
    if not hold.first_day:
        return 0
    sums = queries.call_sums(
        conn,
        date.fromisoformat(hold.first_day),
        date.fromisoformat(hold.last_day),
        filters=filters,
    )
    return sums[0].cost_nanos if sums else 0


def _ensure_period(conn: Connection, hold: Hold) -> None:
    bp = schema.budget_periods
    exists = conn.execute(
        select(bp.c.budget_id).where(
            bp.c.budget_id == hold.budget_id, bp.c.period_start_us == hold.period_start_us
        )
    ).first()
    if exists:
        return
    insert = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
    conn.execute(
        insert(bp)
        .values(
            budget_id=hold.budget_id,
            period_start_us=hold.period_start_us,
            spent_nanos=opening_spend(conn, hold),
        )
        .on_conflict_do_nothing()
    )


def open_period(conn: Connection, hold: Hold) -> tuple[int, int]:
    """The (spent, reserved) of `hold`'s period counter, opened first if missing."""
    _ensure_period(conn, hold)
    return _period_state(conn, hold)


_BP = schema.budget_periods
_THIS_PERIOD = (
    _BP.c.budget_id == bindparam("_budget_id"),
    _BP.c.period_start_us == bindparam("_period_start_us"),
)
_INSERT_EVENT = schema.events.insert()
#: Statements with every value a parameter, so each compiles once and is cached.
_TAKE = (
    update(_BP)
    .where(*_THIS_PERIOD)
    .values(reserved_nanos=_BP.c.reserved_nanos + bindparam("_amount"))
)
_TAKE_ENFORCED = _TAKE.where(
    _BP.c.spent_nanos + _BP.c.reserved_nanos + bindparam("_amount") <= bindparam("_limit")
)
_RELEASE = (
    update(_BP)
    .where(*_THIS_PERIOD)
    .values(
        reserved_nanos=_BP.c.reserved_nanos - bindparam("_amount"),
        spent_nanos=_BP.c.spent_nanos + bindparam("_spent"),
    )
)


def _take(conn: Connection, hold: Hold, amount: int) -> bool:
    # The driver directly: this runs for every budget of every call.
    m = _mark(conn)
    sql = (
        f"UPDATE budget_periods SET reserved_nanos = reserved_nanos + {m} "
        f"WHERE budget_id = {m} AND period_start_us = {m}"
    )
    params: tuple[object, ...] = (amount, hold.budget_id, hold.period_start_us)
    if hold.enforced:
        sql += f" AND spent_nanos + reserved_nanos + {m} <= {m}"
        params += (amount, hold.limit_nanos)
    return bool(conn.exec_driver_sql(sql, params).rowcount)


def _period_state(conn: Connection, hold: Hold) -> tuple[int, int]:
    bp = schema.budget_periods
    row = conn.execute(
        select(bp.c.spent_nanos, bp.c.reserved_nanos).where(
            bp.c.budget_id == hold.budget_id, bp.c.period_start_us == hold.period_start_us
        )
    ).one()
    return int(row[0]), int(row[1])


def reserve(conn: Connection, event: UsageEvent, holds: Sequence[Hold]) -> Refusal | None:
    """Record `event` as reserved and hold its reserved amount; None when accepted.

    When refused, the event is recorded as ``blocked`` (one event per call) and nothing
    is held. Holds are taken in budget-id order so concurrent writers lock alike.
    """
    amount = event.reserved_nanos
    taken: list[Hold] = []
    refusal: Refusal | None = None
    for hold in sorted(holds, key=lambda h: h.budget_id):
        if not hold.opened:
            _ensure_period(conn, hold)
        if _take(conn, hold, amount):
            taken.append(hold)
            continue
        spent, reserved = _period_state(conn, hold)
        refusal = Refusal(hold, spent, reserved)
        break
    if refusal is not None:
        for hold in taken:
            _release(conn, hold, amount, 0)
        conn.execute(_INSERT_EVENT, event_row(blocked(event)))
        return refusal
    event.status = EventStatus.RESERVED
    # Values as parameters, not in the statement: one compiled statement, cached (a
    # statement built with `.values(...)` is re-keyed and re-compiled for every event).
    conn.execute(_INSERT_EVENT, event_row(event))
    if taken:
        conn.execute(
            schema.reservation_holds.insert(),
            [
                {
                    "event_id": event.id,
                    "budget_id": h.budget_id,
                    "period_start_us": h.period_start_us,
                    "amount_nanos": amount,
                }
                for h in taken
            ],
        )
    return None


def _release(conn: Connection, hold: Hold, amount: int, spent: int) -> None:
    conn.execute(
        _RELEASE,
        {
            "_budget_id": hold.budget_id,
            "_period_start_us": hold.period_start_us,
            "_amount": amount,
            "_spent": spent,
        },
    )


def _settle_holds(conn: Connection, event_id: str, cost_nanos: int) -> None:
    # The driver directly, three statements whatever the number of budgets: this runs
    # for every call under a budget.
    m = _mark(conn)
    held = _many(
        conn,
        f"DELETE FROM reservation_holds WHERE event_id = {m} "
        f"RETURNING budget_id, period_start_us, amount_nanos",
        [(event_id,)],
        fetch=True,
    )
    if not held:
        return
    held.sort()  # one lock order (budget, period) for concurrent writers
    _many(
        conn,
        f"UPDATE budget_periods SET reserved_nanos = reserved_nanos - {m}, "
        f"spent_nanos = spent_nanos + {m} WHERE budget_id = {m} AND period_start_us = {m}",
        [(amount, cost_nanos, budget_id, start) for budget_id, start, amount in held],
    )


def settle(conn: Connection, event: UsageEvent, zone: ZoneInfo) -> bool:
    """Book the real usage and cost of a reserved event; False if it was not open."""
    # The SET clause comes from the parameters' names: one cached statement.
    result = conn.execute(_SETTLE_EVENT, _settle_values(event))
    if not result.rowcount:
        return False
    _settle_holds(conn, event.id, event.cost_nanos)
    _book(conn, [event], zone)
    return True


#: By id and time: on PostgreSQL the time picks the one monthly partition to look in.
_SETTLE_EVENT = update(schema.events).where(
    schema.events.c.id == bindparam("_event_id"),
    schema.events.c.ts_us == bindparam("_ts_us"),
    schema.events.c.status == EventStatus.RESERVED.value,
)
_IN_CHUNK = 500


def _settle_values(event: UsageEvent) -> dict[str, object]:
    values = event_row(event)
    for key in ("id", "ts_us", "source", "reserved_nanos"):
        values.pop(key)
    values["settled_us"] = None
    values["_event_id"] = event.id
    values["_ts_us"] = event.ts_us
    return values


def settle_many(conn: Connection, events: Sequence[UsageEvent], zone: ZoneInfo) -> list[bool]:
    """`settle` for many events in a few statements (the gateway's group commit);
    for each event, whether it was open and got settled."""
    if len(events) == 1:
        return [settle(conn, events[0], zone)]
    e, rh = schema.events, schema.reservation_holds
    open_ids: set[str] = set()
    by_time = sorted(events, key=lambda ev: ev.ts_us)
    for i in range(0, len(by_time), _IN_CHUNK):
        batch = by_time[i : i + _IN_CHUNK]
        wanted = {(ev.id, ev.ts_us) for ev in batch}
        # FOR UPDATE (PostgreSQL; SQLite has one writer): another replica settling the
        # same reservation (the lease) waits here, then finds it closed, so the check and
        # the executemany below cannot both settle it. The time range keeps the look-up
        # to the monthly partitions the chunk falls in.
        found = conn.execute(
            select(e.c.id, e.c.ts_us)
            .where(
                e.c.id.in_([ev.id for ev in batch]),
                e.c.ts_us >= batch[0].ts_us,
                e.c.ts_us <= batch[-1].ts_us,
                e.c.status == EventStatus.RESERVED.value,
            )
            .order_by(e.c.id)
            .with_for_update()
        )
        open_ids.update(event_id for event_id, ts in found if (event_id, ts) in wanted)
    todo: list[UsageEvent] = []
    done: list[bool] = []
    for ev in events:  # an event listed twice is settled once, as one by one would
        is_open = ev.id in open_ids
        open_ids.discard(ev.id)
        done.append(is_open)
        if is_open:
            todo.append(ev)
    if not todo:
        return done
    # The driver's own executemany: SQLAlchemy's per-row parameter handling is most of
    # the cost of a batch otherwise.
    rows = [_settle_values(ev) for ev in todo]
    names = list(rows[0])
    conn.exec_driver_sql(_settle_sql(conn, names), [tuple(r[n] for n in names) for r in rows])
    cost = {ev.id: ev.cost_nanos for ev in todo}
    held: list[tuple[str, str, int, int]] = []
    todo_ids = list(cost)
    for i in range(0, len(todo_ids), _IN_CHUNK):
        chunk = todo_ids[i : i + _IN_CHUNK]
        held += [
            (r[1], r[0], r[2], r[3])
            for r in conn.execute(
                select(
                    rh.c.event_id, rh.c.budget_id, rh.c.period_start_us, rh.c.amount_nanos
                ).where(rh.c.event_id.in_(chunk))
            )
        ]
    if held:
        held.sort()  # one lock order (budget, period) for concurrent writers
        conn.execute(
            _RELEASE,
            [
                {
                    "_budget_id": budget_id,
                    "_period_start_us": start,
                    "_amount": amount,
                    "_spent": cost[event_id],
                }
                for budget_id, event_id, start, amount in held
            ],
        )
        for i in range(0, len(todo_ids), _IN_CHUNK):
            conn.execute(delete(rh).where(rh.c.event_id.in_(todo_ids[i : i + _IN_CHUNK])))
    _book(conn, todo, zone)
    return done


def _book(conn: Connection, events: Sequence[UsageEvent], zone: ZoneInfo) -> None:
    """The usage lines and rollups of settled events."""
    lines = [line for ev in events for line in usage_tuples(ev)]
    if lines:
        m = _mark(conn)
        _many(
            conn,
            f"INSERT INTO {schema.event_usage.name} (event_id, usage_type, quantity_milli, "
            f"cost_nanos, list_cost_nanos) VALUES ({m}, {m}, {m}, {m}, {m})",
            lines,
        )
    delta = RollupDelta(zone)
    for ev in events:
        add_to_delta(delta, ev)
    apply(conn, delta)


def reserve_many(
    conn: Connection, requests: Sequence[tuple[UsageEvent, Sequence[Hold]]]
) -> list[Refusal | None]:
    """`reserve` for many events: those under no budget are inserted at once."""
    out: list[Refusal | None] = []
    free: list[dict[str, object]] = []
    for event, holds in requests:
        if holds:
            out.append(reserve(conn, event, holds))
        else:
            event.status = EventStatus.RESERVED
            free.append(event_row(event))
            out.append(None)
    _insert(conn, schema.events.name, free)
    return out


@dataclass(frozen=True, slots=True)
class CallWrite:
    """One write of a call decided outside the store (the in-memory counters):
    ``held`` (the reservation, its holds already granted), ``blocked`` or ``settled``."""

    kind: str
    event: UsageEvent
    holds: tuple[Hold, ...] = ()


HELD, BLOCKED, SETTLED = "held", "blocked", "settled"


def blocked(event: UsageEvent) -> UsageEvent:
    """`event` as the record of a call refused by a budget: nothing used, nothing held."""
    event.status = EventStatus.BLOCKED
    event.reserved_nanos = 0
    event.costs = {}
    event.usage = Usage()
    return event


def record_held(conn: Connection, items: Sequence[tuple[UsageEvent, Sequence[Hold]]]) -> None:
    """Write reservations whose holds were already granted: the events as ``reserved``,
    their holds, and the period counters (unconditionally: the decision is made)."""
    for event, _ in items:
        event.status = EventStatus.RESERVED
    _insert(conn, schema.events.name, [event_row(ev) for ev, _ in items])
    holds = [
        (ev.id, h.budget_id, h.period_start_us, ev.reserved_nanos) for ev, hs in items for h in hs
    ]
    if not holds:
        return
    m = _mark(conn)
    _many(
        conn,
        f"INSERT INTO {schema.reservation_holds.name} "
        f"(event_id, budget_id, period_start_us, amount_nanos) VALUES ({m}, {m}, {m}, {m})",
        holds,
    )
    holds.sort(key=lambda h: (h[1], h[2]))  # one lock order for concurrent writers
    _many(
        conn,
        f"UPDATE budget_periods SET reserved_nanos = reserved_nanos + {m} "
        f"WHERE budget_id = {m} AND period_start_us = {m}",
        [(amount, budget_id, start) for _, budget_id, start, amount in holds],
    )


def _many(
    conn: Connection, sql: str, rows: Sequence[tuple[object, ...]], *, fetch: bool = False
) -> list[tuple[Any, ...]]:
    """`sql` for each of `rows`; the driver's cursor directly on SQLite, where the
    per-statement cost of even ``exec_driver_sql`` is most of a budget's share of a call
    (errors still come out as SQLAlchemy's, which the writer classifies). With `fetch`,
    one row of parameters and its result rows (``RETURNING``)."""
    if conn.dialect.name != "sqlite":
        if fetch:
            return [tuple(r) for r in conn.exec_driver_sql(sql, rows[0]).all()]
        conn.exec_driver_sql(sql, list(rows))
        return []
    dbapi = conn.connection.dbapi_connection
    assert dbapi is not None
    cursor = dbapi.cursor()
    try:
        if fetch:
            cursor.execute(sql, rows[0])
            return [tuple(r) for r in cursor.fetchall()]
        cursor.executemany(sql, rows)
        return []
    except conn.dialect.loaded_dbapi.Error as exc:
        raise sa_exc.DBAPIError.instance(
            sql, rows, exc, conn.dialect.loaded_dbapi.Error, dialect=conn.dialect
        ) from exc
    finally:
        cursor.close()


def write_calls(conn: Connection, writes: Sequence[CallWrite], zone: ZoneInfo) -> list[bool]:
    """Write a group of `CallWrite`s in one transaction, in an order that keeps each
    call's reservation before its settlement; for each, whether it was written (a
    settlement of a call no longer open is not).

    A call whose reservation and settlement are both in the group is written once, as
    settled: the same rows as the reservation then its settlement would leave (its holds
    net to the cost added to each period's spend), with one insert instead of an insert,
    an update and the holds' insert and delete."""
    reservations = {w.event.id: w for w in writes if w.kind == HELD}
    both: dict[str, tuple[CallWrite, UsageEvent]] = {}
    for w in writes:
        if w.kind == SETTLED and w.event.id in reservations and w.event.id not in both:
            both[w.event.id] = (reservations[w.event.id], w.event)
    held = [(w.event, w.holds) for w in writes if w.kind == HELD and w.event.id not in both]
    if held:
        record_held(conn, held)
    if both:
        _record_settled(conn, list(both.values()), zone)
    refused = [event_row(w.event) for w in writes if w.kind == BLOCKED]
    if refused:
        _insert(conn, schema.events.name, refused)
    to_settle: list[UsageEvent] = []
    direct: list[bool] = []  # per SETTLED write: written by `_record_settled`
    for w in writes:
        if w.kind != SETTLED:
            continue
        pair = both.get(w.event.id)
        direct.append(pair is not None and pair[1] is w.event)
        if not direct[-1]:
            to_settle.append(w.event)
    settled_apart = iter(settle_many(conn, to_settle, zone) if to_settle else [])
    firsts = iter(direct)
    out: list[bool] = []
    for w in writes:
        if w.kind != SETTLED:
            out.append(True)
        else:
            out.append(True if next(firsts) else next(settled_apart))
    return out


def _record_settled(
    conn: Connection, pairs: Sequence[tuple[CallWrite, UsageEvent]], zone: ZoneInfo
) -> None:
    """Calls reserved and settled in one group: each event inserted as settled (with
    the reservation's amount), each hold's period charged the cost, usage and rollups."""
    rows = []
    spend: list[tuple[int, str, int]] = []
    for reservation, done in pairs:
        row = event_row(done)
        row["reserved_nanos"] = reservation.event.reserved_nanos
        rows.append(row)
        spend += [(done.cost_nanos, h.budget_id, h.period_start_us) for h in reservation.holds]
    _insert(conn, schema.events.name, rows)
    if spend:
        spend.sort(key=lambda r: (r[1], r[2]))  # one lock order for concurrent writers
        m = _mark(conn)
        _many(
            conn,
            f"UPDATE budget_periods SET spent_nanos = spent_nanos + {m} "
            f"WHERE budget_id = {m} AND period_start_us = {m}",
            spend,
        )
    _book(conn, [done for _, done in pairs], zone)


def _insert(conn: Connection, table: str, rows: list[dict[str, object]]) -> None:
    if not rows:
        return
    names = list(rows[0])
    mark = _mark(conn)
    conn.exec_driver_sql(
        f"INSERT INTO {table} ({', '.join(names)}) VALUES ({', '.join([mark] * len(names))})",
        [tuple(r[n] for n in names) for r in rows],
    )


def _mark(conn: Connection) -> str:
    return "%s" if conn.dialect.name == "postgresql" else "?"


def _settle_sql(conn: Connection, names: list[str]) -> str:
    """``UPDATE events SET ... WHERE id = ? AND ts_us = ? AND status = 'reserved'`` for
    `names` (the SET columns, then ``_event_id`` and ``_ts_us``)."""
    mark = _mark(conn)
    sets = ", ".join(f"{n} = {mark}" for n in names if n not in ("_event_id", "_ts_us"))
    assert names[-2:] == ["_event_id", "_ts_us"]
    return (
        f"UPDATE {schema.events.name} SET {sets} "
        f"WHERE id = {mark} AND ts_us = {mark} AND status = '{EventStatus.RESERVED.value}'"
    )


def settle_abandoned(
    conn: Connection, zone: ZoneInfo, older_than_us: int, *, limit: int | None = None
) -> int:
    """Settle reservations opened before `older_than_us` at their reserved amount;
    returns how many this call settled (at most `limit`).

    Spend is never under-counted: the whole reserved amount is booked (as output tokens
    of unknown split would be a guess), flagged ``unsettled``. Safe to run from several
    replicas at once: on PostgreSQL rows another transaction holds are skipped, and
    `settle` books an event only while it is still ``reserved``.
    """
    e = schema.events
    stmt = (
        select(e)
        .where(e.c.status == EventStatus.RESERVED.value, e.c.ts_us < older_than_us)
        .order_by(e.c.id)
        .with_for_update(skip_locked=True)
    )
    if limit is not None:
        stmt = stmt.limit(limit)
    rows = conn.execute(stmt).mappings().all()
    count = 0
    for r in rows:
        event = UsageEvent(
            id=r["id"],
            ts=from_us(r["ts_us"]),
            provider=r["provider"],
            model_requested=r["model_requested"],
            model_used=r["model_used"],
            source=EventSource(r["source"]),
            status=EventStatus.UNSETTLED,
            department=r["department"],
            project=r["project"],
            agent=r["agent"],
            key_id=r["key_id"],
            end_user=r["end_user"],
            operation=r["operation"],
            flags=EventFlag(r["flags"]) | EventFlag.UNSETTLED,
            usage=Usage({UsageType.REQUESTS: Decimal(1)}),
            costs={UsageType.REQUESTS: LineCost(r["reserved_nanos"], r["reserved_nanos"])},
            reserved_nanos=r["reserved_nanos"],
            detail="settled at its reserved amount: the real usage was never seen",
        )
        count += settle(conn, event, zone)
    return count
