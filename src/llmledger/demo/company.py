"""The demo company as data: departments, projects, agents, the models they call, budgets.

Amounts here are plans, not money: ``monthly_usd`` is an agent's spend level in the
current month, which the generator turns into calls priced by the real catalog. Only the
budgets (limits and calibrated targets) are exact `Decimal` amounts.

Every call of the demo is one large agent call (long contexts, batches of images, minutes
of video): a year of a mid-size company's spend in a few hundred thousand events.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum

ORG_NAME = "Acme Corp"
ORG_TIMEZONE = "America/New_York"
MONTHLY_ALLOCATION_USD = Decimal(60_000)
#: Month to date over the allocation, year to date over the annual budget, as the article's
#: dashboard shows them ($16,240 of $15,000; $87,240 of $80,000).
MTD_OVER_RATIO = Decimal("1.0827")
YTD_OVER_RATIO = Decimal("1.0905")
ADMIN_EMAIL = "demo@llmledger.local"


class Shape(StrEnum):
    """When an agent works."""

    OFFICE = "office"
    """Business hours on weekdays; quiet weekends."""
    ALWAYS = "always"
    """Customer-facing: around the clock, lighter at night and on weekends."""
    MONTH_END = "month_end"
    """Office hours, with the month-end close (last and first business days) three times."""
    SURGE = "surge"
    """Office hours, with this month's spend piling up in the last days (a runaway)."""


@dataclass(frozen=True, slots=True)
class ModelUse:
    """One kind of call an agent makes: the model, its share of the agent's spend and the
    median usage of one call (each call varies around it)."""

    provider: str
    model: str
    share: float
    usage: Mapping[str, int]
    operation: str
    attributes: Mapping[str, str] = field(default_factory=dict)
    routed_from: str | None = None
    """The model the caller asked for; the router sent the call to `model` instead."""
    since_days: int | None = None
    """Only in the last N days: a new behaviour (a new model, a new modality)."""


@dataclass(frozen=True, slots=True)
class Budget:
    limit_usd: Decimal
    enforced: bool = True
    target_percent: Decimal | None = None
    """Calibrated spend this month, percent of the limit (None: the agent's natural spend)."""
    owners: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Agent:
    department: str
    project: str
    name: str
    monthly_usd: int
    uses: tuple[ModelUse, ...]
    shape: Shape = Shape.OFFICE
    launched_days_ago: int = 1000
    budget: Budget | None = None

    @property
    def scope(self) -> str:
        return f"agent:{self.department}/{self.project}/{self.name}"


@dataclass(frozen=True, slots=True)
class Burst:
    """An anomaly-shaped pattern: extra spend by an agent in the last `hours` before now."""

    department: str
    project: str
    agent: str
    use: ModelUse
    hours: float
    usd: int
    story: str


@dataclass(frozen=True, slots=True)
class ScopeBudget:
    scope: str
    period: str
    limit_usd: Decimal
    enforced: bool
    owners: tuple[str, ...] = ()


# Usage templates (median per call). -------------------------------------------------------


def _chat(inp: int, cached: int, out: int, reasoning: int = 0) -> dict[str, int]:
    """A long-context agent call (the 1M-token context windows of today's models)."""
    inp, cached, out, reasoning = 2 * inp, 2 * cached, 2 * out, 2 * reasoning
    usage = {"input_tokens": inp, "cached_input_tokens": cached, "output_tokens": out}
    if reasoning:
        usage["reasoning_tokens"] = reasoning
    return {k: v for k, v in usage.items() if v}


OAI, ANT, GOO, BED = "openai", "anthropic", "google", "bedrock"
CHAT, MSG, GEN, CONVERSE = "chat.completions", "messages", "generateContent", "Converse"
SONNET_BEDROCK = "us.anthropic.claude-sonnet-4-5-20250929-v1:0"
HIGH_WIDE = {"quality": "high", "size": "1536x1024"}


def _agent(
    dept: str,
    project: str,
    name: str,
    monthly: int,
    *uses: ModelUse,
    shape: Shape = Shape.OFFICE,
    launched: int = 1000,
    budget: Budget | None = None,
) -> Agent:
    return Agent(dept, project, name, monthly, uses, shape, launched, budget)


AGENTS: tuple[Agent, ...] = (
    # Engineering: about half the spend; QA's is mostly images, video and audio.
    _agent(
        "Engineering",
        "QA",
        "visual-regression",
        6_200,
        ModelUse(OAI, "gpt-image-1", 0.65, {"images": 24}, "images.generations", HIGH_WIDE),
        ModelUse(
            GOO,
            "gemini-2.5-pro",
            0.35,
            {"input_video_tokens": 600_000, "input_tokens": 8_000, "output_tokens": 30_000},
            GEN,
        ),
        launched=300,
        budget=Budget(Decimal(10_000), owners=("qa-lead@acme.example",)),
    ),
    _agent(
        "Engineering",
        "QA",
        "test-media-generator",
        4_300,
        ModelUse(OAI, "sora-2-pro", 0.35, {"video_seconds": 12}, "videos", {"size": "1792x1024"}),
        ModelUse(GOO, "veo-3.0-generate-001", 0.25, {"video_seconds": 8}, "predictLongRunning"),
        ModelUse(BED, "amazon.nova-reel-v1:0", 0.10, {"video_seconds": 120}, "StartAsyncInvoke"),
        ModelUse(OAI, "whisper-1", 0.10, {"audio_seconds": 14_400}, "audio.transcriptions"),
        ModelUse(OAI, "tts-1", 0.20, {"speech_characters": 400_000}, "audio.speech"),
        launched=160,
    ),
    _agent(
        "Engineering",
        "Backend",
        "copilot-agent",
        5_600,
        ModelUse(ANT, "claude-sonnet-4-5", 0.75, _chat(60_000, 120_000, 30_000), MSG),
        ModelUse(ANT, "claude-opus-4-1", 0.25, _chat(30_000, 60_000, 16_000), MSG, since_days=6),
    ),
    _agent(
        "Engineering",
        "Backend",
        "code-review-bot",
        2_400,
        ModelUse(ANT, "claude-sonnet-4-5", 0.60, _chat(120_000, 50_000, 30_000), MSG),
        ModelUse(OAI, "o3", 0.40, _chat(60_000, 30_000, 8_000, 40_000), "responses"),
        budget=Budget(Decimal(4_000), owners=("backend-lead@acme.example",)),
    ),
    _agent(
        "Engineering",
        "Platform",
        "incident-summarizer",
        1_300,
        ModelUse(BED, SONNET_BEDROCK, 0.95, _chat(170_000, 0, 30_000), CONVERSE),
        ModelUse(BED, "amazon.nova-pro-v1:0", 0.05, _chat(140_000, 0, 5_000), CONVERSE),
        shape=Shape.ALWAYS,
        budget=Budget(Decimal(2_000)),
    ),
    _agent(
        "Engineering",
        "Platform",
        "rag-indexer",
        700,
        ModelUse(OAI, "text-embedding-3-large", 0.60, {"input_tokens": 30_000_000}, "embeddings"),
        ModelUse(GOO, "gemini-2.5-flash", 0.40, _chat(450_000, 0, 30_000), GEN),
    ),
    _agent(
        "Engineering",
        "DevOps",
        "log-triage",
        500,
        ModelUse(BED, SONNET_BEDROCK, 0.85, _chat(170_000, 0, 30_000), CONVERSE),
        ModelUse(BED, "amazon.nova-pro-v1:0", 0.15, _chat(140_000, 0, 5_000), CONVERSE),
        shape=Shape.ALWAYS,
    ),
    # Sales.
    _agent(
        "Sales",
        "Outreach",
        "email-personaliser",
        2_900,
        ModelUse(OAI, "gpt-4.1", 0.92, _chat(300_000, 150_000, 16_000), CHAT),
        ModelUse(OAI, "gpt-4.1-mini", 0.08, _chat(450_000, 0, 16_000), CHAT, routed_from="gpt-4.1"),
        budget=Budget(Decimal(5_000), owners=("sales-ops@acme.example",)),
    ),
    _agent(
        "Sales",
        "Outreach",
        "lead-scorer",
        1_600,
        ModelUse(GOO, "gemini-2.5-pro", 0.90, _chat(180_000, 0, 30_000), GEN),
        ModelUse(
            GOO,
            "gemini-2.5-flash",
            0.10,
            _chat(450_000, 0, 30_000),
            GEN,
            routed_from="gemini-2.5-pro",
        ),
    ),
    _agent(
        "Sales",
        "Calls",
        "call-summarizer",
        1_500,
        ModelUse(OAI, "gpt-4o-transcribe", 0.85, {"audio_seconds": 14_400}, "audio.transcriptions"),
        ModelUse(
            ANT,
            "claude-haiku-4-5",
            0.15,
            _chat(80_000, 0, 30_000),
            MSG,
            routed_from="claude-sonnet-4-5",
        ),
    ),
    _agent(
        "Sales",
        "Proposals",
        "proposal-writer",
        2_300,
        ModelUse(ANT, "claude-sonnet-4-5", 1.0, _chat(110_000, 60_000, 30_000), MSG),
        budget=Budget(Decimal(3_500), owners=("sales-ops@acme.example",)),
    ),
    # Marketing: the SEO agent (blocked) and the Content Writer (at the alert threshold).
    _agent(
        "Marketing",
        "SEO",
        "seo-agent",
        5_000,
        ModelUse(ANT, "claude-sonnet-4-5", 0.75, _chat(160_000, 20_000, 30_000), MSG),
        ModelUse(OAI, "gpt-4.1", 0.25, _chat(450_000, 0, 16_000), CHAT),
        shape=Shape.SURGE,
        launched=240,
        budget=Budget(
            Decimal(6_000),
            target_percent=Decimal("100.023"),
            owners=("seo@acme.example", "finance@acme.example"),
        ),
    ),
    _agent(
        "Marketing",
        "Content",
        "content-writer",
        4_000,
        ModelUse(ANT, "claude-sonnet-4-5", 0.55, _chat(100_000, 60_000, 30_000), MSG),
        ModelUse(OAI, "gpt-4.1", 0.25, _chat(300_000, 150_000, 16_000), CHAT),
        ModelUse(
            OAI,
            "gpt-image-1",
            0.20,
            {"images": 20},
            "images.generations",
            {"quality": "high", "size": "1024x1024"},
        ),
        budget=Budget(
            Decimal(4_500),
            target_percent=Decimal("94.4"),
            owners=("content@acme.example", "finance@acme.example"),
        ),
    ),
    _agent(
        "Marketing",
        "Digital",
        "email-automation",
        900,
        ModelUse(OAI, "gpt-4.1-mini", 0.10, _chat(450_000, 0, 16_000), CHAT, routed_from="gpt-4.1"),
        ModelUse(OAI, "gpt-4.1", 0.70, _chat(300_000, 150_000, 16_000), CHAT),
    ),
    _agent(
        "Marketing",
        "Digital",
        "social-media-agent",
        800,
        ModelUse(GOO, "gemini-2.5-flash", 0.40, _chat(450_000, 0, 30_000), GEN),
        ModelUse(GOO, "imagen-4.0-ultra-generate-001", 0.60, {"images": 48}, "predict"),
    ),
    # Finance: Invoice Processing close to its cap at the month-end close.
    _agent(
        "Finance",
        "Payables",
        "invoice-processing",
        8_500,
        ModelUse(
            GOO,
            "gemini-2.5-pro",
            0.45,
            {"input_image_tokens": 400_000, "input_tokens": 60_000, "output_tokens": 30_000},
            GEN,
        ),
        ModelUse(ANT, "claude-sonnet-4-5", 0.45, _chat(140_000, 40_000, 30_000), MSG),
        ModelUse(
            ANT,
            "claude-haiku-4-5",
            0.04,
            _chat(80_000, 0, 30_000),
            MSG,
            routed_from="claude-sonnet-4-5",
        ),
        shape=Shape.MONTH_END,
        budget=Budget(
            Decimal(10_000),
            target_percent=Decimal("96.5"),
            owners=("controller@acme.example", "finance@acme.example"),
        ),
    ),
    _agent(
        "Finance",
        "FP&A",
        "forecast-analyst",
        1_800,
        ModelUse(OAI, "gpt-5", 0.70, _chat(100_000, 80_000, 8_000, 50_000), "responses"),
        ModelUse(OAI, "o3", 0.30, _chat(80_000, 0, 8_000, 40_000), "responses"),
        shape=Shape.MONTH_END,
    ),
    _agent(
        "Finance",
        "Audit",
        "expense-auditor",
        900,
        ModelUse(BED, "amazon.nova-pro-v1:0", 0.10, _chat(140_000, 0, 5_000), CONVERSE),
        ModelUse(BED, SONNET_BEDROCK, 0.90, _chat(170_000, 0, 30_000), CONVERSE),
        shape=Shape.MONTH_END,
    ),
    # Operations.
    _agent(
        "Operations",
        "Supply Chain",
        "demand-planner",
        2_000,
        ModelUse(BED, SONNET_BEDROCK, 0.95, _chat(170_000, 0, 30_000), CONVERSE),
        ModelUse(BED, "amazon.nova-pro-v1:0", 0.05, _chat(140_000, 0, 5_000), CONVERSE),
    ),
    _agent(
        "Operations",
        "IT",
        "ticket-router",
        700,
        ModelUse(BED, "amazon.nova-pro-v1:0", 0.15, _chat(140_000, 0, 5_000), CONVERSE),
        ModelUse(GOO, "gemini-2.5-pro", 0.85, _chat(180_000, 0, 30_000), GEN),
        shape=Shape.ALWAYS,
    ),
    _agent(
        "Operations",
        "People",
        "policy-assistant",
        800,
        ModelUse(GOO, "gemini-2.5-pro", 0.60, _chat(180_000, 0, 30_000), GEN),
        ModelUse(ANT, "claude-haiku-4-5", 0.15, _chat(80_000, 0, 30_000), MSG),
    ),
    # Support: routing sends most simple questions to the cheaper models.
    _agent(
        "Support",
        "Helpdesk",
        "answer-bot",
        2_600,
        ModelUse(OAI, "gpt-4.1-mini", 0.10, _chat(450_000, 0, 16_000), CHAT, routed_from="gpt-4.1"),
        ModelUse(OAI, "gpt-4.1", 0.90, _chat(300_000, 150_000, 16_000), CHAT),
        shape=Shape.ALWAYS,
    ),
    _agent(
        "Support",
        "Helpdesk",
        "triage-agent",
        1_800,
        ModelUse(
            ANT,
            "claude-haiku-4-5",
            0.12,
            _chat(80_000, 0, 30_000),
            MSG,
            routed_from="claude-sonnet-4-5",
        ),
        ModelUse(ANT, "claude-sonnet-4-5", 0.88, _chat(120_000, 50_000, 30_000), MSG),
        shape=Shape.ALWAYS,
    ),
    _agent(
        "Support",
        "Voice",
        "voice-line",
        1_200,
        ModelUse(OAI, "whisper-1", 0.30, {"audio_seconds": 14_400}, "audio.transcriptions"),
        ModelUse(OAI, "tts-1", 0.50, {"speech_characters": 400_000}, "audio.speech"),
        ModelUse(OAI, "gpt-4.1", 0.20, _chat(300_000, 150_000, 16_000), CHAT),
        shape=Shape.ALWAYS,
        launched=200,
    ),
)

BURSTS: tuple[Burst, ...] = (
    # Marketing, which never used audio, suddenly generates hours of speech.
    Burst(
        "Marketing",
        "Digital",
        "social-media-agent",
        ModelUse(OAI, "tts-1-hd", 1.0, {"speech_characters": 150_000}, "audio.speech"),
        hours=60,
        usd=1_500,
        story="Marketing starts spending on audio (modality shift)",
    ),
    # A support agent caught in a retry loop in the last hours.
    Burst(
        "Support",
        "Helpdesk",
        "triage-agent",
        ModelUse(ANT, "claude-sonnet-4-5", 1.0, _chat(170_000, 0, 8_000), MSG),
        hours=2.5,
        usd=1_200,
        story="a runaway agent loop in the last hours",
    ),
)

SCOPE_BUDGETS: tuple[ScopeBudget, ...] = (
    ScopeBudget("department:Engineering", "month", Decimal(36_000), False, ("cto@acme.example",)),
    ScopeBudget("department:Marketing", "month", Decimal(16_000), False, ("cmo@acme.example",)),
    ScopeBudget(
        "department:Finance", "month", Decimal(15_000), False, ("controller@acme.example",)
    ),
    ScopeBudget(
        "project:Engineering/QA", "month", Decimal(14_000), False, ("qa-lead@acme.example",)
    ),
)

#: The agents whose keys the live traffic uses (OpenAI or Anthropic through the sandbox).
LIVE_AGENTS: tuple[tuple[str, str, str, str, str], ...] = (
    ("Support", "Helpdesk", "answer-bot", OAI, "gpt-4.1-mini"),
    ("Support", "Helpdesk", "triage-agent", ANT, "claude-haiku-4-5"),
    ("Engineering", "Backend", "copilot-agent", ANT, "claude-sonnet-4-5"),
    ("Sales", "Outreach", "email-personaliser", OAI, "gpt-4.1"),
    ("Marketing", "Content", "content-writer", OAI, "gpt-4.1"),
    ("Marketing", "SEO", "seo-agent", ANT, "claude-sonnet-4-5"),
)
#: The key printed with the SDK snippet.
SHOWCASE_AGENT = ("Support", "Helpdesk", "answer-bot")
