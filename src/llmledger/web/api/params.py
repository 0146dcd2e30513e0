"""Query parameters shared by the dashboard's API routes: periods and attribution filters.

Bad values get a clear 4xx (422 for malformed, 403 outside an owner's scope, 404 for an
attribution value that was never seen), never a 500.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

from fastapi import HTTPException
from sqlalchemy import Connection

from llmledger.analytics import periods
from llmledger.ledger import queries
from llmledger.web.auth.principal import Principal

MAX_VALUE = 200
#: Attribution filters (public name -> rollup column).
FILTER_COLUMNS = {
    "department": "department",
    "project": "project",
    "agent": "agent",
    "key": "key_id",
    "provider": "provider",
    "model": "model",
}


def parse_day(value: str | None, name: str) -> date | None:
    if value is None or value == "":
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise HTTPException(
            422, f"{name}: expected a date YYYY-MM-DD, got {value[:40]!r}"
        ) from None


def date_range(from_: str | None, to: str | None, today: date) -> periods.DateRange:
    """Inclusive local dates; month to date by default."""
    start = parse_day(from_, "from") or periods.month_start(today)
    end = parse_day(to, "to") or today
    if end < start:
        raise HTTPException(422, f"'to' ({end}) is before 'from' ({start})")
    return periods.DateRange(start, end)


def scoped_filters(principal: Principal, given: Mapping[str, str | None]) -> dict[str, str]:
    """The caller's filters (public names) held to the principal's scope."""
    out: dict[str, str] = {}
    for name, value in given.items():
        if value is None or value == "":
            continue
        if len(value) > MAX_VALUE or "\x00" in value:
            raise HTTPException(422, f"{name}: at most {MAX_VALUE} characters")
        out[name] = value
    for name, value in principal.filters().items():
        if name in out and out[name] != value:
            raise HTTPException(403, f"outside your scope ({principal.scope})")
        out[name] = value
    return out


def columns(filters: Mapping[str, str]) -> dict[str, str]:
    """Public filter names to rollup columns."""
    return {FILTER_COLUMNS[k]: v for k, v in filters.items() if k in FILTER_COLUMNS}


def check_known(conn: Connection, filters: Mapping[str, str]) -> None:
    """404 for a filter value no rollup has ever seen (called when a result is empty)."""
    for name, value in filters.items():
        column = FILTER_COLUMNS.get(name)
        if column and value not in queries.distinct_values(conn, column):
            raise HTTPException(404, f"no {name} {value!r}")


def asked(filters: Mapping[str, str], principal: Principal) -> dict[str, str]:
    """The filters the caller chose (an owner's own scope may well have no spend yet)."""
    forced = principal.filters()
    return {k: v for k, v in filters.items() if forced.get(k) != v}
