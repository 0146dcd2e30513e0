"""Schema migrations (Alembic), run on SQLite and PostgreSQL alike."""

from __future__ import annotations

from typing import TYPE_CHECKING

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext

if TYPE_CHECKING:
    from llmledger.ledger.store import Store


def alembic_config(store: Store) -> Config:
    config = Config()
    config.set_main_option("script_location", "llmledger.ledger:migrations")
    config.attributes["engine"] = store.engine
    return config


def upgrade(store: Store, revision: str = "head") -> None:
    """Bring the store's schema to `revision` (idempotent; safe to rerun)."""
    command.upgrade(alembic_config(store), revision)


def current(store: Store) -> str | None:
    with store.engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()
