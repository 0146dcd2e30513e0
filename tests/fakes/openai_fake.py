"""A fake OpenAI API on loopback, replaying recorded answers in OpenAI's wire format.

Serves ``/v1/chat/completions`` (JSON; SSE with ``data: ...`` and ``data: [DONE]``, the
usage chunk only when ``stream_options.include_usage`` asks for it), ``/v1/responses``
(JSON; SSE with ``event:`` lines), ``/v1/embeddings``, ``/v1/images/generations`` and
``/v1/images/edits``, ``/v1/audio/transcriptions`` and ``/v1/audio/translations``,
``/v1/audio/speech`` (audio bytes, or SSE with ``stream_format=sse``) and
``GET /v1/models``. Its ``url`` ends in ``/v1``, like ``https://api.openai.com/v1``.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
from aiohttp import web
from tests.fakes.upstream import FakeUpstream, Handler, RecordedRequest, pieces, recording

API_KEY = "sk-fake-openai-upstream-key"
SPEECH_AUDIO = b"ID3\x04\x00\x00\x00\x00\x00\x00" + bytes(range(256)) * 8

_ERRORS = {
    400: ("invalid_request_error", None, "Invalid value for 'model': the model is unknown."),
    401: (
        "invalid_request_error",
        "invalid_api_key",
        "Incorrect API key provided. You can find your API key at "
        "https://platform.openai.com/account/api-keys.",
    ),
    429: (
        "tokens",
        "rate_limit_exceeded",
        "Rate limit reached for gpt-4o in organization org-fake on tokens per min (TPM): "
        "Limit 30000, Used 30000, Requested 120. Please try again in 240ms.",
    ),
    500: (
        "server_error",
        None,
        "The server had an error while processing your request. Sorry about that!",
    ),
    503: ("server_error", None, "The engine is currently overloaded, please try again later."),
    529: ("server_error", None, "The engine is currently overloaded, please try again later."),
}


@dataclass
class FakeOpenAI(FakeUpstream):
    family: str = "openai"
    api_key: str = API_KEY

    def base_path(self) -> str:
        return "/v1"

    def routes(self) -> list[tuple[str, str, Handler]]:
        return [
            ("POST", "/v1/chat/completions", self._chat),
            ("POST", "/v1/responses", self._responses),
            ("POST", "/v1/embeddings", self._fixed("embeddings")),
            ("POST", "/v1/images/generations", self._fixed("images_dalle3")),
            ("POST", "/v1/images/edits", self._fixed("images_gpt_image")),
            ("POST", "/v1/audio/transcriptions", self._transcription),
            ("POST", "/v1/audio/translations", self._transcription),
            ("POST", "/v1/audio/speech", self._speech),
            ("GET", "/v1/models", self._fixed("models")),
        ]

    def authorized(self, request: RecordedRequest) -> bool:
        return request.headers.get("authorization") == f"Bearer {self.api_key}"

    def headers(self) -> dict[str, str]:
        return {
            "x-request-id": f"req_{uuid.uuid4().hex}",
            "openai-processing-ms": "231",
            "openai-version": "2020-10-01",
            "openai-organization": "org-fake",
            "x-ratelimit-limit-requests": "10000",
            "x-ratelimit-limit-tokens": "30000000",
            "x-ratelimit-remaining-requests": "9999",
            "x-ratelimit-remaining-tokens": "29999980",
            "x-ratelimit-reset-requests": "6ms",
            "x-ratelimit-reset-tokens": "0s",
        }

    def error(self, status: int, retry_after: str | None = None) -> web.Response:
        kind, code, message = _ERRORS.get(status, _ERRORS[500])
        body = {"error": {"message": message, "type": kind, "param": None, "code": code}}
        headers = self.headers()
        if retry_after is not None:
            headers |= {"retry-after": retry_after, "retry-after-ms": f"{retry_after}000"}
        return web.json_response(body, status=status, headers=headers)

    def _fixed(self, name: str) -> Handler:
        async def handle(request: web.Request, received: RecordedRequest) -> web.StreamResponse:
            return await self.send_json(request, recording("openai", self.recording or name))

        return handle

    async def _chat(self, request: web.Request, received: RecordedRequest) -> web.StreamResponse:
        body = received.json()
        if body.get("stream") is not True:
            name = self.recording or "chat_completion"
            return await self.send_json(request, recording("openai", name))
        options = body.get("stream_options") or {}
        default = "chat_stream_usage.sse" if options.get("include_usage") else "chat_stream.sse"
        return await self.send_sse(request, recording("openai", self.stream_recording or default))

    async def _responses(
        self, request: web.Request, received: RecordedRequest
    ) -> web.StreamResponse:
        if received.json().get("stream") is True:
            name = self.stream_recording or "responses_stream.sse"
            return await self.send_sse(request, recording("openai", name))
        return await self.send_json(request, recording("openai", self.recording or "responses"))

    async def _transcription(
        self, request: web.Request, received: RecordedRequest
    ) -> web.StreamResponse:
        answer = recording("openai", self.recording or "transcription_tokens")
        if _form_field(received.body, "response_format") == "text":
            text = json.loads(answer)["text"]
            return web.Response(text=text + "\n", content_type="text/plain", headers=self.headers())
        return await self.send_json(request, answer)

    async def _speech(self, request: web.Request, received: RecordedRequest) -> web.StreamResponse:
        body = received.json()
        if body.get("stream_format") == "sse":
            usage = {"input_tokens": 14, "output_tokens": 101, "total_tokens": 115}
            events = [
                {"type": "speech.audio.delta", "audio": "SUQzBAAAAAAA"},
                {"type": "speech.audio.done", "usage": usage},
            ]
            sse = b"".join(b"data: " + json.dumps(e).encode() + b"\n\n" for e in events)
            return await self.send_sse(request, sse)
        response = web.StreamResponse(headers=self.headers() | {"Content-Type": "audio/mpeg"})
        await response.prepare(request)
        for piece in pieces(SPEECH_AUDIO, 4):
            await response.write(piece)
        await response.write_eof()
        return response


def _form_field(body: bytes, name: str) -> str | None:
    match = re.search(
        rb'name="' + name.encode() + rb'"\r\n(?:[^\r\n]+\r\n)*\r\n([^\r\n]*)\r\n', body
    )
    return match.group(1).decode() if match else None


@pytest.fixture
async def fake_openai() -> AsyncIterator[FakeOpenAI]:
    """A running `FakeOpenAI`; its upstream key is ``fake.api_key``."""
    fake = FakeOpenAI()
    await fake.start()
    try:
        yield fake
    finally:
        await fake.close()
