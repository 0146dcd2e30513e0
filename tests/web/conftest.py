from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from llmledger.ledger.store import Store
from tests.web import dataset
from tests.web.harness import Running, serve, settings_for


@pytest.fixture(scope="session")
def populated_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One store with the known company, built once (tests that write use their own)."""
    path = tmp_path_factory.mktemp("dashboard") / "ledger.db"
    store = Store.open(f"sqlite:///{path}", dataset.ZONE)
    try:
        store.upgrade()
        dataset.fill(store, datetime.now(UTC).astimezone(dataset.ZONE).date())
    finally:
        store.close()
    return path


@pytest.fixture(scope="module")
def running(populated_db: Path) -> Iterator[Running]:
    with serve(settings_for(f"sqlite:///{populated_db}")) as live:
        yield live


@pytest.fixture
def fresh(tmp_path: Path, populated_db: Path) -> Iterator[Running]:
    """A private copy of the populated store, for tests that change it."""
    copy = tmp_path / "ledger.db"
    copy.write_bytes(populated_db.read_bytes())
    with serve(settings_for(f"sqlite:///{copy}")) as live:
        yield live
