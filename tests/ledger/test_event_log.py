"""The event log: every filter page by page on both backends, and the indexes behind it."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from alembic import command
from sqlalchemy import Connection, Select, text

from llmledger.ledger import event_log, migrate, partitions, schema
from llmledger.ledger.event import UsageEvent
from llmledger.ledger.recording import record_events
from llmledger.ledger.store import Store
from tests.ledger.factory import random_events

ZONE = ZoneInfo("America/New_York")
#: The indexes migration 0010 adds (column, partial?).
FILTER_INDEXES = {
    "ix_events_project_ts": ("project", False),
    "ix_events_agent_ts": ("agent", False),
    "ix_events_model_ts": ("model_used", False),
    "ix_events_key_ts": ("key_id", True),
    "ix_events_end_user_ts": ("end_user", True),
}
CASES = [
    {"department": "Sales"},
    {"project": "alpha"},
    {"agent": "bot-1"},
    {"key_id": "vk-2"},
    {"end_user": "user-1"},
    {"provider": "anthropic"},
    {"model_used": "gemini-2.5-flash"},
    {"operation": "embeddings"},
    {"status": "blocked"},
    {"department": "Sales", "agent": "bot-1"},
    {"key_id": "vk-1", "status": "settled"},
    {"end_user": "user-0", "status": "settled"},
    {"end_user": "nobody"},
]


def log_events() -> list[UsageEvent]:
    """Random events with keys on most, end users on a quarter, some embeddings, and
    runs of three events at the same microsecond (pages must split such runs by id)."""
    events = random_events(seed=11, count=240)
    for i, event in enumerate(events):
        event.key_id = f"vk-{i % 5}" if i % 7 else ""
        event.end_user = f"user-{i % 3}" if i % 4 == 0 else ""
        event.operation = "embeddings" if i % 9 == 0 else "chat"
        if i % 10 in (1, 2):
            event.ts = events[i - i % 10].ts
    return events


def newest_first(events: list[UsageEvent], filters: dict[str, str]) -> list[str]:
    chosen = [e for e in events if all(getattr(e, k) == v for k, v in filters.items())]
    return [e.id for e in sorted(chosen, key=lambda e: (e.ts_us, e.id), reverse=True)]


def all_pages(conn: Connection, filters: dict[str, str], limit: int) -> list[list[str]]:
    pages: list[list[str]] = []
    before = None
    while True:
        page = event_log.read_page(conn, filters, before=before, limit=limit)
        pages.append([str(row["id"]) for row in page.events])
        if not page.more:
            return pages
        last = page.events[-1]
        before = (int(last["ts_us"]), str(last["id"]))


@pytest.fixture
def logged(store: Store) -> tuple[Store, list[UsageEvent]]:
    events = log_events()
    with store.write() as conn:
        record_events(conn, events, store.zone)
    return store, events


@pytest.mark.parametrize("filters", CASES, ids=lambda f: "+".join(f"{k}={v}" for k, v in f.items()))
def test_each_filter_pages_through_its_events_once_newest_first(
    logged: tuple[Store, list[UsageEvent]], filters: dict[str, str]
) -> None:
    store, events = logged
    expected = newest_first(events, filters)
    with store.read() as conn:
        pages = all_pages(conn, filters, limit=7)
    assert [i for page in pages for i in page] == expected
    assert len(pages) == max(1, -(-len(expected) // 7))
    assert all(len(page) == 7 for page in pages[:-1])
    if filters != {"end_user": "nobody"}:
        assert len(expected) > 7  # every case spans pages


def test_a_period_and_its_usage_lines(logged: tuple[Store, list[UsageEvent]]) -> None:
    store, events = logged
    ordered = sorted(events, key=lambda e: e.ts_us)
    since, until = ordered[50].ts_us, ordered[150].ts_us
    inside = [e for e in events if since <= e.ts_us < until]
    with store.read() as conn:
        page = event_log.read_page(
            conn, {"end_user": "user-2"}, since_us=since, until_us=until, limit=500
        )
    assert [r["id"] for r in page.events] == newest_first(inside, {"end_user": "user-2"})
    for row in page.events:
        event = next(e for e in events if e.id == row["id"])
        assert page.usage.get(event.id, {}) == {
            t.value: int(q * 1000) for t, q in event.usage.items()
        }


def test_an_unknown_column_is_refused() -> None:
    with pytest.raises(ValueError, match="cannot filter events by 'detail'"):
        event_log.page_query({"detail": "x"}, limit=10)


def event_indexes(conn: Connection) -> dict[str, str]:
    """Index name -> definition, for the indexes on ``events`` (not its primary key)."""
    if conn.dialect.name == "sqlite":
        rows = conn.execute(
            text("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'events'")
        )
    else:
        rows = conn.execute(
            text("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'events'")
        )
    return {str(name): str(sql) for name, sql in rows if sql and "pkey" not in str(name)}


def store_at(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> Store:
    url = (
        f"sqlite:///{tmp_path / 'old.db'}"
        if backend == "sqlite"
        else request.getfixturevalue("postgres_url")
    )
    return Store.open(url, ZONE)


@pytest.mark.parametrize(
    "backend", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def test_migration_adds_the_filter_indexes_to_an_existing_store(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    store = store_at(backend, tmp_path, request)
    try:
        migrate.upgrade(store, "0009")
        events = log_events()
        with store.write() as conn:
            record_events(conn, events, store.zone)
            assert not set(FILTER_INDEXES) & set(event_indexes(conn))
        store.upgrade()
        with store.read() as conn:
            found = event_indexes(conn)
            assert set(found) == {ix.name for ix in schema.events.indexes}  # schema.py agrees
            for name, (column, partial) in FILTER_INDEXES.items():
                columns, _, where = found[name].partition(" WHERE ")
                assert columns.endswith(f"({column}, ts_us, status)")
                assert (column in where) == partial and bool(where) == partial
            if backend == "postgresql":  # built in every partition and attached
                assert not invalid_indexes(conn)
            pages = all_pages(conn, {"end_user": "user-1"}, limit=9)
        assert [i for page in pages for i in page] == newest_first(events, {"end_user": "user-1"})
        command.downgrade(migrate.alembic_config(store), "0009")
        with store.read() as conn:
            assert not set(FILTER_INDEXES) & set(event_indexes(conn))
    finally:
        store.close()


def invalid_indexes(conn: Connection) -> list[str]:
    """Indexes on events or its partitions that PostgreSQL does not use (not valid)."""
    rows = conn.execute(
        text(
            "SELECT c.relname FROM pg_index x JOIN pg_class c ON c.oid = x.indexrelid "
            "WHERE NOT x.indisvalid AND c.relname LIKE 'ix_events%' OR (NOT x.indisvalid "
            "AND x.indrelid IN (SELECT inhrelid FROM pg_inherits "
            "WHERE inhparent = 'events'::regclass))"
        )
    )
    return [str(r[0]) for r in rows]


@pytest.mark.postgres
def test_a_cut_off_index_build_is_finished_by_the_next_upgrade(postgres_url: str) -> None:
    """An upgrade stopped after building some partitions' indexes (without blocking
    writes, partition by partition) completes on the next run, and the parents are valid."""
    store = Store.open(postgres_url, ZONE)
    try:
        migrate.upgrade(store, "0009")
        with store.write() as conn:
            partitions.ensure(conn, datetime.now(UTC), ahead=2)
            first = partitions.partitions(conn)[0].name
            # What a run cut off after its first build leaves: the parent index alone
            # (ON ONLY) and one partition's index, built and not yet attached.
            conn.execute(
                text("CREATE INDEX ix_events_agent_ts ON ONLY events (agent, ts_us, status)")
            )
            conn.execute(text(f"CREATE INDEX {first}_agent_ts ON {first} (agent, ts_us, status)"))
        store.upgrade()
        with store.read() as conn:
            assert not invalid_indexes(conn)
            count = len(partitions.partitions(conn))
            children = conn.execute(
                text("SELECT count(*) FROM pg_inherits WHERE inhparent = to_regclass(:n)"),
                {"n": "ix_events_agent_ts"},
            ).scalar_one()
        assert children == count
    finally:
        store.close()


@pytest.mark.postgres
def test_every_partition_has_the_filter_indexes(postgres_store: Store) -> None:
    """Each index is built in every partition, and a partition made later gets its own."""
    with postgres_store.write() as conn:
        partitions.ensure(conn, datetime.now(UTC), ahead=6)
    with postgres_store.read() as conn:
        count = len(partitions.partitions(conn))
        for name in FILTER_INDEXES:
            children = conn.execute(
                text("SELECT count(*) FROM pg_inherits WHERE inhparent = to_regclass(:n)"),
                {"n": name},
            ).scalar_one()
            assert children == count, name


def query_plan(conn: Connection, stmt: Select[tuple[object, ...]]) -> str:
    """SQLite's plan for `stmt`, one step a line."""
    compiled = stmt.compile(dialect=conn.dialect)
    params = compiled.construct_params()
    args = tuple(params[name] for name in compiled.positiontup or ())
    rows = conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {compiled}", args)
    return "\n".join(str(row[3]) for row in rows)


@pytest.mark.parametrize(
    ("filters", "indexes"),
    [
        ({"end_user": "user-1"}, {"ix_events_end_user_ts"}),
        ({"end_user": "user-1", "status": "failed"}, {"ix_events_end_user_ts"}),
        ({"key_id": "vk-1"}, {"ix_events_key_ts"}),
        ({"key_id": "vk-1", "status": "failed"}, {"ix_events_key_ts"}),
        ({"model_used": "gpt-4o"}, {"ix_events_model_ts"}),
        (
            {"department": "Sales", "agent": "bot-1"},
            {"ix_events_department_ts", "ix_events_agent_ts"},
        ),
    ],
)
@pytest.mark.parametrize("before", [None, (1_767_225_600_000_000, "ev-9")], ids=["first", "next"])
def test_sqlite_reads_a_filter_through_its_index(
    sqlite_store: Store, filters: dict[str, str], indexes: set[str], before: tuple[int, str] | None
) -> None:
    """Whichever index the planner picks among the filters' (the store is not analysed,
    as none is in use), it searches it by value, and a next page by time too."""
    stmt = event_log.page_query(filters, before=before, limit=50)
    with sqlite_store.read() as conn:
        plan = query_plan(conn, stmt)
    first = plan.splitlines()[0]
    assert any(first.startswith(f"SEARCH events USING INDEX {ix} (") for ix in indexes), plan
    if before is not None:
        assert "ts_us<?" in first, plan  # the next page starts inside the index
    assert "SCAN events" not in plan, plan
