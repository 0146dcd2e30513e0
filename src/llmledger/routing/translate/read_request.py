"""A caller's request read into a `Conversation`, or refused as untranslatable.

Each family's request is read field by field against what the neutral form can carry.
A field that changes the answer and has no equal in the other families (tools, media,
structured output, reasoning settings, several candidates, log probabilities...) stops
the translation with the reason recorded on the event. Fields that only identify the
caller or tune the provider's service (``user``, ``metadata``, ``seed``, ``service_tier``,
cache hints) are left behind.
"""

from __future__ import annotations

from collections.abc import Callable

from llmledger.providers.json_fields import JSONObject, items, obj

from .conversation import Conversation, Role, Turn, Untranslatable

_OPENAI_KEPT = frozenset(
    {
        "model",
        "messages",
        "stream",
        "stream_options",
        "max_tokens",
        "max_completion_tokens",
        "temperature",
        "top_p",
        "stop",
    }
)
#: Accepted only at their neutral value (the default, or what changes nothing).
_OPENAI_NEUTRAL: dict[str, Callable[[object], bool]] = {
    "n": lambda v: v in (None, 1),
    "logprobs": lambda v: v in (None, False),
    "presence_penalty": lambda v: v in (None, 0),
    "frequency_penalty": lambda v: v in (None, 0),
    "response_format": lambda v: v is None or obj(v).get("type") == "text",
    "modalities": lambda v: v is None or v == ["text"],
    "tools": lambda v: not v,
    "functions": lambda v: not v,
    "tool_choice": lambda v: v in (None, "none"),
    "store": lambda v: v in (None, False),
}
_OPENAI_LEFT = frozenset(
    {
        "user",
        "metadata",
        "seed",
        "service_tier",
        "parallel_tool_calls",
        "prompt_cache_key",
        "safety_identifier",
    }
)
_ANTHROPIC_KEPT = frozenset(
    {
        "model",
        "messages",
        "system",
        "max_tokens",
        "temperature",
        "top_p",
        "top_k",
        "stop_sequences",
        "stream",
    }
)
_ANTHROPIC_NEUTRAL: dict[str, Callable[[object], bool]] = {
    "thinking": lambda v: v is None or obj(v).get("type") == "disabled",
    "tools": lambda v: not v,
    "tool_choice": lambda v: v is None or obj(v).get("type") == "none",
}
_ANTHROPIC_LEFT = frozenset({"metadata", "service_tier", "cache_control"})
_GEMINI_KEPT = frozenset({"contents", "systemInstruction", "generationConfig"})
_GEMINI_NEUTRAL: dict[str, Callable[[object], bool]] = {
    "tools": lambda v: not v,
    "toolConfig": lambda v: v is None,
}
_GEMINI_LEFT = frozenset({"safetySettings", "labels"})
_GEMINI_CONFIG_KEPT = frozenset({"maxOutputTokens", "temperature", "topP", "topK", "stopSequences"})
_GEMINI_CONFIG_NEUTRAL: dict[str, Callable[[object], bool]] = {
    "candidateCount": lambda v: v in (None, 1),
    "responseMimeType": lambda v: v in (None, "text/plain"),
    "responseModalities": lambda v: v is None or [str(m).upper() for m in items(v)] == ["TEXT"],
    "presencePenalty": lambda v: v in (None, 0),
    "frequencyPenalty": lambda v: v in (None, 0),
    "responseLogprobs": lambda v: v in (None, False),
    "thinkingConfig": lambda v: (
        v is None
        or (obj(v).get("thinkingBudget") in (None, 0) and not obj(v).get("includeThoughts"))
    ),
}
_GEMINI_CONFIG_LEFT = frozenset({"seed"})


def read_request(family: str, operation: str, body: JSONObject) -> Conversation:
    """`body` of `operation` as a `Conversation`; raises `Untranslatable`."""
    if family == "openai" and operation == "chat.completions":
        return _openai(body)
    if family == "anthropic" and operation == "messages":
        return _anthropic(body)
    if family == "google" and operation in ("generateContent", "streamGenerateContent"):
        return _gemini(body, stream=operation == "streamGenerateContent")
    raise Untranslatable(f"{family} {operation} is not translated")


def _check_fields(
    body: JSONObject,
    kept: frozenset[str],
    neutral: dict[str, Callable[[object], bool]],
    left: frozenset[str],
    where: str = "",
) -> None:
    for key, value in body.items():
        if key in kept or key in left:
            continue
        test = neutral.get(key)
        if test is None:
            raise Untranslatable(f"{where}{key} is not translated")
        if not test(value):
            raise Untranslatable(f"{where}{key} is not translated (only its default is)")


def _number(value: object, name: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise Untranslatable(f"{name} is not a number")
    return float(value)


def _whole(value: object, name: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise Untranslatable(f"{name} is not a whole number")
    return value


def _strings(value: object, name: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return tuple(str(v) for v in value)
    raise Untranslatable(f"{name} is not a string or a list of strings")


def _checked(turns: list[Turn]) -> tuple[Turn, ...]:
    if not turns:
        raise Untranslatable("the conversation has no turns")
    if turns[-1].role != "user":
        # A trailing assistant turn is a prefill for one family and a finished turn for
        # the others: its meaning does not survive translation.
        raise Untranslatable("the conversation does not end with a user turn")
    return tuple(turns)


def _openai_texts(content: object, where: str) -> tuple[str, ...]:
    if content is None:
        return ()
    if isinstance(content, str):
        return (content,)
    if not isinstance(content, list):
        raise Untranslatable(f"{where} content is neither text nor a list of parts")
    texts: list[str] = []
    for part in content:
        kind = obj(part).get("type")
        if kind != "text" or not isinstance(obj(part).get("text"), str):
            raise Untranslatable(f"{where} content part {kind!r} is not translated")
        texts.append(str(obj(part)["text"]))
    return tuple(texts)


def _openai(body: JSONObject) -> Conversation:
    _check_fields(body, _OPENAI_KEPT, _OPENAI_NEUTRAL, _OPENAI_LEFT)
    system: list[str] = []
    turns: list[Turn] = []
    for message in items(body.get("messages")):
        m = obj(message)
        role = m.get("role")
        if m.get("tool_calls") or m.get("function_call") or m.get("audio"):
            raise Untranslatable("tool calls are not translated")
        texts = _openai_texts(m.get("content"), f"a {role} message's")
        if role in ("system", "developer"):
            if turns:
                raise Untranslatable("a system message inside the conversation is not translated")
            system.extend(texts)
        elif role in ("user", "assistant"):
            turns.append(Turn("user" if role == "user" else "assistant", texts))
        else:
            raise Untranslatable(f"{role!r} messages are not translated")
    cap = body.get("max_completion_tokens")
    if cap is None:
        cap = body.get("max_tokens")
    return Conversation(
        tuple(system),
        _checked(turns),
        max_tokens=_whole(cap, "max_completion_tokens"),
        temperature=_number(body.get("temperature"), "temperature"),
        top_p=_number(body.get("top_p"), "top_p"),
        stop=_strings(body.get("stop"), "stop"),
        stream=body.get("stream") is True,
    )


def _anthropic_texts(content: object, where: str) -> tuple[str, ...]:
    if isinstance(content, str):
        return (content,)
    if not isinstance(content, list):
        raise Untranslatable(f"{where} is neither text nor a list of blocks")
    texts: list[str] = []
    for block in content:
        kind = obj(block).get("type")
        if kind != "text" or not isinstance(obj(block).get("text"), str):
            raise Untranslatable(f"{where} block {kind!r} is not translated")
        texts.append(str(obj(block)["text"]))
    return tuple(texts)


def _anthropic(body: JSONObject) -> Conversation:
    _check_fields(body, _ANTHROPIC_KEPT, _ANTHROPIC_NEUTRAL, _ANTHROPIC_LEFT)
    system = body.get("system")
    system_texts = _anthropic_texts(system, "system") if system is not None else ()
    turns: list[Turn] = []
    for message in items(body.get("messages")):
        m = obj(message)
        role = m.get("role")
        if role not in ("user", "assistant"):
            raise Untranslatable(f"{role!r} messages are not translated")
        turns.append(
            Turn(
                "user" if role == "user" else "assistant",
                _anthropic_texts(m.get("content"), f"a {role} message's"),
            )
        )
    return Conversation(
        system_texts,
        _checked(turns),
        max_tokens=_whole(body.get("max_tokens"), "max_tokens"),
        temperature=_number(body.get("temperature"), "temperature"),
        top_p=_number(body.get("top_p"), "top_p"),
        top_k=_whole(body.get("top_k"), "top_k"),
        stop=_strings(body.get("stop_sequences"), "stop_sequences"),
        stream=body.get("stream") is True,
    )


def _camel(body: JSONObject) -> JSONObject:
    """The REST API takes snake_case twins of its camelCase fields; read one form."""
    out: JSONObject = {}
    for key, value in body.items():
        head, *rest = key.split("_")
        out[head + "".join(w[:1].upper() + w[1:] for w in rest)] = value
    return out


def _gemini_texts(content: object, where: str) -> tuple[str, ...]:
    texts: list[str] = []
    for part in items(_camel(obj(content)).get("parts")):
        p = _camel(obj(part))
        if not isinstance(p.get("text"), str) or p.get("thought"):
            kinds = ", ".join(k for k in p if k != "thoughtSignature")
            raise Untranslatable(f"{where} part {kinds or 'empty'!r} is not translated")
        texts.append(str(p["text"]))
    return tuple(texts)


def _gemini(body: JSONObject, *, stream: bool) -> Conversation:
    request = _camel(body)
    _check_fields(request, _GEMINI_KEPT, _GEMINI_NEUTRAL, _GEMINI_LEFT)
    config = _camel(obj(request.get("generationConfig")))
    _check_fields(
        config,
        _GEMINI_CONFIG_KEPT,
        _GEMINI_CONFIG_NEUTRAL,
        _GEMINI_CONFIG_LEFT,
        "generationConfig.",
    )
    system = request.get("systemInstruction")
    system_texts = _gemini_texts(system, "systemInstruction") if system is not None else ()
    turns: list[Turn] = []
    for content in items(request.get("contents")):
        role = obj(content).get("role") or "user"
        if role not in ("user", "model"):
            raise Untranslatable(f"{role!r} contents are not translated")
        speaker: Role = "user" if role == "user" else "assistant"
        turns.append(Turn(speaker, _gemini_texts(content, f"a {role} content's")))
    return Conversation(
        system_texts,
        _checked(turns),
        max_tokens=_whole(config.get("maxOutputTokens"), "maxOutputTokens"),
        temperature=_number(config.get("temperature"), "temperature"),
        top_p=_number(config.get("topP"), "topP"),
        top_k=_whole(config.get("topK"), "topK"),
        stop=_strings(config.get("stopSequences"), "stopSequences"),
        stream=stream,
    )
