"""Usage blocks of each family read into `Tokens` and written back from them.

Only what the caller's SDK shows is written here; the ledger prices the call from the
upstream's own usage block, read by that provider's adapter.
"""

from __future__ import annotations

from llmledger.providers.json_fields import JSONObject, integer, obj

from .conversation import Tokens


def read_openai(usage: JSONObject) -> Tokens:
    prompt = obj(usage.get("prompt_tokens_details"))
    completion = obj(usage.get("completion_tokens_details"))
    return Tokens(
        input=integer(usage.get("prompt_tokens")),
        cached=integer(prompt.get("cached_tokens")),
        output=integer(usage.get("completion_tokens")),
        reasoning=integer(completion.get("reasoning_tokens")),
    )


def write_openai(tokens: Tokens) -> JSONObject:
    return {
        "prompt_tokens": tokens.input,
        "completion_tokens": tokens.output,
        "total_tokens": tokens.input + tokens.output,
        "prompt_tokens_details": {"cached_tokens": tokens.cached, "audio_tokens": 0},
        "completion_tokens_details": {
            "reasoning_tokens": tokens.reasoning,
            "audio_tokens": 0,
            "accepted_prediction_tokens": 0,
            "rejected_prediction_tokens": 0,
        },
    }


def read_anthropic(usage: JSONObject) -> Tokens:
    """Anthropic's ``input_tokens`` leaves out the tokens read from and written to the
    cache; callers of the other families count them in the prompt."""
    cached = integer(usage.get("cache_read_input_tokens"))
    written = integer(usage.get("cache_creation_input_tokens"))
    return Tokens(
        input=integer(usage.get("input_tokens")) + cached + written,
        cached=cached,
        cache_write=written,
        output=integer(usage.get("output_tokens")),
    )


def write_anthropic(tokens: Tokens) -> JSONObject:
    return {
        "input_tokens": max(tokens.input - tokens.cached - tokens.cache_write, 0),
        "cache_creation_input_tokens": tokens.cache_write,
        "cache_read_input_tokens": tokens.cached,
        "output_tokens": tokens.output,
    }


def read_gemini(meta: JSONObject) -> Tokens:
    """``candidatesTokenCount`` leaves out the thoughts, which are billed as output."""
    thoughts = integer(meta.get("thoughtsTokenCount"))
    return Tokens(
        input=integer(meta.get("promptTokenCount")) + integer(meta.get("toolUsePromptTokenCount")),
        cached=integer(meta.get("cachedContentTokenCount")),
        output=integer(meta.get("candidatesTokenCount")) + thoughts,
        reasoning=thoughts,
    )


def write_gemini(tokens: Tokens) -> JSONObject:
    meta: JSONObject = {
        "promptTokenCount": tokens.input,
        "candidatesTokenCount": tokens.output - tokens.reasoning,
        "totalTokenCount": tokens.input + tokens.output,
    }
    if tokens.cached:
        meta["cachedContentTokenCount"] = tokens.cached
    if tokens.reasoning:
        meta["thoughtsTokenCount"] = tokens.reasoning
    return meta
