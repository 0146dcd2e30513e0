"""A `Conversation` written as the request of the family that serves it.

Each family's limits are checked here, where they are known: a parameter the target
cannot take as it is (OpenAI has no ``top_k``; Anthropic's temperature stops at 1;
OpenAI takes 4 stop sequences, Gemini 5) stops the translation rather than being bent.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote

import orjson

from llmledger.providers.json_fields import JSONObject

from .conversation import Conversation, Untranslatable

#: Gemini 2.5 Flash and Flash-Lite think unless told not to; Pro cannot be told.
_THINKS_BY_DEFAULT = ("gemini-2.5-flash",)


@dataclass(frozen=True, slots=True)
class UpstreamCall:
    """What is sent to the target: the path below its gateway prefix, query and body."""

    subpath: str
    wire_subpath: str
    query: str
    body: bytes


def write_request(
    family: str, conversation: Conversation, model: str, max_tokens: int
) -> UpstreamCall:
    """`conversation` as a request to `model` of `family`; `max_tokens` is the output
    cap used when the caller set none and the family needs one."""
    if family == "openai":
        return _openai(conversation, model)
    if family == "anthropic":
        return _anthropic(conversation, model, max_tokens)
    if family == "google":
        return _gemini(conversation, model)
    raise Untranslatable(f"requests to {family} are not translated")


def _set(body: JSONObject, key: str, value: object) -> None:
    if value is not None and value != ():
        body[key] = list(value) if isinstance(value, tuple) else value


def _text_or_parts(texts: tuple[str, ...]) -> object:
    if len(texts) == 1:
        return texts[0]
    return [{"type": "text", "text": t} for t in texts]


def _openai(c: Conversation, model: str) -> UpstreamCall:
    if c.top_k is not None:
        raise Untranslatable("OpenAI takes no top_k")
    if len(c.stop) > 4:
        raise Untranslatable("OpenAI takes at most 4 stop sequences")
    messages: list[JSONObject] = []
    if c.system:
        messages.append({"role": "system", "content": _text_or_parts(c.system)})
    messages.extend({"role": t.role, "content": _text_or_parts(t.texts)} for t in c.turns)
    body: JSONObject = {"model": model, "messages": messages}
    _set(body, "max_completion_tokens", c.max_tokens)
    _set(body, "temperature", c.temperature)
    _set(body, "top_p", c.top_p)
    _set(body, "stop", c.stop)
    if c.stream:
        body["stream"] = True
        body["stream_options"] = {"include_usage": True}
    return UpstreamCall("/chat/completions", "/chat/completions", "", orjson.dumps(body))


def _blocks(texts: tuple[str, ...], where: str) -> list[JSONObject]:
    # Anthropic refuses empty text blocks.
    blocks: list[JSONObject] = [{"type": "text", "text": t} for t in texts if t]
    if not blocks:
        raise Untranslatable(f"{where} has no text, which Anthropic refuses")
    return blocks


def _anthropic(c: Conversation, model: str, max_tokens: int) -> UpstreamCall:
    if c.temperature is not None and c.temperature > 1:
        raise Untranslatable(f"temperature {c.temperature} is above Anthropic's 1")
    body: JSONObject = {
        "model": model,
        "max_tokens": c.max_tokens if c.max_tokens is not None else max_tokens,
        "messages": [
            {"role": t.role, "content": _blocks(t.texts, f"a {t.role} turn")} for t in c.turns
        ],
    }
    if any(c.system):
        body["system"] = _blocks(c.system, "the system prompt")
    _set(body, "temperature", c.temperature)
    _set(body, "top_p", c.top_p)
    _set(body, "top_k", c.top_k)
    _set(body, "stop_sequences", c.stop)
    if c.stream:
        body["stream"] = True
    return UpstreamCall("/v1/messages", "/v1/messages", "", orjson.dumps(body))


def _parts(texts: tuple[str, ...]) -> list[JSONObject]:
    return [{"text": t} for t in texts] or [{"text": ""}]


def _gemini(c: Conversation, model: str) -> UpstreamCall:
    if len(c.stop) > 5:
        raise Untranslatable("Gemini takes at most 5 stop sequences")
    body: JSONObject = {
        "contents": [
            {"role": "user" if t.role == "user" else "model", "parts": _parts(t.texts)}
            for t in c.turns
        ]
    }
    if c.system:
        body["systemInstruction"] = {"parts": _parts(c.system)}
    config: JSONObject = {}
    _set(config, "maxOutputTokens", c.max_tokens)
    _set(config, "temperature", c.temperature)
    _set(config, "topP", c.top_p)
    _set(config, "topK", c.top_k)
    _set(config, "stopSequences", c.stop)
    if model.startswith(_THINKS_BY_DEFAULT):
        # The caller asked a model that does not think: so that its output cap and its
        # cost mean what they meant, the target does not either.
        config["thinkingConfig"] = {"thinkingBudget": 0}
    if config:
        body["generationConfig"] = config
    method = "streamGenerateContent" if c.stream else "generateContent"
    path = f"/v1beta/models/{model}:{method}"
    wire = f"/v1beta/models/{quote(model, safe='')}:{method}"
    return UpstreamCall(path, wire, "alt=sse" if c.stream else "", orjson.dumps(body))
