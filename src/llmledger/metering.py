"""From a price quote to the ledger's per-type costs and flags."""

from __future__ import annotations

from llmledger.ledger.event import EventFlag, LineCost
from llmledger.pricing import Quote
from llmledger.usage import UsageType


def line_costs(quote: Quote) -> tuple[dict[UsageType, LineCost], EventFlag]:
    """Per-usage-type costs of a quote, and the UNPRICED flag when it applies."""
    costs = {
        line.usage_type: LineCost(line.cost_nanos, line.list_cost_nanos) for line in quote.lines
    }
    flags = EventFlag.UNPRICED if quote.unpriced else EventFlag.NONE
    return costs, flags
