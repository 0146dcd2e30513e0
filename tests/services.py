"""Real services for tests: PostgreSQL and Redis on this machine.

Outside CI a missing service skips its tests with a message saying how to start it;
under ``CI=true`` a missing service fails them.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
import pytest

PG_ADMIN_URL = os.environ.get("LLMLEDGER_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("LLMLEDGER_TEST_REDIS", "redis://127.0.0.1:6379/0")

PG_HOW = (
    "PostgreSQL is not reachable at 127.0.0.1:5432; start it with "
    "'pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start' "
    "or set LLMLEDGER_TEST_PG"
)
REDIS_HOW = (
    "Redis is not reachable at 127.0.0.1:6379; start it with "
    "'redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save \"\"' "
    "or set LLMLEDGER_TEST_REDIS"
)


def missing(message: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)


def _server_url(database: str) -> str:
    base = PG_ADMIN_URL.rsplit("/", 1)[0]
    return f"{base}/{database}"


@contextmanager
def fresh_postgres_database() -> Iterator[str]:
    """A new, empty database for one test; dropped afterwards. Yields its URL."""
    try:
        admin = psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=3)
    except psycopg.OperationalError:
        missing(PG_HOW)
        raise  # unreachable: missing() raises
    name = f"llmledger_t_{uuid.uuid4().hex[:12]}"
    with admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield _server_url(name)
    finally:
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin2:
            admin2.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def redis_url() -> str:
    import redis

    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        client.ping()
    except redis.exceptions.ConnectionError:
        missing(REDIS_HOW)
    finally:
        client.close()
    return REDIS_URL
