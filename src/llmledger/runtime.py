"""The application object: settings, store, writer, catalog and the gateway's parts,
created once by `create_app` and handed to every handler (no globals)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from llmledger.gateway.keycache import KeyCache
from llmledger.gateway.prompts import PromptLog
from llmledger.gateway.routes import ProviderRoute
from llmledger.guardrails.book import BudgetBook
from llmledger.ledger.store import Store
from llmledger.ledger.writer import LedgerWriter
from llmledger.ops.metrics import Metrics
from llmledger.pricing import PriceCatalog
from llmledger.settings import Settings


@dataclass(slots=True)
class Runtime:
    settings: Settings
    store: Store
    writer: LedgerWriter
    catalog: PriceCatalog
    keys: KeyCache
    budgets: BudgetBook
    routes: dict[str, ProviderRoute] = field(default_factory=dict)
    #: Prometheus metrics of this application (its own registry; ``GET /metrics``).
    metrics: Metrics = field(default_factory=Metrics)
    started_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    #: Prompt logging rules and captures (gateway/prompts.py).
    prompts: PromptLog | None = None

    def today(self) -> date:
        return datetime.now(UTC).astimezone(self.settings.organisation.zone).date()
