"""A fake Bedrock runtime on loopback that verifies SigV4 and answers in Bedrock's
wire formats: JSON, and the binary event stream (CRCs, ``:event-type``,
``:content-type``, ``:message-type`` headers), from recorded bodies.

The model id picks the invoke family (``anthropic.``, ``amazon.nova``, ``meta.``,
``mistral.``); ``fake.scenario`` picks the behaviour.
"""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pytest
from aiohttp import web
from botocore.credentials import Credentials
from tests.fakes.bedrock_sigv4 import verify_sigv4

from llmledger.providers.bedrock.eventstream import encode_event

RECORDINGS = Path(__file__).parent / "recordings" / "bedrock"
REGION = "us-east-1"
EVENTSTREAM = "application/vnd.amazon.eventstream"
SCENARIOS = frozenset({"ok", "cut", "429", "429_once", "500", "hang", "malformed"})
_FAMILIES = (
    ("anthropic.", "anthropic"),
    ("amazon.nova", "nova"),
    ("meta.", "meta"),
    ("mistral.", "mistral"),
)


def load_recording(name: str) -> Any:
    return json.loads((RECORDINGS / f"{name}.json").read_text())


def family_of(model_id: str) -> str:
    base = model_id.rsplit("/", 1)[-1]
    head, _, rest = base.partition(".")
    if head in ("us", "eu", "apac", "global") and "." in rest:
        base = rest
    return next((f for prefix, f in _FAMILIES if base.startswith(prefix)), "anthropic")


def converse_stream_body() -> list[bytes]:
    return [encode_event(t, json.dumps(p).encode()) for t, p in load_recording("converse_stream")]


def invoke_stream_body(family: str) -> list[bytes]:
    frames = []
    for chunk in load_recording(f"invoke_stream_{family}"):
        raw = base64.b64encode(json.dumps(chunk).encode()).decode()
        frames.append(encode_event("chunk", json.dumps({"bytes": raw, "p": "abcd"}).encode()))
    return frames


def aws_error(status: int, error_type: str, message: str) -> web.Response:
    return web.json_response(
        {"message": message},
        status=status,
        headers={
            "x-amzn-ErrorType": f"{error_type}:http://internal.amazon.com/coral/com.amazon.bedrock/",
            "x-amzn-RequestId": "0d3f6c2e-fake-4c1b-9e0a-5b1d2c3e4f50",
        },
    )


@dataclass(frozen=True, slots=True)
class RecordedRequest:
    method: str
    path: str
    raw_path: str
    headers: dict[str, str]
    body: bytes
    signature_error: str | None

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass(slots=True)
class FakeBedrock:
    region: str = REGION
    credentials: Credentials = field(
        default_factory=lambda: Credentials("AKIAFAKEBEDROCK00001", "fake/secret/key/for+tests")
    )
    scenario: str = "ok"
    requests: list[RecordedRequest] = field(default_factory=list)
    url: str = ""
    _runner: web.AppRunner | None = None
    _closing: asyncio.Event = field(default_factory=asyncio.Event)
    _failed_once: bool = False

    def use(self, scenario: str = "ok") -> FakeBedrock:
        if scenario not in SCENARIOS:
            raise ValueError(f"unknown scenario {scenario!r}; known: {sorted(SCENARIOS)}")
        self.scenario = scenario
        self._failed_once = False
        return self

    async def start(self) -> None:
        app = web.Application()
        app.router.add_route("POST", "/model/{model_id:.+}/{action}", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.url = f"http://127.0.0.1:{self._runner.addresses[0][1]}"

    async def close(self) -> None:
        self._closing.set()
        if self._runner is not None:
            await self._runner.cleanup()

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        body = await request.read()
        url = f"http://{request.host}{request.raw_path}"
        error = verify_sigv4(request.method, url, request.headers, body, self.credentials)
        self.requests.append(
            RecordedRequest(
                request.method, request.path, request.raw_path, dict(request.headers), body, error
            )
        )
        if error == "Missing Authentication Token":
            return aws_error(403, "MissingAuthenticationTokenException", error)
        if error is not None:
            kind = (
                "InvalidSignatureException"
                if "signature" in error
                else "UnrecognizedClientException"
            )
            return aws_error(403, kind, error)
        if self.scenario == "429" or (self.scenario == "429_once" and not self._failed_once):
            self._failed_once = True
            return aws_error(
                429, "ThrottlingException", "Too many requests, please wait before trying again."
            )
        if self.scenario == "500":
            return aws_error(500, "InternalServerException", "An internal server error occurred.")
        if self.scenario == "hang":
            await self._closing.wait()
            return aws_error(503, "ServiceUnavailableException", "Service unavailable.")
        action = request.match_info["action"]
        family = family_of(unquote(request.match_info["model_id"]))
        if action == "converse":
            return self._json(load_recording("converse"))
        if action == "invoke":
            return self._invoke(family)
        if action == "converse-stream":
            return await self._stream(request, converse_stream_body())
        if action == "invoke-with-response-stream":
            return await self._stream(request, invoke_stream_body(family))
        return aws_error(404, "UnknownOperationException", "Unknown operation")

    def _json(self, data: Any, headers: dict[str, str] | None = None) -> web.Response:
        if self.scenario == "malformed":
            return web.Response(body=b'{"output": ', content_type="application/json")
        return web.json_response(data, headers=headers)

    def _invoke(self, family: str) -> web.Response:
        data = load_recording(f"invoke_{family}")
        counts = {
            "anthropic": (21, 11),
            "nova": (12, 8),
            "meta": (17, 9),
            "mistral": (15, 8),
        }[family]
        return self._json(
            data,
            {
                "X-Amzn-Bedrock-Input-Token-Count": str(counts[0]),
                "X-Amzn-Bedrock-Output-Token-Count": str(counts[1]),
                "X-Amzn-Bedrock-Invocation-Latency": "611",
            },
        )

    async def _stream(self, request: web.Request, frames: list[bytes]) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": EVENTSTREAM})
        await response.prepare(request)
        payload = b"".join(frames)
        if self.scenario == "malformed":
            payload = payload[:20] + bytes([payload[20] ^ 0xFF]) + payload[21:]
        if self.scenario == "cut":
            await response.write(payload[: len(payload) // 2])
            await asyncio.sleep(0.01)
            assert request.transport is not None
            request.transport.close()
            return response
        for frame in frames if self.scenario == "ok" else [payload]:
            await response.write(frame)
            await asyncio.sleep(0)
        await response.write_eof()
        return response


@pytest.fixture
async def fake_bedrock() -> AsyncIterator[FakeBedrock]:
    """A running `FakeBedrock`; sign with ``fake.credentials`` and ``fake.region``."""
    fake = FakeBedrock()
    await fake.start()
    try:
        yield fake
    finally:
        await fake.close()
