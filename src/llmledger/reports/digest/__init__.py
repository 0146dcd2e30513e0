"""The weekly finance digest: figures from analytics, an HTML email with a text twin,
and a compact Slack message. See docs/digest.md."""

from __future__ import annotations

from llmledger.reports.digest.figures import (
    AnomalyLine,
    AnomalySource,
    BudgetLine,
    DigestFigures,
    DigestOptions,
    build_digest,
    no_anomalies,
)
from llmledger.reports.digest.movers import Change, Mover
from llmledger.reports.digest.render import DigestEmail, render_email, render_html, subject
from llmledger.reports.digest.slack import render_slack
from llmledger.reports.digest.text import render_text

__all__ = [
    "AnomalyLine",
    "AnomalySource",
    "BudgetLine",
    "Change",
    "DigestEmail",
    "DigestFigures",
    "DigestOptions",
    "Mover",
    "build_digest",
    "no_anomalies",
    "render_email",
    "render_html",
    "render_slack",
    "render_text",
    "subject",
]
