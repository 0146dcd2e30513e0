"""A fake Anthropic API on loopback, replaying recorded answers in its wire format.

Serves ``POST /v1/messages`` (JSON; SSE with ``event: x`` and ``data: {...}``: message_start,
content_block_start, ping, content_block_delta..., content_block_stop, message_delta,
message_stop), ``POST /v1/messages/count_tokens`` and ``GET /v1/models``. Its ``url`` has
no path, like ``https://api.anthropic.com``. It answers 400 when ``anthropic-version``
is missing, as the API does.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
from aiohttp import web
from tests.fakes.upstream import FakeUpstream, Handler, RecordedRequest, recording

API_KEY = "sk-ant-fake-anthropic-upstream-key"

_ERRORS = {
    400: ("invalid_request_error", "messages: at least one message is required"),
    401: ("authentication_error", "invalid x-api-key"),
    429: (
        "rate_limit_error",
        "This request would exceed the rate limit for your organization of 400,000 input "
        "tokens per minute.",
    ),
    500: ("api_error", "Internal server error"),
    503: ("api_error", "Service unavailable"),
    529: ("overloaded_error", "Overloaded"),
}


@dataclass
class FakeAnthropic(FakeUpstream):
    family: str = "anthropic"
    api_key: str = API_KEY

    def routes(self) -> list[tuple[str, str, Handler]]:
        return [
            ("POST", "/v1/messages", self._messages),
            ("POST", "/v1/messages/count_tokens", self._fixed("count_tokens")),
            ("GET", "/v1/models", self._fixed("models")),
        ]

    def authorized(self, request: RecordedRequest) -> bool:
        # The API takes the key as x-api-key or (newer SDKs) as a bearer token.
        return self.api_key in (
            request.headers.get("x-api-key"),
            request.headers.get("authorization", "").removeprefix("Bearer "),
        )

    def headers(self) -> dict[str, str]:
        return {
            "request-id": f"req_{uuid.uuid4().hex[:24]}",
            "anthropic-organization-id": "5d5b7f3e-0000-4000-8000-fakefakefake",
            "anthropic-ratelimit-requests-limit": "4000",
            "anthropic-ratelimit-requests-remaining": "3999",
            "anthropic-ratelimit-requests-reset": "2025-09-30T12:00:01Z",
            "anthropic-ratelimit-input-tokens-limit": "400000",
            "anthropic-ratelimit-input-tokens-remaining": "399000",
            "anthropic-ratelimit-input-tokens-reset": "2025-09-30T12:00:01Z",
            "anthropic-ratelimit-output-tokens-limit": "80000",
            "anthropic-ratelimit-output-tokens-remaining": "80000",
            "anthropic-ratelimit-output-tokens-reset": "2025-09-30T12:00:01Z",
            "anthropic-ratelimit-tokens-limit": "480000",
            "anthropic-ratelimit-tokens-remaining": "479000",
            "anthropic-ratelimit-tokens-reset": "2025-09-30T12:00:01Z",
        }

    def error(self, status: int, retry_after: str | None = None) -> web.Response:
        kind, message = _ERRORS.get(status, _ERRORS[500])
        headers = self.headers()
        body = {
            "type": "error",
            "error": {"type": kind, "message": message},
            "request_id": headers["request-id"],
        }
        if retry_after is not None:
            headers["retry-after"] = retry_after
        return web.json_response(body, status=status, headers=headers)

    def _fixed(self, name: str) -> Handler:
        async def handle(request: web.Request, received: RecordedRequest) -> web.StreamResponse:
            return await self.send_json(request, recording("anthropic", name))

        return handle

    async def _messages(
        self, request: web.Request, received: RecordedRequest
    ) -> web.StreamResponse:
        if "anthropic-version" not in received.headers:
            return self.error(400)
        if received.json().get("stream") is True:
            name = self.stream_recording or "message_stream.sse"
            return await self.send_sse(request, recording("anthropic", name))
        return await self.send_json(request, recording("anthropic", self.recording or "message"))


@pytest.fixture
async def fake_anthropic() -> AsyncIterator[FakeAnthropic]:
    """A running `FakeAnthropic`; its upstream key is ``fake.api_key``."""
    fake = FakeAnthropic()
    await fake.start()
    try:
        yield fake
    finally:
        await fake.close()
