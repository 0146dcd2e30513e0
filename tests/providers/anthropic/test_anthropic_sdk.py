"""The official anthropic SDK parses what the fake sends: the fake speaks Anthropic."""

from __future__ import annotations

import anthropic
import pytest
from anthropic import AsyncAnthropic
from tests.fakes.anthropic_fake import FakeAnthropic

HELLO: list[anthropic.types.MessageParam] = [{"role": "user", "content": "Hello"}]


def client(fake: FakeAnthropic, key: str | None = None) -> AsyncAnthropic:
    return AsyncAnthropic(base_url=fake.url, api_key=key or fake.api_key, max_retries=0)


async def test_message(fake_anthropic: FakeAnthropic) -> None:
    async with client(fake_anthropic) as sdk:
        message = await sdk.messages.create(
            model="claude-sonnet-4-5", max_tokens=64, messages=HELLO
        )
    assert message.content[0].type == "text"
    assert message.usage.input_tokens == 12 and message.usage.output_tokens == 12
    sent = fake_anthropic.last
    assert sent.headers["anthropic-version"]  # the SDK always sends one
    assert sent.json()["max_tokens"] == 64


async def test_stream(fake_anthropic: FakeAnthropic) -> None:
    async with client(fake_anthropic) as sdk:
        async with sdk.messages.stream(
            model="claude-sonnet-4-5", max_tokens=64, messages=HELLO
        ) as stream:
            text = "".join([t async for t in stream.text_stream])
            final = await stream.get_final_message()
    assert text == "Hello! How can I help you today?"
    assert final.usage.output_tokens == 15 and final.usage.input_tokens == 25


async def test_tool_stream_and_count_tokens(fake_anthropic: FakeAnthropic) -> None:
    fake_anthropic.use("ok", stream_recording="message_stream_tool.sse")
    async with client(fake_anthropic) as sdk:
        async with sdk.messages.stream(
            model="claude-sonnet-4-5", max_tokens=2048, messages=HELLO
        ) as stream:
            final = await stream.get_final_message()
        counted = await sdk.messages.count_tokens(model="claude-sonnet-4-5", messages=HELLO)
    tool = final.content[1]
    assert tool.type == "tool_use" and tool.input == {"location": "San Francisco, CA"}
    assert counted.input_tokens == 14


async def test_the_fake_rejects_the_virtual_key(fake_anthropic: FakeAnthropic) -> None:
    async with client(fake_anthropic, key="vk-virtual") as sdk:
        with pytest.raises(anthropic.AuthenticationError):
            await sdk.messages.create(model="claude-sonnet-4-5", max_tokens=8, messages=HELLO)
    sent = fake_anthropic.last.headers
    assert "vk-virtual" in sent.get("authorization", "") + sent.get("x-api-key", "")


@pytest.mark.parametrize(
    ("scenario", "error"),
    [
        ("429", anthropic.RateLimitError),
        ("529", anthropic.InternalServerError),
        ("500", anthropic.InternalServerError),
    ],
)
async def test_errors(
    fake_anthropic: FakeAnthropic, scenario: str, error: type[anthropic.APIStatusError]
) -> None:
    fake_anthropic.use(scenario)
    async with client(fake_anthropic) as sdk:
        with pytest.raises(error) as caught:
            await sdk.messages.create(model="claude-sonnet-4-5", max_tokens=8, messages=HELLO)
    assert caught.value.response.headers["request-id"].startswith("req_")
    if scenario == "429":
        assert caught.value.response.headers["retry-after"] == "7"


async def test_cut_stream_fails_in_the_sdk(fake_anthropic: FakeAnthropic) -> None:
    fake_anthropic.use("cut")
    async with client(fake_anthropic) as sdk:
        with pytest.raises(anthropic.APIError):
            async with sdk.messages.stream(
                model="claude-sonnet-4-5", max_tokens=8, messages=HELLO
            ) as stream:
                async for _ in stream:
                    pass
