"""Reading an Anthropic request: operation, model, max_tokens and a bound on its input."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

import orjson

from llmledger.providers.base import RequestError, RequestInfo
from llmledger.providers.json_fields import JSONObject, items, loads_object, obj, text
from llmledger.usage import Usage, UsageType

from .errors import invalid

#: Tokens per message and per request that the prompt format adds around the text.
PER_MESSAGE_TOKENS = 8
PER_REQUEST_TOKENS = 32
#: Most tokens one input image can be billed as (about width x height / 750).
IMAGE_TOKEN_BOUND = 5_000
#: Tools that run on Anthropic's side and add their results to the input.
_CLIENT_TOOL_TYPES = frozenset({"custom", ""})
_NOT_TEXT = frozenset({"type", "id", "tool_use_id", "role", "media_type", "cache_control"})


@dataclass(slots=True)
class _Tally:
    text_bytes: int = 0
    chars: int = 0
    images: int = 0
    documents: int = 0
    partial: bool = False
    cache_control: bool = False

    def add(self, value: object) -> _Tally:
        if isinstance(value, str):
            self.text_bytes += len(value.encode("utf-8", errors="replace"))
            self.chars += len(value)
        elif isinstance(value, list):
            for item in value:
                self.add(item)
        elif isinstance(value, dict):
            self._add_block(value)
        return self

    def _add_block(self, block: dict[str, object]) -> None:
        if "cache_control" in block:
            self.cache_control = True
        kind = block.get("type")
        source = obj(block.get("source"))
        if kind == "image":
            self.images += 1
            self.partial = self.partial or source.get("type") == "file"
            return
        if kind == "document":
            self.documents += 1
            data = source.get("data")
            if source.get("type") in ("url", "file"):
                self.partial = True
            if isinstance(data, str):
                # A base64 PDF's length exceeds the tokens of its pages' text and images.
                self.text_bytes += len(data)
                if source.get("type") == "text":
                    self.chars += len(data)
                return
        for key, item in block.items():
            if key not in _NOT_TEXT:
                self.add(item)


def read_request(method: str, path: str, headers: Mapping[str, str], body: bytes) -> RequestInfo:
    route = path.strip("/").removeprefix("v1/")
    verb = method.upper()
    if verb == "GET" and (route == "models" or route.startswith("models/")):
        operation = "models.list" if route == "models" else "models.retrieve"
        return RequestInfo(operation, "", False, None, Usage(), billable=False, body=body)
    if verb != "POST" or route not in ("messages", "messages/count_tokens"):
        raise RequestError(
            404,
            "not_found_error",
            f"llmledger does not meter {verb} /v1/{route}; supported: messages, "
            "messages/count_tokens, models.",
        )
    request = loads_object(body)
    if request is None:
        raise invalid("The request body is not valid JSON: expected a JSON object.")
    model = request.get("model")
    if not isinstance(model, str) or not model:
        raise invalid("model: Field required (a non-empty string).")
    messages = request.get("messages")
    if not isinstance(messages, list) or not all(isinstance(m, dict) for m in messages):
        raise invalid("messages: Field required (an array of message objects).")
    if route == "messages/count_tokens":
        return RequestInfo(
            "messages.count_tokens", model, False, None, Usage(), billable=False, body=body
        )
    max_tokens = request.get("max_tokens")
    if max_tokens is None:
        raise invalid("max_tokens: Field required.")
    if isinstance(max_tokens, bool) or not isinstance(max_tokens, int) or max_tokens < 1:
        raise invalid("max_tokens: Input should be an integer greater than or equal to 1.")
    stream = request.get("stream", False)
    if stream is not None and not isinstance(stream, bool):
        raise invalid("stream: Input should be a valid boolean.")
    return _messages(request, model, max_tokens, bool(stream), body)


def _messages(
    request: JSONObject, model: str, max_tokens: int, stream: bool, body: bytes
) -> RequestInfo:
    messages = items(request.get("messages"))
    prompt = _Tally().add([request.get("system"), messages])
    tools = items(request.get("tools"))
    tool_bytes = len(orjson.dumps(tools)) if tools else 0
    server_tools = any(text(obj(t).get("type")) not in _CLIENT_TOOL_TYPES for t in tools)
    bound_tokens = (
        prompt.text_bytes
        + tool_bytes
        + PER_MESSAGE_TOKENS * len(messages)
        + PER_REQUEST_TOKENS
        + IMAGE_TOKEN_BOUND * prompt.images
    )
    cached = (
        prompt.cache_control
        or "cache_control" in request
        or any("cache_control" in obj(t) for t in tools)
    )
    # With cache breakpoints the input may be billed as cache writes, which cost more.
    token_type = UsageType.CACHE_WRITE_TOKENS if cached else UsageType.INPUT_TOKENS
    info = RequestInfo(
        operation="messages",
        model=model,
        stream=stream,
        max_output_tokens=max_tokens,
        input_upper_bound=Usage(
            {token_type: Decimal(bound_tokens), UsageType.INPUT_IMAGES: Decimal(prompt.images)}
        ),
        body=body,
        features={
            "has_tools": bool(tools),
            "has_images": prompt.images > 0,
            "has_documents": prompt.documents > 0,
            "has_audio": False,
            "has_thinking": obj(request.get("thinking")).get("type") in ("enabled", "adaptive"),
            "json_schema": _json_schema(request),
            "message_count": len(messages),
            "prompt_chars": prompt.chars,
        },
    )
    if prompt.partial or server_tools or request.get("mcp_servers") or request.get("container"):
        info.attributes["input_bound"] = "partial"
    return info


def _json_schema(request: JSONObject) -> bool:
    for holder in (obj(request.get("output_config")), request):
        if obj(holder.get("format") or holder.get("output_format")).get("type") == "json_schema":
            return True
    return False
