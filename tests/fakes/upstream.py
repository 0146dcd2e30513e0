"""What the OpenAI and Anthropic fakes share: a loopback aiohttp server that records
every request, checks the gateway's credential, and replays recorded answers under a
scenario chosen per test (``fake.use("cut")``)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import web

RECORDINGS = Path(__file__).parent / "recordings"

#: Behaviours: the recorded answer; the answer cut off mid-way (connection dropped);
#: an error status every time (with retry-after on 429/503/529); 429 once then the
#: answer; no answer until the fake closes; a stream that stalls after its first event;
#: a 200 whose body is not valid JSON (or whose SSE data is not).
ERROR_SCENARIOS = frozenset({"400", "429", "500", "503", "529"})
SCENARIOS = ERROR_SCENARIOS | {"ok", "cut", "429_once", "hang", "stall", "malformed"}


def recording(family: str, name: str) -> bytes:
    """A recorded body, by file name (``chat_stream.sse``) or stem (``chat_completion``)."""
    path = RECORDINGS / family / name
    if not path.suffix:
        path = path.with_suffix(".json")
    return path.read_bytes()


@dataclass(frozen=True, slots=True)
class RecordedRequest:
    """One request the fake received (header names lower-cased)."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


Handler = Callable[[web.Request, RecordedRequest], Awaitable[web.StreamResponse]]


@dataclass
class FakeUpstream:
    """A running fake; subclasses route requests and know their family's formats."""

    family: str = ""
    api_key: str = ""
    scenario: str = "ok"
    recording: str | None = None
    """The JSON answer to send instead of the route's default (a recording's name)."""
    stream_recording: str | None = None
    """The SSE answer to send instead of the route's default."""
    requests: list[RecordedRequest] = field(default_factory=list)
    url: str = ""
    """The upstream base URL to configure in the gateway (and to give an SDK)."""
    _runner: web.AppRunner | None = None
    _closing: asyncio.Event = field(default_factory=asyncio.Event)
    _failed_once: bool = False

    def use(
        self,
        scenario: str = "ok",
        recording: str | None = None,
        stream_recording: str | None = None,
    ) -> FakeUpstream:
        """Choose the behaviour (and optionally the recordings) for the next requests."""
        if scenario not in SCENARIOS:
            raise ValueError(f"unknown scenario {scenario!r}; known: {sorted(SCENARIOS)}")
        self.scenario = scenario
        self.recording = recording
        self.stream_recording = stream_recording
        self._failed_once = False
        return self

    @property
    def last(self) -> RecordedRequest:
        return self.requests[-1]

    def routes(self) -> list[tuple[str, str, Handler]]:
        raise NotImplementedError

    def base_path(self) -> str:
        return ""

    def authorized(self, request: RecordedRequest) -> bool:
        raise NotImplementedError

    def error(self, status: int, retry_after: str | None = None) -> web.Response:
        raise NotImplementedError

    def headers(self) -> dict[str, str]:
        return {}

    async def start(self) -> None:
        app = web.Application()
        for method, path, handler in self.routes():
            app.router.add_route(method, path, self._wrap(handler))
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.url = f"http://127.0.0.1:{port}{self.base_path()}"

    async def close(self) -> None:
        self._closing.set()
        if self._runner is not None:
            await self._runner.cleanup()

    def _wrap(self, handler: Handler) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
        async def handle(request: web.Request) -> web.StreamResponse:
            body = await request.read()
            received = RecordedRequest(
                request.method,
                request.path,
                dict(request.query),
                {k.lower(): v for k, v in request.headers.items()},
                body,
            )
            self.requests.append(received)
            if not self.authorized(received):
                return self.error(401)
            if self.scenario == "429_once" and not self._failed_once:
                self._failed_once = True
                return self.error(429, retry_after="1")
            if self.scenario in ERROR_SCENARIOS:
                status = int(self.scenario)
                retry = "7" if status in (429, 503, 529) else None
                return self.error(status, retry_after=retry)
            if self.scenario == "hang":
                await self._closing.wait()
                return self.error(503)
            return await handler(request, received)

        return handle

    async def send_json(self, request: web.Request, body: bytes) -> web.StreamResponse:
        """A whole JSON answer, or its first half when the scenario cuts it."""
        if self.scenario == "malformed":
            body = body[: len(body) // 2]
        headers = self.headers() | {"Content-Type": "application/json"}
        if self.scenario != "cut":
            return web.Response(body=body, headers=headers)
        response = web.StreamResponse(headers=headers)
        response.content_length = len(body)
        await response.prepare(request)
        await response.write(body[: len(body) // 2])
        return await self._drop(request, response)

    async def send_sse(self, request: web.Request, body: bytes) -> web.StreamResponse:
        """An SSE answer written in pieces that do not follow event boundaries."""
        if self.scenario == "malformed":
            body = b"data: {not json\n\n" + body[len(body) // 2 :]
        response = web.StreamResponse(
            headers=self.headers()
            | {"Content-Type": "text/event-stream; charset=utf-8", "Cache-Control": "no-cache"}
        )
        await response.prepare(request)
        if self.scenario == "cut":
            await response.write(body[: len(body) // 2])
            return await self._drop(request, response)
        if self.scenario == "stall":
            first = body.find(b"\n\n") + 2
            await response.write(body[:first])
            await self._closing.wait()
            return response
        for piece in pieces(body, 5):
            await response.write(piece)
            await asyncio.sleep(0)
        await response.write_eof()
        return response

    async def _drop(self, request: web.Request, response: web.StreamResponse) -> web.StreamResponse:
        await asyncio.sleep(0.01)
        assert request.transport is not None
        request.transport.close()
        return response


def pieces(data: bytes, count: int) -> list[bytes]:
    size = max(1, -(-len(data) // count) + 7)
    return [data[i : i + size] for i in range(0, len(data), size)]
