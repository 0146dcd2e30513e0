"""Alembic environment: the engine comes from the caller (`llmledger db upgrade`)."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Engine

from llmledger.ledger.schema import metadata

engine = context.config.attributes.get("engine")
if not isinstance(engine, Engine):
    raise RuntimeError("run migrations through `llmledger db upgrade`")

with engine.connect() as connection:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()
    connection.commit()
