"""Whole answers of each family, written in the others' formats and read by their SDKs."""

from __future__ import annotations

import json
from typing import Any

import anthropic
import openai
import pytest
from google.genai import types

from llmledger.routing.translate import Untranslatable
from llmledger.routing.translate.reply import read_reply, write_reply
from tests.fakes.upstream import recording

ANSWERS = {
    # family: (recording, its text, (prompt tokens as callers count them, output tokens))
    "openai": (
        recording("openai", "chat_completion"),
        "Hello! How can I assist you today?",
        19,
        10,
    ),
    "anthropic": (recording("anthropic", "message"), "Hello! How can I help you today?", 12, 12),
    "google": (
        recording("gemini", "generate_content_text"),
        "The sky appears blue because of Rayleigh scattering of sunlight.",
        8,
        13,
    ),
}


@pytest.mark.parametrize("source", ["openai", "anthropic", "google"])
def test_an_answer_reads_as_the_callers_sdk_type(source: str) -> None:
    body, said, prompt, output = ANSWERS[source]
    reply = read_reply(source, body)
    assert (reply.text, reply.stop, reply.tokens.input, reply.tokens.output) == (
        said,
        "stop",
        prompt,
        output,
    )
    completion = openai.types.chat.ChatCompletion.model_validate_json(write_reply("openai", reply))
    assert completion.choices[0].message.content == said
    assert completion.choices[0].finish_reason == "stop"
    assert completion.usage is not None
    assert (completion.usage.prompt_tokens, completion.usage.completion_tokens) == (prompt, output)
    message = anthropic.types.Message.model_validate_json(write_reply("anthropic", reply))
    assert message.content[0].text == said  # type: ignore[union-attr]
    assert message.stop_reason == "end_turn"
    assert (message.usage.input_tokens, message.usage.output_tokens) == (prompt, output)
    gemini = types.GenerateContentResponse.model_validate_json(write_reply("google", reply))
    assert gemini.text == said
    assert gemini.candidates and gemini.candidates[0].finish_reason == types.FinishReason.STOP
    assert gemini.usage_metadata is not None
    assert gemini.usage_metadata.prompt_token_count == prompt
    assert gemini.usage_metadata.candidates_token_count == output


def test_cache_and_thinking_counts_are_carried_over() -> None:
    cached = read_reply("anthropic", recording("anthropic", "message_cache_read"))
    usage = json.loads(recording("anthropic", "message_cache_read"))["usage"]
    total = (
        usage["input_tokens"]
        + usage["cache_read_input_tokens"]
        + usage["cache_creation_input_tokens"]
    )
    openai_usage = json.loads(write_reply("openai", cached))["usage"]
    assert openai_usage["prompt_tokens"] == total
    assert (
        openai_usage["prompt_tokens_details"]["cached_tokens"] == usage["cache_read_input_tokens"]
    )
    assert json.loads(write_reply("anthropic", cached))["usage"] == {
        k: usage[k]
        for k in (
            "input_tokens",
            "cache_creation_input_tokens",
            "cache_read_input_tokens",
            "output_tokens",
        )
    }
    thinking = read_reply("google", recording("gemini", "generate_content_thinking"))
    meta = json.loads(recording("gemini", "generate_content_thinking"))["usageMetadata"]
    written = json.loads(write_reply("openai", thinking))["usage"]
    assert written["completion_tokens"] == meta["candidatesTokenCount"] + meta["thoughtsTokenCount"]
    assert written["completion_tokens_details"]["reasoning_tokens"] == meta["thoughtsTokenCount"]


@pytest.mark.parametrize(
    ("source", "answer", "openai_reason", "anthropic_reason", "gemini_reason"),
    [
        ("anthropic", {"stop_reason": "max_tokens"}, "length", "max_tokens", "MAX_TOKENS"),
        ("anthropic", {"stop_reason": "refusal"}, "content_filter", "refusal", "SAFETY"),
        ("openai", {"finish_reason": "length"}, "length", "max_tokens", "MAX_TOKENS"),
        ("openai", {"finish_reason": "content_filter"}, "content_filter", "refusal", "SAFETY"),
        ("google", {"finishReason": "MAX_TOKENS"}, "length", "max_tokens", "MAX_TOKENS"),
        ("google", {"finishReason": "RECITATION"}, "content_filter", "refusal", "SAFETY"),
    ],
)
def test_stop_reasons_are_mapped(
    source: str,
    answer: dict[str, Any],
    openai_reason: str,
    anthropic_reason: str,
    gemini_reason: str,
) -> None:
    body = json.loads(ANSWERS[source][0])
    if source == "openai":
        body["choices"][0] |= answer
    elif source == "google":
        body["candidates"][0] |= answer
    else:
        body |= answer
    reply = read_reply(source, json.dumps(body).encode())
    assert json.loads(write_reply("openai", reply))["choices"][0]["finish_reason"] == openai_reason
    assert json.loads(write_reply("anthropic", reply))["stop_reason"] == anthropic_reason
    written = json.loads(write_reply("google", reply))
    assert written["candidates"][0]["finishReason"] == gemini_reason


def test_answers_with_more_than_text_are_not_translated() -> None:
    tool_call = json.loads(ANSWERS["openai"][0])
    tool_call["choices"][0]["message"]["tool_calls"] = [{"id": "c1", "type": "function"}]
    with pytest.raises(Untranslatable, match="calls tools"):
        read_reply("openai", json.dumps(tool_call).encode())
    tool_use = json.loads(ANSWERS["anthropic"][0])
    tool_use["content"].append({"type": "tool_use", "id": "t1", "name": "f", "input": {}})
    with pytest.raises(Untranslatable, match="'tool_use' block"):
        read_reply("anthropic", json.dumps(tool_use).encode())
    with pytest.raises(Untranslatable, match="inlineData part"):
        read_reply("google", recording("gemini", "generate_content_image_output"))
    with pytest.raises(Untranslatable, match="not a JSON object"):
        read_reply("anthropic", ANSWERS["anthropic"][0][:40])
