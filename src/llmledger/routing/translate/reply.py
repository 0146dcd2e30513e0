"""A whole (non-streamed) answer read into a `Reply` and written in the caller's format."""

from __future__ import annotations

import time

import orjson

from llmledger.providers.json_fields import JSONObject, items, loads_object, obj, text

from . import stops, tokens
from .conversation import Reply, Untranslatable


def read_reply(family: str, body: bytes) -> Reply:
    """The answer of `family`; raises `Untranslatable` when it is not one."""
    answer = loads_object(body)
    if answer is None:
        raise Untranslatable(f"the {family} answer is not a JSON object")
    if family == "openai":
        return _read_openai(answer)
    if family == "anthropic":
        return _read_anthropic(answer)
    return _read_gemini(answer)


def write_reply(family: str, reply: Reply) -> bytes:
    if family == "openai":
        return orjson.dumps(_write_openai(reply))
    if family == "anthropic":
        return orjson.dumps(_write_anthropic(reply))
    return orjson.dumps(_write_gemini(reply))


def _read_openai(answer: JSONObject) -> Reply:
    choices = items(answer.get("choices"))
    if len(choices) != 1:
        raise Untranslatable("the OpenAI answer does not have exactly one choice")
    choice = obj(choices[0])
    message = obj(choice.get("message"))
    if message.get("tool_calls"):
        raise Untranslatable("the OpenAI answer calls tools")
    refusal = text(message.get("refusal"))
    reason = stops.read("openai", text(choice.get("finish_reason")))
    return Reply(
        id=text(answer.get("id")),
        model=text(answer.get("model")),
        text=text(message.get("content")) or refusal,
        stop="content_filter" if refusal and not message.get("content") else reason,
        tokens=tokens.read_openai(obj(answer.get("usage"))),
    )


def _read_anthropic(answer: JSONObject) -> Reply:
    parts: list[str] = []
    for block in items(answer.get("content")):
        kind = obj(block).get("type")
        if kind == "text":
            parts.append(text(obj(block).get("text")))
        elif kind not in ("thinking", "redacted_thinking"):
            raise Untranslatable(f"the Anthropic answer has a {kind!r} block")
    sequence = answer.get("stop_sequence")
    return Reply(
        id=text(answer.get("id")),
        model=text(answer.get("model")),
        text="".join(parts),
        stop=stops.read("anthropic", text(answer.get("stop_reason"))),
        tokens=tokens.read_anthropic(obj(answer.get("usage"))),
        stop_sequence=sequence if isinstance(sequence, str) else None,
    )


def gemini_text(chunk: JSONObject) -> tuple[str, str | None]:
    """The answer text of one Gemini response (thoughts left out) and its finish
    reason, if it has one. Raises `Untranslatable` for parts that are not text."""
    candidates = items(chunk.get("candidates"))
    if len(candidates) > 1:
        raise Untranslatable("the Gemini answer has several candidates")
    if not candidates:
        blocked = obj(chunk.get("promptFeedback")).get("blockReason")
        return "", "SAFETY" if blocked else None
    candidate = obj(candidates[0])
    parts: list[str] = []
    for part in items(obj(candidate.get("content")).get("parts")):
        p = obj(part)
        if isinstance(p.get("text"), str):
            if not p.get("thought"):
                parts.append(str(p["text"]))
        elif not set(p) <= {"thoughtSignature"}:
            raise Untranslatable(f"the Gemini answer has a {', '.join(p)} part")
    reason = candidate.get("finishReason")
    return "".join(parts), reason if isinstance(reason, str) else None


def _read_gemini(answer: JSONObject) -> Reply:
    said, reason = gemini_text(answer)
    return Reply(
        id=text(answer.get("responseId")),
        model=text(answer.get("modelVersion")),
        text=said,
        stop=stops.read("google", reason or "STOP"),
        tokens=tokens.read_gemini(obj(answer.get("usageMetadata"))),
    )


def _write_openai(reply: Reply) -> JSONObject:
    return {
        "id": reply.id,
        "object": "chat.completion",
        "created": int(time.time()),
        "model": reply.model,
        "choices": [
            {
                "index": 0,
                "message": {
                    "role": "assistant",
                    "content": reply.text,
                    "refusal": None,
                    "annotations": [],
                },
                "logprobs": None,
                "finish_reason": stops.write("openai", reply.stop),
            }
        ],
        "usage": tokens.write_openai(reply.tokens),
    }


def _write_anthropic(reply: Reply) -> JSONObject:
    return {
        "id": reply.id,
        "type": "message",
        "role": "assistant",
        "model": reply.model,
        "content": [{"type": "text", "text": reply.text}] if reply.text else [],
        "stop_reason": stops.write("anthropic", reply.stop),
        "stop_sequence": reply.stop_sequence,
        "usage": tokens.write_anthropic(reply.tokens),
    }


def _write_gemini(reply: Reply) -> JSONObject:
    return {
        "candidates": [
            {
                "content": {"parts": [{"text": reply.text}], "role": "model"},
                "finishReason": stops.write("google", reply.stop),
                "index": 0,
            }
        ],
        "usageMetadata": tokens.write_gemini(reply.tokens),
        "modelVersion": reply.model,
        "responseId": reply.id,
    }
