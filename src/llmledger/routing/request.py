"""What routing reads of a request: the text to score and the capabilities it needs.

Works on the parsed JSON body of any of the four API families (OpenAI chat/responses,
Anthropic messages, Gemini generateContent, Bedrock Converse) and on the `features`
each adapter already set, so the prompt is walked once and nothing is tokenised.
"""

from __future__ import annotations

from dataclasses import dataclass

from llmledger.providers.base import RequestInfo

#: Keys whose strings are prompt text (others hold ids, media data, URLs, roles...).
_TEXT_KEYS = frozenset(
    {
        "content",
        "text",
        "input",
        "instructions",
        "system",
        "parts",
        "messages",
        "contents",
        "systemInstruction",
        "system_instruction",
    }
)
_SKIP_KEYS = frozenset(
    {
        "image_url",
        "input_audio",
        "source",
        "inlineData",
        "inline_data",
        "fileData",
        "file_data",
        "image",
        "document",
        "audio",
        "video",
        "cache_control",
        "id",
        "tool_use_id",
        "tool_call_id",
    }
)
#: Most characters of the last user turn the scorer reads (head and tail).
SCAN_CHARS = 12_000
_REASONING_KEYS = ("reasoning_effort", "reasoning")


@dataclass(frozen=True, slots=True)
class RequestText:
    last_user: str
    """The last user turn (the task), cut to `SCAN_CHARS` around its head and tail."""
    system: str
    prompt_chars: int
    turns: int


@dataclass(frozen=True, slots=True)
class Needs:
    tools: tuple[str, ...] | None
    """Declared tool names, or None when no tools are declared."""
    json_schema: bool
    images: bool
    audio: bool
    reasoning: bool
    context_tokens: int
    """A bound on the tokens the call needs in the target's window (prompt + output cap)."""


def _strings(value: object, out: list[str]) -> None:
    if isinstance(value, str):
        out.append(value)
    elif isinstance(value, list):
        for item in value:
            _strings(item, out)
    elif isinstance(value, dict):
        for key, item in value.items():
            if key in _TEXT_KEYS:
                _strings(item, out)
            elif key not in _SKIP_KEYS and isinstance(item, list | dict):
                _strings(item, out)


def _text(value: object) -> str:
    out: list[str] = []
    _strings(value, out)
    return "\n".join(out)


def _turns(body: dict[str, object]) -> list[object]:
    for key in ("messages", "contents", "input"):
        value = body.get(key)
        if isinstance(value, list):
            return value
    return []


def read_text(body: dict[str, object]) -> RequestText:
    turns = _turns(body)
    system_parts = [
        body.get(k) for k in ("system", "instructions", "systemInstruction", "system_instruction")
    ]
    last_user: object = body.get("input") if isinstance(body.get("input"), str) else None
    prompt_chars = 0
    for turn in turns:
        if not isinstance(turn, dict):
            continue
        role = turn.get("role")
        if role in ("system", "developer"):
            system_parts.append(turn.get("content"))
        elif role in ("user", None):
            last_user = turn
    system = _text(system_parts)
    user = _text(last_user) if last_user is not None else ""
    whole = sum(len(s) for s in _iter_text(turns)) + len(system)
    prompt_chars = max(whole, len(user))
    if len(user) > SCAN_CHARS:
        half = SCAN_CHARS // 2
        user = user[:half] + "\n" + user[-half:]
    return RequestText(user, system, prompt_chars, len(turns) or 1)


def _iter_text(turns: list[object]) -> list[str]:
    out: list[str] = []
    _strings(turns, out)
    return out


def _tool_names(body: dict[str, object]) -> tuple[str, ...] | None:
    tools = body.get("tools") or body.get("functions")
    config = body.get("toolConfig")
    if not tools and isinstance(config, dict):
        tools = config.get("tools")
    if not isinstance(tools, list) or not tools:
        return None
    names: list[str] = []
    for tool in tools:
        if not isinstance(tool, dict):
            continue
        fn = tool.get("function") or tool.get("toolSpec") or tool
        name = fn.get("name") if isinstance(fn, dict) else None
        declarations = tool.get("functionDeclarations") or tool.get("function_declarations")
        if isinstance(declarations, list):
            names.extend(str(d.get("name", "")) for d in declarations if isinstance(d, dict))
        else:
            names.append(str(name or tool.get("type", "")))
    return tuple(names)


def _flag(features: dict[str, object], *names: str) -> bool:
    return any(bool(features.get(n)) for n in names)


def read_needs(body: dict[str, object], info: RequestInfo, prompt_chars: int) -> Needs:
    f = info.features
    reasoning = _flag(f, "has_thinking", "thinking_budget") or any(
        body.get(k) for k in _REASONING_KEYS
    )
    # About four characters a token in English; three is the cautious side for code.
    context = prompt_chars // 3 + (info.max_output_tokens or 0)
    return Needs(
        tools=_tool_names(body) if _flag(f, "has_tools", "tools") else None,
        json_schema=_flag(f, "json_schema"),
        images=_flag(f, "has_images", "images", "video", "has_documents", "documents"),
        audio=_flag(f, "has_audio", "audio"),
        reasoning=reasoning,
        context_tokens=context,
    )
