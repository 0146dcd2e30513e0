from __future__ import annotations

from datetime import UTC, datetime

import pytest

from llmledger.pricing import PriceCatalog

#: A moment when every price in the published-price table is in force.
NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


@pytest.fixture(scope="session")
def catalog() -> PriceCatalog:
    return PriceCatalog.build()
