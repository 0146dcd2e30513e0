"""The event log: events newest first, filtered by attribution, keyset-paginated.

A page is read on ``(ts_us, id)``: the next page starts just below the last event shown,
so page 10,000 costs what page 1 does (never OFFSET). A filter on a department, project,
agent, key, end user, model or status reads the index ``(column, ts_us, ...)`` from the
newest entry and stops after the page, however rare the value; with several filters the
database reads the most selective of their indexes and checks the others on the rows it
reads (status on the index entry itself: see ``schema``). Provider and operation (a few
values, each a large share of the calls) are read through ``ix_events_ts``: about
``limit / share`` rows a page. See ``docs/dashboard.md``.

The key and the end user are usually empty (no key on an imported record, no end user
on most calls), so their indexes are partial (``WHERE column != ''``). A query may use a
partial index only when its own conditions imply the index's, and neither SQLite nor a
generic PostgreSQL plan proves that ``end_user = ?`` implies ``end_user != ''``: the
query states ``end_user != ''`` beside the filter.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import ColumnElement, Connection, RowMapping, Select, literal_column, select, tuple_

from llmledger.ledger import schema

#: Columns of ``events`` that a page can be filtered on (equality).
FILTERABLE = (
    "department",
    "project",
    "agent",
    "key_id",
    "end_user",
    "provider",
    "model_used",
    "operation",
    "status",
)


@dataclass(frozen=True, slots=True)
class Page:
    """Up to `limit` events newest first; `more` when older ones match too."""

    events: list[RowMapping]
    #: Quantity (thousandths of its unit) per usage type, by event id.
    usage: dict[str, dict[str, int]]
    more: bool


def page_query(
    filters: Mapping[str, str],
    *,
    since_us: int | None = None,
    until_us: int | None = None,
    before: tuple[int, str] | None = None,
    limit: int,
) -> Select[tuple[object, ...]]:
    """The events matching `filters` (column -> value) in ``[since_us, until_us)``,
    strictly older than the position `before` (``(ts_us, id)``), newest first: at most
    `limit` + 1 rows, the last one only telling that there is more."""
    e = schema.events
    conds: list[ColumnElement[bool]] = []
    for name, value in filters.items():
        if name not in FILTERABLE:
            raise ValueError(f"cannot filter events by {name!r}")
        conds.append(e.c[name] == value)
        if value and name in schema.SPARSE_EVENT_COLUMNS:
            conds.append(e.c[name] != literal_column("''"))  # lets its partial index serve
    if since_us is not None:
        conds.append(e.c.ts_us >= since_us)
    if until_us is not None:
        conds.append(e.c.ts_us < until_us)
    if before is not None:
        conds.append(tuple_(e.c.ts_us, e.c.id) < tuple_(*before))
    return select(e).where(*conds).order_by(e.c.ts_us.desc(), e.c.id.desc()).limit(limit + 1)


def read_page(
    conn: Connection,
    filters: Mapping[str, str],
    *,
    since_us: int | None = None,
    until_us: int | None = None,
    before: tuple[int, str] | None = None,
    limit: int,
) -> Page:
    """One page of the event log with each event's usage lines (see `page_query`)."""
    stmt = page_query(filters, since_us=since_us, until_us=until_us, before=before, limit=limit)
    rows = [r._mapping for r in conn.execute(stmt)]
    usage: dict[str, dict[str, int]] = {}
    if rows:
        u = schema.event_usage
        ids = [r["id"] for r in rows[:limit]]
        for line in conn.execute(select(u).where(u.c.event_id.in_(ids))):
            usage.setdefault(line.event_id, {})[line.usage_type] = int(line.quantity_milli)
    return Page(rows[:limit], usage, len(rows) > limit)
