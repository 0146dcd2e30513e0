"""A fake Gemini API on loopback, speaking its wire formats from recorded bodies.

`FakeGemini` serves ``/v1beta/...`` and ``/v1/...``: ``:generateContent`` (JSON),
``:streamGenerateContent`` (SSE with ``?alt=sse``, the JSON-array stream without),
``:countTokens``, ``:embedContent``, ``:batchEmbedContents``. Tests pick the answer
with ``fake.recording`` and the behaviour with ``fake.scenario``.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

RECORDINGS = Path(__file__).parent / "recordings" / "gemini"
API_KEY = "fake-gemini-upstream-key"
#: Behaviours: the recorded answer; a stream cut off mid-way; 429 every time; 429 once
#: then the answer; 500; no answer until the fake closes; a 200 that is not JSON.
SCENARIOS = frozenset({"ok", "cut", "429", "429_once", "500", "hang", "malformed"})


def load_recording(name: str) -> Any:
    return json.loads((RECORDINGS / f"{name}.json").read_text())


def sse_body(chunks: list[Any]) -> bytes:
    """Gemini's SSE: one ``data:`` line per chunk, CRLF line ends."""
    return b"".join(b"data: " + json.dumps(c).encode() + b"\r\n\r\n" for c in chunks)


def json_array_body(chunks: list[Any]) -> bytes:
    """Gemini's JSON-array stream: pretty-printed elements separated by ``,\\r\\n``."""
    return ("[" + ",\r\n".join(json.dumps(c, indent=2) for c in chunks) + "]").encode()


def google_error(code: int, status: str, message: str, retry: str | None = None) -> web.Response:
    error: dict[str, Any] = {"code": code, "message": message, "status": status}
    if retry:
        error["details"] = [
            {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": retry}
        ]
    return web.json_response({"error": error}, status=code)


@dataclass(frozen=True, slots=True)
class RecordedRequest:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass(slots=True)
class FakeGemini:
    api_key: str = API_KEY
    scenario: str = "ok"
    recording: str = "generate_content_text"
    stream_recording: str = "stream_chunks"
    requests: list[RecordedRequest] = field(default_factory=list)
    url: str = ""
    _runner: web.AppRunner | None = None
    _closing: asyncio.Event = field(default_factory=asyncio.Event)
    _failed_once: bool = False

    def use(self, scenario: str = "ok", recording: str | None = None) -> FakeGemini:
        if scenario not in SCENARIOS:
            raise ValueError(f"unknown scenario {scenario!r}; known: {sorted(SCENARIOS)}")
        self.scenario = scenario
        self._failed_once = False
        if recording:
            self.recording = recording
        return self

    async def start(self) -> None:
        app = web.Application()
        app.router.add_route("*", "/{version:v1beta|v1|v1alpha}/{rest:.*}", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.url = f"http://127.0.0.1:{port}"

    async def close(self) -> None:
        self._closing.set()
        if self._runner is not None:
            await self._runner.cleanup()

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        body = await request.read()
        self.requests.append(
            RecordedRequest(
                request.method, request.path, dict(request.query), dict(request.headers), body
            )
        )
        if request.headers.get("x-goog-api-key", request.query.get("key")) != self.api_key:
            return google_error(
                400, "INVALID_ARGUMENT", "API key not valid. Please pass a valid API key."
            )
        if self.scenario == "429" or (self.scenario == "429_once" and not self._failed_once):
            self._failed_once = True
            return google_error(
                429,
                "RESOURCE_EXHAUSTED",
                "You exceeded your current quota, please check your plan and billing details.",
                retry="1s",
            )
        if self.scenario == "500":
            return google_error(500, "INTERNAL", "An internal error has occurred.")
        if self.scenario == "hang":
            await self._closing.wait()
            return google_error(503, "UNAVAILABLE", "The service is currently unavailable.")
        method = request.match_info["rest"].rpartition(":")[2]
        if method == "streamGenerateContent":
            return await self._stream(request)
        if self.scenario == "malformed":
            return web.Response(body=b'{"candidates": [', content_type="application/json")
        name = {
            "countTokens": "count_tokens",
            "embedContent": "embed_content",
            "batchEmbedContents": "batch_embed_contents",
        }.get(method, self.recording)
        return web.json_response(load_recording(name))

    async def _stream(self, request: web.Request) -> web.StreamResponse:
        chunks = load_recording(self.stream_recording)
        sse = request.query.get("alt") == "sse"
        payload = sse_body(chunks) if sse else json_array_body(chunks)
        if self.scenario == "malformed":
            payload = b"data: {not json\r\n\r\n" if sse else b"[{oops"
        response = web.StreamResponse(
            headers={"Content-Type": "text/event-stream" if sse else "application/json"}
        )
        await response.prepare(request)
        if self.scenario == "cut":
            # Half the answer, then the connection drops.
            await response.write(payload[: len(payload) // 2])
            await asyncio.sleep(0.01)
            assert request.transport is not None
            request.transport.close()
            return response
        for piece in _pieces(payload, 3):
            await response.write(piece)
            await asyncio.sleep(0)
        await response.write_eof()
        return response


def _pieces(data: bytes, count: int) -> list[bytes]:
    size = max(1, -(-len(data) // count))
    return [data[i : i + size] for i in range(0, len(data), size)]


@pytest.fixture
async def fake_gemini() -> AsyncIterator[FakeGemini]:
    """A running `FakeGemini`; its upstream key is ``fake.api_key``."""
    fake = FakeGemini()
    await fake.start()
    try:
        yield fake
    finally:
        await fake.close()
