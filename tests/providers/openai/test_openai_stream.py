"""Metering OpenAI streams: usage chunk stripped byte-exact, any chunking, cut-offs."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st
from tests.fakes.upstream import recording

from llmledger.providers.base import Metered, RequestInfo
from llmledger.providers.openai import OpenAIAdapter
from llmledger.usage import Usage

ADAPTER = OpenAIAdapter()
WITH_USAGE = recording("openai", "chat_stream_usage.sse")
AS_SENT = recording("openai", "chat_stream.sse")
CHAT_USAGE = Usage.of(input_tokens=19, output_tokens=10)


def chat_info(strip: bool = True) -> RequestInfo:
    return RequestInfo(
        "chat.completions",
        "gpt-4o",
        True,
        None,
        Usage.of(input_tokens=50),
        strip_usage_chunk=strip,
        features={"prompt_chars": 44},
    )


def meter(info: RequestInfo, chunks: list[bytes], cut_off: bool = False) -> tuple[bytes, Metered]:
    stream = ADAPTER.stream_meter(info, {"content-type": "text/event-stream"})
    out = b"".join(stream.feed(chunk) for chunk in chunks)
    return out, stream.finish(cut_off=cut_off)


def split(body: bytes, cuts: list[int]) -> list[bytes]:
    bounds = [0, *sorted(cuts), len(body)]
    return [body[a:b] for a, b in zip(bounds, bounds[1:], strict=False)]


def test_injected_usage_is_stripped_byte_exact() -> None:
    out, metered = meter(chat_info(), [WITH_USAGE])
    assert out == AS_SENT
    assert metered == Metered(CHAT_USAGE, "gpt-4o-2024-08-06")


def test_usage_the_caller_asked_for_passes_through() -> None:
    stream = ADAPTER.stream_meter(chat_info(strip=False), {})
    chunks = split(WITH_USAGE, [10, 500, 501, 2000])
    assert [stream.feed(c) for c in chunks] == chunks
    assert stream.finish(cut_off=False).usage == CHAT_USAGE


@given(st.lists(st.integers(0, len(WITH_USAGE)), max_size=25))
def test_any_split_gives_the_same_bytes_and_usage(cuts: list[int]) -> None:
    out, metered = meter(chat_info(), split(WITH_USAGE, cuts))
    assert out == AS_SENT
    assert metered.usage == CHAT_USAGE and not metered.estimated


@given(st.lists(st.integers(0, 4000), max_size=25))
def test_responses_stream_any_split(cuts: list[int]) -> None:
    body = recording("openai", "responses_stream.sse")
    request = RequestInfo("responses", "gpt-4o", True, None, Usage())
    out, metered = meter(request, split(body, [c % (len(body) + 1) for c in cuts]))
    assert out == body
    assert metered == Metered(Usage.of(input_tokens=36, output_tokens=87), "gpt-4o-2024-08-06")


def test_reasoning_and_cached_tokens_in_a_stream() -> None:
    out, metered = meter(chat_info(), [recording("openai", "chat_stream_reasoning_usage.sse")])
    assert b'"usage"' not in out and out.endswith(b"data: [DONE]\n\n")
    assert metered.usage == Usage.of(
        input_tokens=86, cached_input_tokens=1920, output_tokens=44, reasoning_tokens=256
    )


def test_a_stream_cut_before_the_usage_is_estimated() -> None:
    half = WITH_USAGE[: WITH_USAGE.index(b'" assist"')]
    out, metered = meter(chat_info(), [half], cut_off=True)
    assert AS_SENT.startswith(out)
    # "Hello! How can I" is 16 characters: 4 tokens; 44 prompt characters: 11 tokens.
    assert metered.usage == Usage.of(input_tokens=11, output_tokens=4)
    assert metered.estimated and not metered.complete


def test_a_stream_cut_after_the_usage_is_exact() -> None:
    cut = WITH_USAGE[: WITH_USAGE.index(b"data: [DONE]")]
    _, metered = meter(chat_info(), [cut], cut_off=True)
    assert metered.usage == CHAT_USAGE and not metered.estimated and not metered.complete


def test_responses_cut_off_counts_the_deltas() -> None:
    body = recording("openai", "responses_stream.sse")
    cut = body[: body.index(b"response.output_text.done")]
    request = RequestInfo("responses", "gpt-4o", True, None, Usage(), features={"prompt_chars": 8})
    _, metered = meter(request, [cut], cut_off=True)
    assert metered.estimated and metered.usage[next(iter(metered.usage))] > 0
    assert metered.usage == Usage.of(input_tokens=2, output_tokens=29)


def test_transcription_stream_reads_the_done_event() -> None:
    body = (
        b'data: {"type":"transcript.text.delta","delta":"Hello"}\n\n'
        b'data: {"type":"transcript.text.done","text":"Hello","usage":{"type":"tokens",'
        b'"input_tokens":14,"input_token_details":{"text_tokens":0,"audio_tokens":14},'
        b'"output_tokens":45,"total_tokens":59}}\n\n'
    )
    request = RequestInfo("audio.transcriptions", "gpt-4o-transcribe", True, None, Usage())
    out, metered = meter(request, [body[:30], body[30:]])
    assert out == body
    assert metered.usage == Usage.of(input_audio_tokens=14, output_tokens=45)


def test_speech_audio_bytes_pass_untouched() -> None:
    request = RequestInfo("audio.speech", "tts-1", True, None, Usage.of(speech_characters=5))
    audio = [b"ID3\x04\x00", b"\n\n\xff\xfb", b"data: nope"]
    out, metered = meter(request, audio)
    assert out == b"".join(audio)
    assert metered.usage == Usage.of(speech_characters=5) and not metered.estimated


def test_speech_sse_adds_the_reported_tokens() -> None:
    request = RequestInfo(
        "audio.speech",
        "gpt-4o-mini-tts",
        True,
        None,
        Usage.of(speech_characters=5),
        attributes={"stream_format": "sse"},
    )
    body = b'data: {"type":"speech.audio.done","usage":{"input_tokens":3,"output_tokens":80}}\n\n'
    _, metered = meter(request, [body])
    assert metered.usage == Usage.of(speech_characters=5, input_tokens=3, output_audio_tokens=80)
