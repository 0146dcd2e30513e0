"""A ledger with known daily costs for 1–10 November 2026 (UTC), and the provider reports
in tests/reconcile/samples built against it with these known differences:

- OpenAI: on 4 Nov, $7.50 of gpt-4.1 that the gateway never saw (bypassed);
- Anthropic: from 7 Nov, claude-sonnet-4-5 billed at 110% of the ledger's price;
- AWS (Bedrock): $1.00 of credits a day; on 9 Nov Nova Pro $3.02 against $3.00 (within 1%);
  EC2 rows and a tax row that are not Bedrock usage;
- Google: on 5 Nov, $5 more of gemini-2.5-flash than the gateway recorded; $0.50 of credits.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from llmledger.ledger.recording import record_events
from llmledger.ledger.store import Store
from tests.web.dataset import text_event

SAMPLES = Path(__file__).resolve().parent / "samples"
DAYS = range(1, 11)
#: (provider, model, USD a day)
DAILY = (
    ("openai", "gpt-4o", "10"),
    ("openai", "gpt-4o-mini", "2"),
    ("anthropic", "claude-sonnet-4-5", "20"),
    ("anthropic", "claude-haiku-4-5", "5"),
    ("bedrock", "amazon.nova-pro-v1:0", "3"),
    ("bedrock", "us.anthropic.claude-sonnet-4-5-20250929-v1:0", "8"),
    ("google", "gemini-2.5-flash", "4"),
    ("google", "gemini-2.5-pro", "6"),
)
FILES = {
    "openai": "openai_costs.json",
    "anthropic": "anthropic_cost_report.json",
    "bedrock": "aws_cur_bedrock.csv",
    "google": "gcp_billing_export.jsonl",
}


def fill(store: Store) -> None:
    events = []
    for day in DAYS:
        # 23:30 UTC is the next local day in New York: the comparison must use UTC days.
        moment = datetime(2026, 11, day, 23, 30, tzinfo=UTC)
        for i, (provider, model, usd) in enumerate(DAILY):
            events.append(
                text_event(
                    f"ev-{day}-{i}", moment, "Engineering", "Backend", "coder", provider, model, usd
                )
            )
    with store.write() as conn:
        record_events(conn, events, store.zone)


def sample(provider: str) -> bytes:
    return (SAMPLES / FILES[provider]).read_bytes()
