"""The store: one interface over SQLite (embedded default) and PostgreSQL.

SQLite runs in WAL mode with a single writer: writes open ``BEGIN IMMEDIATE`` on a
dedicated engine, reads run concurrently on another. PostgreSQL uses one pooled engine
and row locks. Callers get connections inside a transaction from `write()` and `read()`.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.pool import QueuePool

from llmledger.ledger import migrate


class StoreError(RuntimeError):
    """The store cannot be opened or used."""


#: Serialises schema migrations across processes sharing a PostgreSQL store.
_MIGRATION_LOCK = 7_441_230_001


def normalise_url(url: str) -> str:
    """Accept the plain URLs of the settings; pick the drivers llmledger uses."""
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    if url.startswith("sqlite:"):
        return url
    if url.startswith("postgresql+psycopg://"):
        return url
    raise StoreError(f"unsupported store URL {url!r}: use sqlite:///path or postgresql://...")


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.isolation_level = None  # transactions are begun explicitly below
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


class Store:
    """The ledger's database. Create with `Store.open`; close with `close`."""

    def __init__(
        self,
        url: str,
        zone: ZoneInfo,
        *,
        pool_size: int = 8,
        connect_timeout_s: float = 5,
        statement_timeout_s: float = 0,
    ) -> None:
        self.url = normalise_url(url)
        self.zone = zone
        self.dialect = "postgresql" if self.url.startswith("postgresql") else "sqlite"
        self._write_lock = threading.Lock()
        if self.dialect == "sqlite":
            self._check_sqlite_path()
            self._writer = create_engine(self.url, poolclass=QueuePool, pool_size=1)
            self._reader = create_engine(self.url, poolclass=QueuePool, pool_size=pool_size)
            for engine, begin in ((self._writer, "BEGIN IMMEDIATE"), (self._reader, "BEGIN")):
                event.listen(engine, "connect", _sqlite_pragmas)
                event.listen(engine, "begin", _beginner(begin))
        else:
            # Bounded waits, so an unreachable or stuck server is an error in seconds (the
            # gateway answers 503 or journals), never a hang; keepalives notice a dead peer.
            connect_args: dict[str, Any] = {
                "connect_timeout": max(1, int(connect_timeout_s)),
                "keepalives": 1,
                "keepalives_idle": 10,
                "keepalives_interval": 5,
                "keepalives_count": 3,
            }
            if statement_timeout_s > 0:
                connect_args["options"] = f"-c statement_timeout={int(statement_timeout_s * 1000)}"
            self._writer = create_engine(
                self.url,
                pool_size=pool_size,
                max_overflow=pool_size,
                pool_pre_ping=True,
                pool_timeout=max(1.0, connect_timeout_s),
                connect_args=connect_args,
            )
            self._reader = self._writer

    @classmethod
    def open(
        cls,
        url: str,
        zone: ZoneInfo,
        *,
        pool_size: int = 8,
        connect_timeout_s: float = 5,
        statement_timeout_s: float = 0,
    ) -> Store:
        return cls(
            url,
            zone,
            pool_size=pool_size,
            connect_timeout_s=connect_timeout_s,
            statement_timeout_s=statement_timeout_s,
        )

    def _check_sqlite_path(self) -> None:
        path = self.url.split("sqlite:///", 1)[-1]
        if path and path != ":memory:" and not path.startswith("file:"):
            parent = Path(path).expanduser().resolve().parent
            if not parent.exists():
                raise StoreError(f"folder for the SQLite store does not exist: {parent}")

    @property
    def engine(self) -> Engine:
        """The writing engine (migrations use it)."""
        return self._writer

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """A write transaction; on SQLite the only one at a time in this process."""
        if self.dialect == "sqlite":
            with self._write_lock, self._writer.begin() as conn:
                yield conn
        else:
            with self._writer.begin() as conn:
                yield conn

    @contextmanager
    def read(self) -> Iterator[Connection]:
        with self._reader.connect() as conn:
            with conn.begin():
                yield conn

    def upgrade(self) -> None:
        """Migrate the schema; on PostgreSQL one process at a time (replicas starting
        together, or `llmledger db upgrade` run while they serve, wait for each other)."""
        if self.dialect == "sqlite":
            migrate.upgrade(self)
            return
        with self._writer.connect() as conn:
            conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": _MIGRATION_LOCK})
            conn.commit()
            try:
                migrate.upgrade(self)
            finally:
                conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": _MIGRATION_LOCK})
                conn.commit()

    def ping(self) -> float:
        """Seconds a trivial query takes; raises when the store cannot be reached."""
        started = time.perf_counter()
        with self.read() as conn:
            conn.execute(text("SELECT 1"))
        return time.perf_counter() - started

    def close(self) -> None:
        self._writer.dispose()
        if self._reader is not self._writer:
            self._reader.dispose()


def _beginner(statement: str) -> Any:
    def begin(conn: Connection) -> None:
        conn.exec_driver_sql(statement)

    return begin


__all__ = ["Store", "StoreError", "normalise_url"]
