"""Render a sample weekly digest to docs/digest.png (headless Chromium via Playwright).

    .venv/bin/python docs/render_digest.py [--chromium /usr/bin/chromium]

Builds a throwaway store with two weeks of a mid-size company's spend, renders the
digest of 2026-W48 exactly as the email is sent, and screenshots it at mail-client width.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from playwright.sync_api import sync_playwright

from llmledger.guardrails.budgets import set_budget
from llmledger.ledger.event import EventSource, LineCost, UsageEvent
from llmledger.ledger.recording import record_events
from llmledger.ledger.store import Store
from llmledger.money import usd_to_nanos
from llmledger.reports.digest import DigestOptions, build_digest, render_html
from llmledger.reports.weeks import parse_week
from llmledger.settings import Settings
from llmledger.usage import Usage, UsageType

HERE = Path(__file__).resolve().parent
LAST, THIS = date(2026, 11, 16), date(2026, 11, 23)
#: (department, project, agent, model, usd per day last week, this week, images usd this week)
ROWS = [
    ("Engineering", "QA", "visual-tester", "gpt-image-1", "0", "410", "350"),
    ("Engineering", "QA", "regression-bot", "claude-sonnet-4-5", "260", "275", None),
    ("Engineering", "Backend", "code-review", "claude-sonnet-4-5", "390", "405", None),
    ("Engineering", "DevOps", "incident-triage", "gpt-4o", "60", "55", None),
    ("Marketing", "Content", "content-writer", "gpt-4o", "150", "190", None),
    ("Marketing", "SEO", "seo-agent", "gpt-4o", "180", "95", None),
    ("Sales", "Outreach", "email-drafter", "gemini-2.5-flash", "120", "128", None),
    ("Sales", "Outreach", "lead-scorer", "claude-sonnet-4-5", "0", "85", None),
    ("Finance", "Invoices", "invoice-processing", "gpt-4o", "230", "240", None),
    ("Support", "Helpdesk", "support-agent", "gpt-4o-mini", "140", "110", None),
]


def events() -> list[UsageEvent]:
    out = []
    for dept, project, agent, model, last, this, images in ROWS:
        for start, usd, img in ((LAST, last, None), (THIS, this, images)):
            for i in range(7):
                day = start + timedelta(days=i)
                weight = 6 if i < 5 else 2  # quieter weekends
                cost = usd_to_nanos(usd) * weight * 7 // 34
                costs = {UsageType.INPUT_TOKENS: LineCost(cost, cost)}
                usage = {"input_tokens": 100_000}
                if img:
                    extra = usd_to_nanos(img) * weight * 7 // 34
                    costs[UsageType.IMAGES] = LineCost(extra, extra)
                    usage["images"] = 40
                out.append(
                    UsageEvent(
                        id=f"{agent}-{day}",
                        ts=datetime(day.year, day.month, day.day, 16, tzinfo=UTC),
                        provider="openai",
                        model_requested=model,
                        model_used=model,
                        source=EventSource.IMPORT,
                        department=dept,
                        project=project,
                        agent=agent,
                        usage=Usage.of(**usage),
                        costs=costs,
                        routed_from="gpt-4o" if agent == "support-agent" else None,
                        requested_cost_nanos=cost * 3 if agent == "support-agent" else None,
                    )
                )
    out.append(
        UsageEvent(
            id="ytd",
            ts=datetime(2026, 6, 1, 16, tzinfo=UTC),
            provider="openai",
            model_requested="gpt-4o",
            model_used="gpt-4o",
            source=EventSource.IMPORT,
            department="Engineering",
            usage=Usage.of(input_tokens=1),
            costs={UsageType.INPUT_TOKENS: LineCost(usd_to_nanos("61000"), usd_to_nanos("61000"))},
        )
    )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    parser.add_argument("--out", type=Path, default=HERE / "digest.png")
    args = parser.parse_args()
    settings = Settings.model_validate(
        {
            "organisation": {
                "name": "Acme",
                "timezone": "America/New_York",
                "annual_budget_usd": "80000",
                "monthly_budget_usd": "15000",
            },
            "server": {"public_url": "https://llmledger.acme.example"},
        }
    )
    with tempfile.TemporaryDirectory() as tmp:
        store = Store.open(f"sqlite:///{tmp}/demo.db", settings.organisation.zone)
        store.upgrade()
        with store.write() as conn:
            record_events(conn, events(), store.zone)
            set_budget(conn, scope="agent:Marketing/SEO/seo-agent", limit_usd="1800")
            set_budget(conn, scope="agent:Marketing/Content/content-writer", limit_usd="3000")
            set_budget(conn, scope="agent:Finance/Invoices/invoice-processing", limit_usd="3400")
            set_budget(conn, scope="department:Sales", limit_usd="4000")
        with store.read() as conn:
            figures = build_digest(
                conn,
                parse_week("2026-W48"),
                DigestOptions.from_settings(settings),
                now=datetime(2026, 11, 30, 13, tzinfo=UTC),
            )
        store.close()
    html = render_html(figures, zone_name=settings.organisation.timezone)
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=args.chromium,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--no-first-run",
            ],
        )
        page = browser.new_page(viewport={"width": 760, "height": 900}, device_scale_factor=2)
        page.set_content(html)
        page.screenshot(path=str(args.out), full_page=True)
        browser.close()
    sys.stdout.write(f"wrote {args.out}\n")


if __name__ == "__main__":
    main()
