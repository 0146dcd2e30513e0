"""The official openai SDK parses what the fake sends: the fake speaks OpenAI's wire format.
The fake also checks the credential and records what it received."""

from __future__ import annotations

import io
import wave

import openai
import pytest
from openai import AsyncOpenAI
from tests.fakes.openai_fake import FakeOpenAI


def client(fake: FakeOpenAI, key: str | None = None) -> AsyncOpenAI:
    return AsyncOpenAI(base_url=fake.url, api_key=key or fake.api_key, max_retries=0)


async def test_chat_completion(fake_openai: FakeOpenAI) -> None:
    async with client(fake_openai) as sdk:
        answer = await sdk.chat.completions.create(
            model="gpt-4.1", messages=[{"role": "user", "content": "Hi"}]
        )
    assert answer.choices[0].message.content == "Hello! How can I assist you today?"
    assert answer.usage is not None and answer.usage.prompt_tokens == 19
    assert fake_openai.last.path == "/v1/chat/completions"
    assert fake_openai.last.json()["model"] == "gpt-4.1"


async def test_chat_stream_with_and_without_usage(fake_openai: FakeOpenAI) -> None:
    messages: list[openai.types.chat.ChatCompletionMessageParam] = [
        {"role": "user", "content": "Hi"}
    ]
    async with client(fake_openai) as sdk:
        stream = await sdk.chat.completions.create(model="gpt-4o", messages=messages, stream=True)
        chunks = [c async for c in stream]
        usage_stream = await sdk.chat.completions.create(
            model="gpt-4o",
            messages=messages,
            stream=True,
            stream_options={"include_usage": True},
        )
        with_usage = [c async for c in usage_stream]
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == "Hello! How can I assist you today?"
    assert all(c.usage is None for c in chunks)
    assert with_usage[-1].choices == [] and with_usage[-1].usage is not None
    assert with_usage[-1].usage.total_tokens == 29


async def test_responses(fake_openai: FakeOpenAI) -> None:
    async with client(fake_openai) as sdk:
        whole = await sdk.responses.create(model="gpt-4o", input="Tell me a story")
        stream = await sdk.responses.create(model="gpt-4o", input="Tell me a story", stream=True)
        events = [e async for e in stream]
    assert whole.output_text.startswith("In a peaceful grove")
    assert events[-1].type == "response.completed"
    assert events[-1].response.usage is not None
    assert events[-1].response.usage.output_tokens == 87


async def test_embeddings_images_audio_models(fake_openai: FakeOpenAI) -> None:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes(b"\x00\x00" * 8000)
    async with client(fake_openai) as sdk:
        embedded = await sdk.embeddings.create(model="text-embedding-3-small", input="hi")
        image = await sdk.images.generate(model="dall-e-3", prompt="an otter")
        transcript = await sdk.audio.transcriptions.create(
            model="gpt-4o-transcribe", file=("a.wav", buffer.getvalue())
        )
        speech = await sdk.audio.speech.create(model="tts-1", voice="alloy", input="Hello")
        models = await sdk.models.list()
    assert embedded.usage.prompt_tokens == 8
    assert image.data is not None and len(image.data) == 1
    assert transcript.text.startswith("Imagine")
    assert speech.content.startswith(b"ID3")
    assert [m.id async for m in models] == ["gpt-4o", "gpt-4o-mini"]
    assert b'name="model"' in fake_openai.requests[2].body


async def test_the_fake_rejects_any_other_key(fake_openai: FakeOpenAI) -> None:
    async with client(fake_openai, key="vk-virtual-key") as sdk:
        with pytest.raises(openai.AuthenticationError) as caught:
            await sdk.models.list()
    assert caught.value.code == "invalid_api_key"
    assert fake_openai.last.headers["authorization"] == "Bearer vk-virtual-key"


@pytest.mark.parametrize(
    ("scenario", "error"),
    [
        ("429", openai.RateLimitError),
        ("500", openai.InternalServerError),
        ("400", openai.BadRequestError),
    ],
)
async def test_error_scenarios(
    fake_openai: FakeOpenAI, scenario: str, error: type[openai.APIStatusError]
) -> None:
    fake_openai.use(scenario)
    async with client(fake_openai) as sdk:
        with pytest.raises(error) as caught:
            await sdk.models.list()
    assert caught.value.response.headers.get("x-request-id", "").startswith("req_")
    if scenario == "429":
        assert caught.value.response.headers["retry-after"] == "7"


async def test_429_once_then_the_answer_with_sdk_retries(fake_openai: FakeOpenAI) -> None:
    fake_openai.use("429_once")
    async with AsyncOpenAI(
        base_url=fake_openai.url, api_key=fake_openai.api_key, max_retries=1, timeout=10
    ) as sdk:
        models = await sdk.models.list()
    assert len(models.data) == 2 and len(fake_openai.requests) == 2


async def test_cut_and_malformed_streams_fail_in_the_sdk(fake_openai: FakeOpenAI) -> None:
    async with client(fake_openai) as sdk:
        fake_openai.use("cut")
        with pytest.raises(openai.APIError):
            stream = await sdk.chat.completions.create(
                model="gpt-4o", messages=[{"role": "user", "content": "Hi"}], stream=True
            )
            async for _ in stream:
                pass
        fake_openai.use("malformed")
        with pytest.raises(Exception):  # noqa: B017 - json error type depends on the SDK
            await sdk.chat.completions.create(
                model="gpt-4o", messages=[{"role": "user", "content": "Hi"}]
            )


async def test_hang_answers_nothing_until_timeout(fake_openai: FakeOpenAI) -> None:
    fake_openai.use("hang")
    async with AsyncOpenAI(
        base_url=fake_openai.url, api_key=fake_openai.api_key, max_retries=0, timeout=0.3
    ) as sdk:
        with pytest.raises(openai.APITimeoutError):
            await sdk.models.list()
