"""The digest as a compact Slack message (incoming webhook: ``text`` plus ``blocks``)."""

from __future__ import annotations

from typing import Any

from llmledger.reports.digest import format as fmt
from llmledger.reports.digest.figures import DigestFigures
from llmledger.reports.digest.render import subject

#: Movers shown per dimension in Slack (the email has the full list).
SLACK_MOVERS = 3


def _section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def render_slack(f: DigestFigures) -> dict[str, Any]:
    """``{"text": <fallback>, "blocks": [...]}`` for a Slack incoming webhook."""
    title = subject(f)
    facts = [
        f"*This week* {fmt.usd(f.spend.current_nanos)} ({fmt.change(f.spend)} vs last week)",
        f"*Month to date* {fmt.position(f.mtd)}",
        f"*Year to date* {fmt.position(f.ytd)}",
        f"*Projected annual* {fmt.usd(f.projected_annual_nanos)}",
        f"*Routing savings* {fmt.usd(f.savings_week_nanos)} this week",
    ]
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": title[:150]}},
        _section("\n".join(facts)),
    ]
    if f.budgets:
        lines = [
            f"• `{b.scope}` {b.status if b.status != 'ok' else 'projected over'}: "
            f"{fmt.usd(b.spent_nanos)} of {fmt.usd(b.limit_nanos)} ({b.percent}%)"
            for b in f.budgets[:5]
        ]
        blocks.append(_section("*Budgets that need attention*\n" + "\n".join(lines)))
    movers = (f.department_movers[:SLACK_MOVERS] if f.department is None else []) + (
        f.project_movers[:SLACK_MOVERS]
    )
    if movers:
        lines = []
        for m in movers:
            line = f"• {m.name}: {fmt.change(m.change)}"
            if m.reason:
                line += f" ({m.reason})"
            lines.append(line)
        blocks.append(_section("*Biggest movers*\n" + "\n".join(lines)))
    if f.anomalies:
        blocks.append(_section(f"*Anomalies this week:* {len(f.anomalies)}"))
    if f.dashboard_url:
        blocks.append(
            {
                "type": "actions",
                "elements": [
                    {
                        "type": "button",
                        "text": {"type": "plain_text", "text": "Open the dashboard"},
                        "url": f.dashboard_url,
                    }
                ],
            }
        )
    return {"text": title, "blocks": blocks}
