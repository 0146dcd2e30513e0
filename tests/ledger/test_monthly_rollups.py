"""Monthly rollups: each month is the sum of its days, every write path keeps them, and a
period read from whole months plus (or minus) edge days equals a sum over the events."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Connection, func, select, text

from llmledger.analytics.summary import summary
from llmledger.ledger import migrate, queries, reservations, rollups, schema
from llmledger.ledger.event import EventSource, EventStatus, LineCost, UsageEvent
from llmledger.ledger.recording import record_events
from llmledger.ledger.store import Store
from llmledger.usage import Usage, UsageType
from tests.ledger.factory import random_events
from tests.ledger.test_rollups import snapshot

FIRST_DAY = date(2025, 12, 20)  # the factory's events start on 1 Jan 2026 (UTC), +400 days
LAST_DAY = date(2027, 2, 20)
#: A whole-hour zone with daylight saving, and one 5:45 ahead of UTC.
ZONES = ("America/New_York", "Asia/Kathmandu")
_COLUMN = {"key": "key_id"}
_GROUPS = ("department", "project", "agent", "key_id", "provider", "model", "day", "month")


def open_store(path: Path, zone: str) -> Store:
    store = Store.open(f"sqlite:///{path}", ZoneInfo(zone))
    store.upgrade()
    return store


def counted(events: Sequence[UsageEvent]) -> list[UsageEvent]:
    return [e for e in events if e.status.value in rollups.COUNTED_STATUSES]


def group_key(ev: UsageEvent, zone: ZoneInfo, group_by: Sequence[str]) -> tuple[str, ...]:
    day = ev.ts.astimezone(zone).date().isoformat()
    values = {
        "department": ev.department,
        "project": ev.project,
        "agent": ev.agent,
        "key_id": ev.key_id,
        "provider": ev.provider,
        "model": ev.model_used,
        "day": day,
        "month": day[:7],
    }
    return tuple(values[g] for g in group_by)


def in_period(ev: UsageEvent, zone: ZoneInfo, start: date, end: date) -> bool:
    return start <= ev.ts.astimezone(zone).date() <= end


def calls_from_events(
    events: Sequence[UsageEvent],
    zone: ZoneInfo,
    start: date,
    end: date,
    group_by: Sequence[str],
    filters: dict[str, str],
) -> list[queries.CallSums]:
    sums: dict[tuple[str, ...], list[int]] = defaultdict(lambda: [0] * 7)
    for ev in counted(events):
        if not in_period(ev, zone, start, end):
            continue
        if any(group_key(ev, zone, [k])[0] != v for k, v in filters.items()):
            continue
        row = sums[group_key(ev, zone, group_by)]
        routed = bool(ev.routed_from)
        unpriced = bool(int(ev.flags) & 1)
        for i, v in enumerate(
            (
                1,
                ev.cost_nanos,
                ev.list_cost_nanos,
                int(unpriced),
                int(routed),
                ev.cost_nanos if routed else 0,
                (ev.requested_cost_nanos or 0) if routed else 0,
            )
        ):
            row[i] += v
    return [queries.CallSums(k, *v) for k, v in sorted(sums.items())]


def usage_from_events(
    events: Sequence[UsageEvent],
    zone: ZoneInfo,
    start: date,
    end: date,
    group_by: Sequence[str],
    filters: dict[str, str],
) -> list[queries.UsageSums]:
    sums: dict[tuple[tuple[str, ...], str], list[int]] = defaultdict(lambda: [0, 0, 0])
    for ev in counted(events):
        if not in_period(ev, zone, start, end):
            continue
        if any(group_key(ev, zone, [k])[0] != v for k, v in filters.items()):
            continue
        for usage_type, quantity in ev.usage.items():
            line = ev.costs.get(usage_type)
            row = sums[(group_key(ev, zone, group_by), usage_type.value)]
            row[0] += int(quantity * 1000)
            row[1] += line.cost_nanos if line else 0
            row[2] += line.list_cost_nanos if line else 0
    return [queries.UsageSums(k, t, *v) for (k, t), v in sorted(sums.items())]


@pytest.fixture(scope="module", params=ZONES)
def recorded(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Store, list[UsageEvent]]]:
    """A store holding 2,000 events over 400 days, in each zone."""
    store = open_store(tmp_path_factory.mktemp("monthly") / "ledger.db", request.param)
    events = random_events(seed=21, count=2_000)
    with store.write() as conn:
        record_events(conn, events, store.zone)
    yield store, events
    store.close()


def monthly_equals_daily(conn: Connection) -> None:
    for monthly, daily, keys in (
        (schema.calls_monthly, schema.calls_daily, rollups.CALL_FIELDS),
        (schema.usage_monthly, schema.usage_daily, rollups.USAGE_FIELDS),
    ):
        dims = [c for c in monthly.primary_key.columns if c.name != "month"]
        day_dims = [daily.c[c.name] for c in dims]
        month = func.substr(daily.c.day, 1, 7)
        from_days = conn.execute(
            select(month, *day_dims, *(func.sum(daily.c[k]) for k in keys))
            .group_by(month, *day_dims)
            .order_by(month, *day_dims)
        ).all()
        stored = conn.execute(
            select(monthly.c.month, *dims, *(monthly.c[k] for k in keys)).order_by(
                monthly.c.month, *dims
            )
        ).all()
        assert [tuple(r) for r in stored] == [tuple(r) for r in from_days]
        assert stored, f"{monthly.name} is empty"


def test_each_month_is_the_sum_of_its_days(recorded: tuple[Store, list[UsageEvent]]) -> None:
    store, _ = recorded
    with store.read() as conn:
        monthly_equals_daily(conn)


def test_months_are_local_months(tmp_path: Path) -> None:
    # 03:00 UTC on 1 Nov is 31 Oct in New York; 18:20 UTC on 31 Oct is 1 Nov in Kathmandu.
    instants = [datetime(2026, 11, 1, 3, tzinfo=UTC), datetime(2026, 10, 31, 18, 20, tzinfo=UTC)]
    expected = {"America/New_York": ["2026-10", "2026-10"], "Asia/Kathmandu": ["2026-11"] * 2}
    for zone, months in expected.items():
        store = open_store(tmp_path / f"{zone.replace('/', '-')}.db", zone)
        events = []
        for i, ts in enumerate(instants):
            [ev] = random_events(seed=40 + i, count=1)
            events.append(replace(ev, id=f"edge-{i}", ts=ts, status=EventStatus.SETTLED))
        with store.write() as conn:
            record_events(conn, events, store.zone)
        with store.read() as conn:
            rows = conn.execute(
                select(schema.calls_monthly.c.month, schema.calls_monthly.c.calls)
            ).all()
            assert sorted(m for m, n in rows for _ in range(n)) == months
            october = queries.call_sums(conn, date(2026, 10, 1), date(2026, 10, 31))
            november_first = queries.call_sums(conn, date(2026, 11, 1), date(2026, 11, 1))
        in_october = months.count("2026-10")
        assert (october[0].calls if october else 0) == in_october
        assert (november_first[0].calls if november_first else 0) == 2 - in_october
        store.close()


def test_the_settle_path_keeps_months_across_month_ends(store: Store) -> None:
    """Reserved, then settled one by one and in a batch: equal to a rebuild."""
    events = [
        replace(ev, source=EventSource.GATEWAY, status=EventStatus.RESERVED, reserved_nanos=1)
        for ev in random_events(seed=9, count=300)
    ]
    with store.write() as conn:
        reservations.reserve_many(conn, [(ev, ()) for ev in events])
    settled = [replace(ev, status=EventStatus.SETTLED, http_status=200) for ev in events]
    with store.write() as conn:
        assert reservations.settle(conn, settled[0], store.zone)
        assert all(reservations.settle_many(conn, settled[1:], store.zone))
    maintained = snapshot(store)
    assert len({r[0] for r in maintained["rollup_calls_monthly"]}) > 6
    with store.read() as conn:
        monthly_equals_daily(conn)
    with store.write() as conn:
        rollups.rebuild(conn, store.zone)
    assert snapshot(store) == maintained


@settings(
    max_examples=80,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    start=st.dates(FIRST_DAY, LAST_DAY),
    length=st.one_of(st.integers(0, 70), st.integers(0, 430)),
    group_by=st.lists(st.sampled_from(_GROUPS), unique=True, max_size=3),
    department=st.sampled_from([None, "Sales", "Finance"]),
)
def test_period_sums_equal_the_events(
    recorded: tuple[Store, list[UsageEvent]],
    start: date,
    length: int,
    group_by: list[str],
    department: str | None,
) -> None:
    store, events = recorded
    end = start + timedelta(days=length)
    filters = {"department": department} if department else {}
    with store.read() as conn:
        calls = queries.call_sums(conn, start, end, group_by, filters)
        usage = queries.usage_sums(conn, start, end, group_by, filters)
    assert calls == calls_from_events(events, store.zone, start, end, group_by, filters)
    assert usage == usage_from_events(events, store.zone, start, end, group_by, filters)


@pytest.mark.parametrize(
    ("start", "end"),
    [
        (date(2026, 1, 1), date(2026, 12, 31)),  # whole months only
        (date(2026, 1, 2), date(2026, 1, 30)),  # a month less its first and last day
        (date(2026, 2, 27), date(2026, 3, 2)),  # days on both sides of a month end
        (date(2026, 3, 4), date(2027, 1, 28)),  # months, less days before, less days after
        (date(2026, 6, 15), date(2026, 6, 15)),  # one day
    ],
)
def test_period_sums_on_both_backends(store: Store, start: date, end: date) -> None:
    events = random_events(seed=5, count=600)
    with store.write() as conn:
        record_events(conn, events, store.zone)
    for group_by in ((), ("month",), ("department", "provider")):
        with store.read() as conn:
            calls = queries.call_sums(conn, start, end, group_by)
            usage = queries.usage_sums(conn, start, end, group_by)
        assert calls == calls_from_events(events, store.zone, start, end, group_by, {})
        assert usage == usage_from_events(events, store.zone, start, end, group_by, {})


@pytest.mark.parametrize("fiscal_start_month", [1, 4, 10])
@pytest.mark.parametrize(
    "as_of", [date(2026, 3, 31), date(2026, 4, 1), date(2026, 9, 30), date(2026, 12, 17)]
)
def test_year_to_date_at_fiscal_edges(
    recorded: tuple[Store, list[UsageEvent]], fiscal_start_month: int, as_of: date
) -> None:
    store, events = recorded
    with store.read() as conn:
        figures = summary(
            conn,
            as_of,
            fiscal_start_month=fiscal_start_month,
            annual_budget_usd=Decimal(80_000),
            monthly_budget_usd=Decimal(15_000),
        )
    fy_year = as_of.year if as_of.month >= fiscal_start_month else as_of.year - 1
    fy_start = date(fy_year, fiscal_start_month, 1)
    spend = sum(
        ev.cost_nanos for ev in counted(events) if in_period(ev, store.zone, fy_start, as_of)
    )
    assert figures.fiscal_year_start == fy_start
    assert figures.ytd.spend_nanos == spend
    by_month: dict[str, int] = defaultdict(int)
    for ev in counted(events):
        if in_period(ev, store.zone, date(1970, 1, 1), as_of):
            by_month[ev.ts.astimezone(store.zone).strftime("%Y-%m")] += ev.cost_nanos
    assert [(m, s) for m, s, _ in figures.trend] == [(m, by_month[m]) for m, _, _ in figures.trend]


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_migration_fills_months_from_days(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    url = (
        f"sqlite:///{tmp_path / 'old.db'}"
        if backend == "sqlite"
        else request.getfixturevalue("postgres_url")
    )
    store = Store.open(url, ZoneInfo("America/New_York"))
    migrate.upgrade(store, "0007")
    dims = "department, project, agent, key_id, provider, model"
    calls, usage = [], []
    for i, day in enumerate(("2026-01-31", "2026-02-01", "2026-02-28", "2026-03-01")):
        for dept in ("Sales", "Finance"):
            calls.append({"day": day, "d": dept, "n": i + 1, "c": 1_000 * (i + 1)})
            usage.append({"day": day, "d": dept, "q": 7 * (i + 1), "c": 100 * (i + 1)})
    with store.write() as conn:
        conn.execute(
            text(
                f"INSERT INTO rollup_calls_daily (day, {dims}, calls, cost_nanos, "
                "list_cost_nanos, unpriced_calls, routed_calls, routed_cost_nanos, "
                "requested_cost_nanos) VALUES (:day, :d, 'p', 'a', '', 'openai', 'gpt-4o', "
                ":n, :c, :c, 0, 1, :c, :c)"
            ),
            calls,
        )
        conn.execute(
            text(
                f"INSERT INTO rollup_usage_daily (day, {dims}, usage_type, quantity_milli, "
                "cost_nanos, list_cost_nanos) VALUES (:day, :d, 'p', 'a', '', 'openai', "
                "'gpt-4o', 'input_tokens', :q, :c, :c)"
            ),
            usage,
        )
    store.upgrade()
    with store.read() as conn:
        monthly_equals_daily(conn)
        months = conn.execute(
            select(schema.calls_monthly.c.month, func.sum(schema.calls_monthly.c.calls))
            .group_by(schema.calls_monthly.c.month)
            .order_by(schema.calls_monthly.c.month)
        ).all()
    assert [tuple(r) for r in months] == [("2026-01", 2), ("2026-02", 10), ("2026-03", 8)]
    store.close()


def test_a_group_seen_only_on_days_taken_off_is_not_reported(sqlite_store: Store) -> None:
    """2..30 June is read as June less 1 June: spend on 1 June only must not leave a row
    of zeros behind."""
    [a, b] = random_events(seed=3, count=2)
    usage = Usage({UsageType.INPUT_TOKENS: Decimal(10)})
    costs = {UsageType.INPUT_TOKENS: LineCost(5, 5)}
    events = [
        replace(a, id="first", ts=datetime(2026, 6, 1, 16, tzinfo=UTC), department="Sales"),
        replace(b, id="later", ts=datetime(2026, 6, 20, 16, tzinfo=UTC), department="Finance"),
    ]
    events = [
        replace(e, status=EventStatus.SETTLED, usage=usage, costs=costs, routed_from=None)
        for e in events
    ]
    with sqlite_store.write() as conn:
        record_events(conn, events, sqlite_store.zone)
    with sqlite_store.read() as conn:
        assert queries.cover(date(2026, 6, 2), date(2026, 6, 30)).minus
        calls = queries.call_sums(conn, date(2026, 6, 2), date(2026, 6, 30), ["department"])
        types = queries.usage_sums(conn, date(2026, 6, 2), date(2026, 6, 30), ["department"])
    assert [c.key for c in calls] == [("Finance",)]
    assert [u.key for u in types] == [("Finance",)]
