"""Matching the model names of a provider's report with the ledger's model ids.

Reports name models their own way: ``gpt-4o-2024-08-06, input`` (OpenAI),
``claude-sonnet-4-5-20250929`` or "Claude Sonnet 4.5 Usage - Input Tokens" (Anthropic),
"Claude Sonnet 4.5 (Amazon Bedrock Edition)" or ``USE1-Nova-Pro-input-tokens`` (AWS),
"Gemini 2.5 Flash Input Text Tokens" (Google). Both sides are cut into words (letters
and digits apart, camel case split); a ledger model matches a report line when all the
words of its name (without region, vendor prefix, date and version suffix) appear in the
line. The longest such name wins, so ``gpt-4o-mini`` beats ``gpt-4o``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

_REGION = re.compile(r"^(us|eu|apac|global|us-gov|ca|jp|au)\.")
_VENDOR = re.compile(r"^[a-z0-9-]+\.(?=[a-z])")
_VERSION = re.compile(r"-v\d+(:\d+)?$")
_DATE = re.compile(r"-?(20\d{2}-?\d{2}-?\d{2})")
_WORD = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|\d+")


def words(text: str) -> frozenset[str]:
    return frozenset(w.lower() for w in _WORD.findall(text))


def core_words(model: str) -> frozenset[str]:
    """The words that identify a ledger model id."""
    name = _REGION.sub("", model.strip())
    if "." in name.split("-", 1)[0]:
        name = _VENDOR.sub("", name)
    name = _DATE.sub("", _VERSION.sub("", name))
    return words(name)


def match_model(report_name: str, ledger_models: Iterable[str]) -> str | None:
    """The ledger model a report line is about, or None when no ledger model fits."""
    models = list(ledger_models)
    if report_name in models:
        return report_name
    seen = words(report_name)
    best: tuple[int, str] | None = None
    for model in models:
        core = core_words(model)
        if core and core <= seen and (best is None or len(core) > best[0]):
            best = (len(core), model)
    return best[1] if best else None
