"""Requests read into the neutral conversation and written for another family."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from llmledger.providers.anthropic.adapter import AnthropicAdapter
from llmledger.providers.gemini.adapter import GeminiAdapter
from llmledger.providers.openai.adapter import OpenAIAdapter
from llmledger.routing.translate import Untranslatable, refusal, translate
from llmledger.routing.translate.conversation import Conversation, Turn
from llmledger.routing.translate.read_request import read_request
from llmledger.routing.translate.write_request import write_request

OPERATION = {"openai": "chat.completions", "anthropic": "messages", "google": "generateContent"}
ADAPTERS: dict[str, Any] = {
    "openai": OpenAIAdapter(),
    "anthropic": AnthropicAdapter(),
    "google": GeminiAdapter(),
}
CONVERSATION = Conversation(
    system=("Be brief.", "Answer in French."),
    turns=(
        Turn("user", ("Hi",)),
        Turn("assistant", ("Bonjour.",)),
        Turn("user", ("What is the capital", " of France?")),
    ),
    max_tokens=120,
    temperature=0.5,
    top_p=0.9,
    stop=("END", "STOP"),
)


def test_each_family_reads_the_same_conversation() -> None:
    openai_body: Any = {
        "model": "gpt-4o",
        "messages": [
            {"role": "system", "content": "Be brief."},
            {"role": "developer", "content": [{"type": "text", "text": "Answer in French."}]},
            {"role": "user", "content": "Hi"},
            {"role": "assistant", "content": "Bonjour.", "refusal": None},
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "What is the capital"},
                    {"type": "text", "text": " of France?"},
                ],
            },
        ],
        "max_tokens": 120,
        "temperature": 0.5,
        "top_p": 0.9,
        "stop": ["END", "STOP"],
        "user": "u-1",
        "n": 1,
    }
    anthropic_body: Any = {
        "model": "claude-sonnet-4-5",
        "system": [
            {"type": "text", "text": "Be brief.", "cache_control": {"type": "ephemeral"}},
            {"type": "text", "text": "Answer in French."},
        ],
        "messages": [
            {"role": "user", "content": "Hi"},
            {"role": "assistant", "content": [{"type": "text", "text": "Bonjour."}]},
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "What is the capital"},
                    {"type": "text", "text": " of France?"},
                ],
            },
        ],
        "max_tokens": 120,
        "temperature": 0.5,
        "top_p": 0.9,
        "stop_sequences": ["END", "STOP"],
        "metadata": {"user_id": "u-1"},
    }
    gemini_body: Any = {  # snake_case, as the REST API also takes it
        "system_instruction": {"parts": [{"text": "Be brief."}, {"text": "Answer in French."}]},
        "contents": [
            {"role": "user", "parts": [{"text": "Hi"}]},
            {"role": "model", "parts": [{"text": "Bonjour."}]},
            {"parts": [{"text": "What is the capital"}, {"text": " of France?"}]},
        ],
        "generation_config": {
            "max_output_tokens": 120,
            "temperature": 0.5,
            "top_p": 0.9,
            "stop_sequences": ["END", "STOP"],
            "seed": 7,
        },
    }
    assert read_request("openai", "chat.completions", openai_body) == CONVERSATION
    assert read_request("anthropic", "messages", anthropic_body) == CONVERSATION
    assert read_request("google", "generateContent", gemini_body) == CONVERSATION


@pytest.mark.parametrize("target", ["openai", "anthropic", "google"])
def test_a_written_request_reads_back_as_the_same_conversation(target: str) -> None:
    call = write_request(target, CONVERSATION, "some-model", 4096)
    body = orjson.loads(call.body)
    assert read_request(target, OPERATION[target], body) == CONVERSATION
    # The target's own adapter takes it as a valid request with the same output cap.
    info = ADAPTERS[target].read_request("POST", call.subpath, {}, call.body)
    assert info.max_output_tokens == 120 and not info.stream


def test_written_requests_in_each_format() -> None:
    short = Conversation((), (Turn("user", ("Hi",)),), None, stream=True)
    openai_call = write_request("openai", short, "gpt-4o-mini", 4096)
    assert (openai_call.subpath, openai_call.query) == ("/chat/completions", "")
    assert orjson.loads(openai_call.body) == {
        "model": "gpt-4o-mini",
        "messages": [{"role": "user", "content": "Hi"}],
        "stream": True,
        "stream_options": {"include_usage": True},
    }
    anthropic_call = write_request("anthropic", short, "claude-haiku-4-5", 4096)
    assert anthropic_call.subpath == "/v1/messages"
    assert orjson.loads(anthropic_call.body) == {
        "model": "claude-haiku-4-5",
        "max_tokens": 4096,  # Anthropic needs a cap: the one given when the caller set none
        "messages": [{"role": "user", "content": [{"type": "text", "text": "Hi"}]}],
        "stream": True,
    }
    gemini_call = write_request("google", short, "gemini-2.5-pro", 4096)
    assert gemini_call.subpath == "/v1beta/models/gemini-2.5-pro:streamGenerateContent"
    assert gemini_call.query == "alt=sse"
    # Pro cannot stop thinking, so no thinkingConfig is sent; Flash is told not to think.
    assert orjson.loads(gemini_call.body) == {
        "contents": [{"role": "user", "parts": [{"text": "Hi"}]}]
    }
    flash = orjson.loads(write_request("google", short, "gemini-2.5-flash-lite", 1).body)
    assert flash["generationConfig"] == {"thinkingConfig": {"thinkingBudget": 0}}


@pytest.mark.parametrize(
    ("family", "body", "why"),
    [
        ("openai", {"tools": [{"type": "function", "function": {"name": "f"}}]}, "tools is not"),
        ("openai", {"n": 2}, "n is not translated"),
        ("openai", {"logprobs": True}, "logprobs is not"),
        ("openai", {"response_format": {"type": "json_object"}}, "response_format is not"),
        ("openai", {"reasoning_effort": "low"}, "reasoning_effort is not translated"),
        ("openai", {"frequency_penalty": 0.5}, "frequency_penalty is not"),
        (
            "openai",
            {"messages": [{"role": "user", "content": [{"type": "input_audio"}]}]},
            "content part 'input_audio' is not translated",
        ),
        (
            "openai",
            {
                "messages": [
                    {"role": "user", "content": "Hi"},
                    {"role": "assistant", "tool_calls": [{"id": "c1"}]},
                    {"role": "tool", "tool_call_id": "c1", "content": "42"},
                    {"role": "user", "content": "And?"},
                ]
            },
            "tool calls are not translated",
        ),
        (
            "openai",
            {
                "messages": [
                    {"role": "user", "content": "Hi"},
                    {"role": "system", "content": "Now be rude."},
                    {"role": "user", "content": "Hi"},
                ]
            },
            "a system message inside the conversation",
        ),
        (
            "openai",
            {
                "messages": [
                    {"role": "user", "content": "Hi"},
                    {"role": "assistant", "content": "I"},
                ]
            },
            "does not end with a user turn",
        ),
        ("anthropic", {"thinking": {"type": "enabled", "budget_tokens": 1024}}, "thinking"),
        ("anthropic", {"output_config": {"effort": "low"}}, "output_config is not translated"),
        (
            "anthropic",
            {
                "messages": [
                    {
                        "role": "user",
                        "content": [{"type": "image", "source": {"type": "base64", "data": ""}}],
                    }
                ]
            },
            "block 'image' is not translated",
        ),
        (
            "anthropic",
            {"messages": [{"role": "user", "content": [{"type": "tool_result"}]}]},
            "block 'tool_result' is not translated",
        ),
        ("google", {"cachedContent": "cachedContents/abc"}, "cachedContent is not translated"),
        (
            "google",
            {"generationConfig": {"responseSchema": {"type": "OBJECT"}}},
            "generationConfig.responseSchema is not translated",
        ),
        (
            "google",
            {"generationConfig": {"thinkingConfig": {"thinkingBudget": 1024}}},
            "generationConfig.thinkingConfig is not",
        ),
        (
            "google",
            {"contents": [{"role": "user", "parts": [{"inlineData": {"mimeType": "image/png"}}]}]},
            "part 'inlineData' is not translated",
        ),
        (
            "google",
            {"contents": [{"role": "user", "parts": [{"functionResponse": {"name": "f"}}]}]},
            "part 'functionResponse' is not translated",
        ),
    ],
)
def test_what_is_not_translated_is_refused(family: str, body: dict[str, Any], why: str) -> None:
    base: dict[str, Any] = {
        "openai": {"model": "gpt-4o", "messages": [{"role": "user", "content": "Hi"}]},
        "anthropic": {
            "model": "claude-sonnet-4-5",
            "max_tokens": 10,
            "messages": [{"role": "user", "content": "Hi"}],
        },
        "google": {"contents": [{"role": "user", "parts": [{"text": "Hi"}]}]},
    }[family]
    with pytest.raises(Untranslatable, match=why):
        read_request(family, OPERATION[family], base | body)
    target = "anthropic" if family != "anthropic" else "openai"
    reason = refusal(family, target, OPERATION[family], base | body)
    assert reason is not None and why in reason
    assert refusal(family, target, OPERATION[family], base) is None


def test_what_the_target_cannot_take_is_refused() -> None:
    with pytest.raises(Untranslatable, match="OpenAI takes no top_k"):
        write_request("openai", Conversation((), CONVERSATION.turns, None, top_k=40), "m", 1)
    with pytest.raises(Untranslatable, match="at most 4 stop sequences"):
        write_request("openai", Conversation((), CONVERSATION.turns, None, stop=("a",) * 5), "m", 1)
    with pytest.raises(Untranslatable, match="at most 5 stop sequences"):
        write_request("google", Conversation((), CONVERSATION.turns, None, stop=("a",) * 6), "m", 1)
    with pytest.raises(Untranslatable, match="above Anthropic's 1"):
        write_request("anthropic", Conversation((), CONVERSATION.turns, None, 1.5), "m", 1)
    empty = (Turn("user", ("",)),)
    with pytest.raises(Untranslatable, match="no text, which Anthropic refuses"):
        write_request("anthropic", Conversation((), empty, None), "m", 1)
    assert refusal("openai", "bedrock", "chat.completions", {}) == (
        "cross-provider routing translates only anthropic, google, openai"
    )
    assert refusal("openai", "anthropic", "responses", {"input": "Hi"}) == (
        "not translated to anthropic: openai responses is not translated"
    )


def test_translation_remembers_how_the_caller_wants_its_stream() -> None:
    body: Any = {
        "model": "gpt-4o",
        "messages": [{"role": "user", "content": "Hi"}],
        "stream": True,
        "stream_options": {"include_usage": True},
    }
    t = translate("openai", "google", "chat.completions", body, "gemini-2.5-pro", 100)
    assert t.stream and t.include_usage and t.upstream.query == "alt=sse"
    gemini: Any = {"contents": [{"parts": [{"text": "Hi"}]}]}
    sse = translate("google", "openai", "streamGenerateContent", gemini, "m", 1, "alt=sse")
    array = translate("google", "openai", "streamGenerateContent", gemini, "m", 1, "")
    assert (sse.sse, array.sse) == (True, False)
    assert array.response_headers(
        {"x-llmledger-request-id": "r", "x-request-id": "up"}, streamed=True
    ) == {
        "x-llmledger-request-id": "r",
        "content-type": "application/json; charset=UTF-8",
    }


def test_the_public_names_do_not_drift() -> None:
    from llmledger.routing import translate as package

    assert sorted(package.__all__) == [
        "FAMILIES",
        "TranslatedStream",
        "Translation",
        "Untranslatable",
        "refusal",
        "translate",
    ]
