"""Bedrock model ids: foundation models, cross-region inference profiles and ARNs."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import unquote

#: Prefixes of system-defined cross-region inference profiles (``us.anthropic...``).
GEO_PREFIXES = frozenset({"us", "eu", "apac", "us-gov", "global", "jp", "au", "ca", "ap"})

#: Foundation model id prefix -> API family of its invoke body.
_FAMILIES = (
    ("anthropic.", "anthropic"),
    ("amazon.nova", "nova"),
    ("amazon.titan", "titan"),
    ("meta.", "meta"),
    ("mistral.", "mistral"),
    ("cohere.", "cohere"),
    ("ai21.", "ai21"),
    ("deepseek.", "openai"),
    ("openai.", "openai"),
    ("qwen.", "openai"),
)


@dataclass(frozen=True, slots=True)
class BedrockModel:
    requested: str
    """The model id as the caller sent it, URL-decoded."""
    base: str
    """The foundation model (``anthropic.claude-sonnet-4-5-20250929-v1:0``), or the
    requested id when it cannot be known (an application inference profile ARN)."""
    profile: str | None
    """``us``/``eu``/``global``... for a cross-region profile, ``application`` or
    ``provisioned`` for those ARNs, None for a plain foundation model."""
    family: str
    """``anthropic``, ``nova``, ``meta``, ``mistral``... or ``unknown``."""


def parse_model_id(raw: str) -> BedrockModel:
    requested = unquote(raw)
    base, profile = requested, None
    if requested.startswith("arn:"):
        resource = requested.split(":", 5)[-1]
        kind, _, name = resource.partition("/")
        base = name or resource
        if kind == "application-inference-profile":
            profile = "application"
        elif kind in ("provisioned-model", "custom-model-deployment", "imported-model"):
            profile = kind.removesuffix("-model").removesuffix("-deployment")
    head, dot, rest = base.partition(".")
    if dot and head in GEO_PREFIXES and "." in rest:
        base, profile = rest, head
    family = next((f for prefix, f in _FAMILIES if base.startswith(prefix)), "unknown")
    return BedrockModel(requested=requested, base=base, profile=profile, family=family)


def family_from_body(body: object) -> str:
    """The family of an invoke body, for model ids that do not say (opaque ARNs)."""
    if not isinstance(body, dict):
        return "unknown"
    if "anthropic_version" in body:
        return "anthropic"
    if "schemaVersion" in body or ("messages" in body and "inferenceConfig" in body):
        return "nova"
    if "max_gen_len" in body:
        return "meta"
    if "inputText" in body or "textGenerationConfig" in body:
        return "titan"
    if "prompt" in body:
        return "mistral"
    if "messages" in body:
        return "openai"
    return "unknown"
