"""The scorer's vocabulary, matched in one pass over the task's words.

Regular expressions with many alternatives cost Python tens of microseconds per hundred
characters each; here the task is split into words once and every word is looked up in
one table (exact form, then its 4- to 8-letter stems), so a request of a few thousand
characters is read in well under a millisecond.
"""

from __future__ import annotations

import re
from collections import Counter
from types import MappingProxyType

_WORD = re.compile(r"[a-z][a-z0-9'+#-]*")

#: Category -> terms. ``word*`` matches any word starting with ``word``; terms with a
#: space are phrases, found in the lower-cased text.
TERMS: dict[str, tuple[str, ...]] = {
    "coding": (
        "implement*",
        "refactor*",
        "debug*",
        "stack trace",
        "traceback",
        "segfault",
        "race condition",
        "unit test",
        "test suite",
        "code review",
        "optimiz*",
        "optimis*",
        "concurren*",
        "deadlock*",
        "memory leak",
        "time complexity",
        "algorithm*",
        "regex",
        "parser",
        "dockerfile",
        "endpoint",
        "idempoten*",
        "lock-free",
        "coroutine*",
    ),
    "design": (
        "architect*",
        "system design",
        "design a",
        "design an",
        "design the",
        "schema",
        "trade-off*",
        "tradeoff*",
        "scalab*",
        "migration plan",
        "threat model",
        "roadmap",
        "strategy",
        "proposal",
    ),
    "maths": (
        "prove",
        "proof",
        "theorem",
        "lemma",
        "derivative",
        "integral",
        "eigen*",
        "probabilit*",
        "expected value",
        "variance",
        "regression",
        "bayes*",
        "solve for",
        "differential equation",
        "matrix",
        "big-o",
        "npv",
        "irr",
        "discounted cash flow",
        "\\frac",
        "\\sum",
        "\\int",
    ),
    "analysis": (
        "analys*",
        "analyz*",
        "compare",
        "comparison",
        "evaluat*",
        "assess*",
        "critique",
        "pros and cons",
        "root cause",
        "investigat*",
        "reconcil*",
        "forecast*",
        "justify",
        "recommend*",
        "implication*",
        "hypothes*",
        "diagnos*",
        "explain why",
        "why does",
        "why do",
        "why is",
        "why are",
        "why did",
    ),
    "steps": (
        "step by step",
        "step-by-step",
        "first",
        "firstly",
        "second",
        "secondly",
        "then",
        "next",
        "finally",
        "afterwards",
    ),
    "constraints": (
        "must",
        "exactly",
        "at least",
        "at most",
        "no more than",
        "do not",
        "don't",
        "never",
        "always",
        "make sure",
        "ensure",
        "edge case",
        "json",
        "yaml",
        "markdown table",
        "word limit",
    ),
    "explain": (
        "difference",
        "differences",
        "pros and cons",
        "explain*",
        "paragraph",
        "paragraphs",
        "each",
        "summary",
        "routine",
        "include",
        "suggest",
        "reply",
        "components",
        "bullet points",
        "then",
        "compute",
        "and tell",
    ),
    "produce": (
        "write",
        "draft",
        "create",
        "explain",
        "describe",
        "summarize",
        "summarise",
        "outline",
        "compose",
        "suggest",
        "prepare",
        "list",
        "give me a list",
        "give me feedback",
        "what are the",
        "how does",
        "how do",
        "how to",
        "build",
        "design",
        "plan",
        "review",
        "propose",
        "compare",
        "analyze",
        "analyse",
        "implement",
        "derive",
        "compute",
        "evaluate",
        "investigate",
        "audit",
        "assess",
        "solve",
        "prove",
        "reconcile",
        "model",
        "forecast",
        "debug",
        "refactor",
        "turn these",
        "return",
        "extract every",
    ),
    "demands": (
        "implement*",
        "design*",
        "analy*",
        "compar*",
        "explain*",
        "propos*",
        "recommend*",
        "estimat*",
        "deriv*",
        "comput*",
        "identif*",
        "evaluat*",
        "build*",
        "review*",
        "investigat*",
        "describ*",
        "includ*",
        "discuss*",
        "defin*",
        "justif*",
        "writ*",
        "test*",
        "benchmark*",
        "model*",
        "measur*",
        "prioriti*",
        "plan*",
        "interpret*",
        "diagnos*",
        "reproduc*",
        "formulat*",
        "solv*",
        "assess*",
        "list*",
        "summari*",
        "show*",
        "walk through",
        "walk me through",
        "open a pr",
        "open a pull request",
        "rewrit*",
        "refactor*",
        "fix*",
        "reconcil*",
        "audit*",
        "outlin*",
        "generali*",
        "simulat*",
        "detect*",
        "handl*",
        "support*",
        "expos*",
        "report*",
    ),
}
_STEM_LENGTHS = (8, 7, 6, 5, 4)


def _tables() -> tuple[
    dict[str, tuple[str, ...]], dict[str, tuple[str, ...]], dict[str, tuple[str, ...]]
]:
    exact: dict[str, list[str]] = {}
    stems: dict[str, list[str]] = {}
    phrases: dict[str, list[str]] = {}
    for category, terms in TERMS.items():
        for term in terms:
            if " " in term or "\\" in term:
                phrases.setdefault(term, []).append(category)
            elif term.endswith("*"):
                stems.setdefault(term[:-1], []).append(category)
            else:
                exact.setdefault(term, []).append(category)
    return _freeze(exact), _freeze(stems), _freeze(phrases)


def _freeze(table: dict[str, list[str]]) -> dict[str, tuple[str, ...]]:
    return {k: tuple(v) for k, v in table.items()}


_EXACT, _STEMS, _PHRASES = (MappingProxyType(t) for t in _tables())


def read(lower: str) -> tuple[Counter[str], dict[str, set[str]]]:
    """Hits per category in lower-cased text, and the distinct stems of each category."""
    hits: Counter[str] = Counter()
    distinct: dict[str, set[str]] = {}
    for word in _WORD.findall(lower):
        found = set(_EXACT.get(word, ()))
        for n in _STEM_LENGTHS:
            if len(word) >= n:
                stemmed = _STEMS.get(word[:n])
                if stemmed is not None:
                    found.update(stemmed)
                    break
        for c in found:
            hits[c] += 1
            distinct.setdefault(c, set()).add(word[:6])
    for phrase, categories in _PHRASES.items():
        if phrase in lower:
            for c in categories:
                hits[c] += 1
                distinct.setdefault(c, set()).add(phrase[:6])
    return hits, distinct
