"""The request complexity scorer: a cheap, explainable 0-1 score of how hard a request is.

It reads what a reviewer would: how long the task is, whether it holds or asks for code,
maths, analysis, several steps or strict output, how deep the conversation is, whether
the model must drive tools. Each signal adds a weight and a reason; nothing is
tokenised and no model is called, so a request scores in tens of microseconds.

Tiers: below `SIMPLE_BELOW` is ``simple`` (a lookup, a rewrite, a classification),
from `COMPLEX_FROM` is ``complex`` (multi-step coding and analysis), ``medium`` between.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from llmledger.routing import lexicon
from llmledger.routing.request import RequestText

SIMPLE_BELOW = 0.25
COMPLEX_FROM = 0.45

_CODE_LINE = re.compile(
    r"^\s*(?:def|class|function|import|from \S+ import|public|private|func|"
    r"fn|select|#include|const|let|var)\b|[;{}]\s*$",
    re.MULTILINE,
)
_LIST_LINE = re.compile(r"^\s*(?:\d+[.)]|[-*\u2022])\s+\S", re.MULTILINE)
_SIMPLE = re.compile(
    r"^\s*(?:what(?:'s| is| are| was| does| time)|who(?:'s| is| was| wrote| painted| discovered)|"
    r"when (?:is|was|did)|where is|which|define|translate|convert|spell|how many|"
    r"how do you (?:say|spell|pronounce)|give me (?:a|an|\d+) (?:synonym|word|name|example|"
    r"catchy|polite)|fix (?:the )?(?:typo|grammar|spelling)|capitali[sz]e|name (?:three|\d+)|"
    r"(?:re)?write this (?:sentence|line|email subject|title)|classify|is it|is this|is (?:a|\d+)|"
    r"summari[sz]e (?:this|the following) in (?:one|a single|\d+) (?:sentence|line|word)|"
    r"extract|tl;?dr|rephrase|correct|turn this into|and (?:of|to|an?|when)|another)\b"
)

#: Category, weight of the first hit, weight of each further hit, most hits, reason.
_WEIGHTS = (
    ("coding", 0.06, 0.04, 3, "coding task"),
    ("design", 0.06, 0.04, 3, "design or planning"),
    ("maths", 0.06, 0.04, 3, "maths or statistics"),
    ("analysis", 0.05, 0.03, 4, "analysis"),
)


@dataclass(frozen=True, slots=True)
class Score:
    value: float
    tier: str
    reasons: tuple[str, ...]


def _count(pattern: re.Pattern[str], text: str, cap: int) -> int:
    n = 0
    for _ in pattern.finditer(text):
        n += 1
        if n >= cap:
            break
    return n


def tier_of(value: float) -> str:
    if value < SIMPLE_BELOW:
        return "simple"
    return "medium" if value < COMPLEX_FROM else "complex"


def score(
    text: RequestText, *, tools: bool = False, json_schema: bool = False, reasoning: bool = False
) -> Score:
    """The complexity of one request, with the reasons that made it."""
    task = text.last_user
    points = 0.0
    reasons: list[str] = []

    def add(weight: float, reason: str) -> None:
        nonlocal points
        points += weight
        reasons.append(f"{reason} ({weight:+.2f})")

    chars = len(task)
    if chars > 1500:
        add(0.2, f"long task ({chars} chars)")
    elif chars > 500:
        add(0.12, f"substantial task ({chars} chars)")
    elif chars > 250:
        add(0.06, f"medium-length task ({chars} chars)")
    if text.prompt_chars > 20_000 and chars <= 1500:
        add(0.1, f"large context ({text.prompt_chars} chars)")
    lower = task.lower()
    hits, distinct = lexicon.read(lower)
    explains = hits["explain"] > 0
    simple = chars < 300 and not explains and _SIMPLE.search(lower) is not None
    if not simple and (explains or hits["produce"]):
        add(0.25, "asks for something to be produced")
    demands = len(distinct.get("demands", ()))
    if demands >= 3:
        add(min(0.3, 0.06 * (demands - 2) + 0.06), f"{demands} distinct demands")
    code = min(3, lower.count("```") // 2 + _count(_CODE_LINE, task, 3))
    if code:
        add(0.08 + 0.03 * min(code, 3), "contains code")
    for category, base, step, cap, reason in _WEIGHTS:
        n = min(hits[category], cap)
        if n:
            add(base + step * (n - 1), reason)
    steps = hits["steps"] + _count(_LIST_LINE, task, 8)
    if steps >= 3:
        add(min(0.15, 0.03 * min(steps, 8)), f"multi-step instructions ({steps} markers)")
    questions = task.count("?")
    if questions >= 3:
        add(0.05, f"{questions} questions")
    constraints = min(hits["constraints"], 5)
    if constraints >= 2 or json_schema:
        add(0.03 + 0.01 * constraints + (0.03 if json_schema else 0), "output constraints")
    if text.turns >= 12:
        add(0.08, f"deep conversation ({text.turns} turns)")
    elif text.turns >= 6:
        add(0.04, f"conversation ({text.turns} turns)")
    if tools:
        add(0.1, "drives tools")
    if reasoning:
        add(0.2, "asks for reasoning")
    if len(text.system) > 2000:
        add(0.05, "long system prompt")
    if simple:
        add(-0.1, "simple lookup or rewrite")
    value = min(1.0, max(0.0, round(points, 3)))
    if not reasons:
        reasons.append("short plain request")
    return Score(value, tier_of(value), tuple(reasons))
