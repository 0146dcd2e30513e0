"""Cross-provider routing: a call in one family's chat format served by a model of
another (OpenAI chat/completions, Anthropic messages, Gemini generateContent and
streamGenerateContent), answered in the caller's own format, streams included.

A call passes through a neutral form (`conversation`): read from the caller's format
(`read_request`), written in the target's (`write_request`); the answer comes back whole
(`reply`) or streamed (`stream_read`, `stream_write`). What the neutral form cannot
carry stops the translation (`Untranslatable`), and the call keeps its requested model.
"""

from __future__ import annotations

from llmledger.providers.json_fields import JSONObject

from .conversation import Untranslatable
from .translation import FAMILIES, TranslatedStream, Translation, translate


def refusal(caller: str, provider: str, operation: str, body: JSONObject) -> str | None:
    """Why the call cannot be served by `provider` in translation, or None."""
    if caller not in FAMILIES or provider not in FAMILIES:
        return f"cross-provider routing translates only {', '.join(sorted(FAMILIES))}"
    try:
        translate(caller, provider, operation, body, "model", 1)
    except Untranslatable as exc:
        return f"not translated to {provider}: {exc}"
    return None


__all__ = [
    "FAMILIES",
    "TranslatedStream",
    "Translation",
    "Untranslatable",
    "refusal",
    "translate",
]
