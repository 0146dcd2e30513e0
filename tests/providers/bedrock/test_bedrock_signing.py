"""The gateway's SigV4 signing, checked by the fake Bedrock as AWS checks it."""

from __future__ import annotations

import json

import aiohttp
from botocore.credentials import Credentials
from tests.fakes.bedrock_fake import FakeBedrock
from yarl import URL

from llmledger.providers.bedrock import BedrockAdapter
from llmledger.providers.bedrock.eventstream import EventStreamDecoder
from llmledger.usage import UsageType

PATH = "/model/us.anthropic.claude-sonnet-4-5-20250929-v1%3A0"
BODY = json.dumps({"messages": [{"role": "user", "content": [{"text": "Capital?"}]}]}).encode()


async def send(
    fake: FakeBedrock, adapter: BedrockAdapter, action: str, *, tamper: bool = False
) -> tuple[int, dict[str, str], bytes]:
    url = f"{fake.url}{PATH}/{action}"
    incoming = {
        "X-LLMLedger-Key": "vk-agent-1",
        "Content-Type": "application/json",
        "Accept": "application/json",
        "X-Department": "QA",
    }
    headers = adapter.sign("POST", url, adapter.upstream_headers(incoming, None), BODY)
    body = BODY + b" " if tamper else BODY
    async with aiohttp.ClientSession() as session:
        # encoded=True: the path must go out exactly as signed (%3A stays %3A).
        async with session.post(URL(url, encoded=True), headers=headers, data=body) as response:
            return response.status, dict(response.headers), await response.read()


async def test_signed_call_is_accepted(fake_bedrock: FakeBedrock) -> None:
    adapter = BedrockAdapter(fake_bedrock.region, lambda: fake_bedrock.credentials)
    status, _, body = await send(fake_bedrock, adapter, "converse")
    assert status == 200, body
    seen = fake_bedrock.requests[-1]
    assert seen.signature_error is None
    lowered = {k.lower() for k in seen.headers}
    assert "x-llmledger-key" not in lowered and "x-department" not in lowered
    metered = adapter.read_response(
        adapter.read_request("POST", f"/bedrock{PATH}/converse", {}, BODY), status, {}, body
    )
    assert metered.usage.get_quantity(UsageType.INPUT_TOKENS) == 14


async def test_signed_stream_is_metered(fake_bedrock: FakeBedrock) -> None:
    adapter = BedrockAdapter(fake_bedrock.region, lambda: fake_bedrock.credentials)
    status, headers, body = await send(fake_bedrock, adapter, "converse-stream")
    assert status == 200
    assert headers["Content-Type"] == "application/vnd.amazon.eventstream"
    assert len(EventStreamDecoder().feed(body)) == 6


async def test_session_token_is_signed(fake_bedrock: FakeBedrock) -> None:
    fake_bedrock.credentials = Credentials("AKIATEMPORARY0000001", "temp-secret", "session-token")
    adapter = BedrockAdapter(fake_bedrock.region, lambda: fake_bedrock.credentials)
    status, _, _ = await send(fake_bedrock, adapter, "converse")
    assert status == 200
    assert fake_bedrock.requests[-1].headers["X-Amz-Security-Token"] == "session-token"


async def test_wrong_secret_gets_invalid_signature(fake_bedrock: FakeBedrock) -> None:
    wrong = Credentials(fake_bedrock.credentials.access_key, "not-the-secret")
    adapter = BedrockAdapter(fake_bedrock.region, lambda: wrong)
    status, headers, body = await send(fake_bedrock, adapter, "converse")
    assert status == 403
    assert headers["x-amzn-ErrorType"].startswith("InvalidSignatureException")
    assert json.loads(body)["message"].startswith("The request signature we calculated")


async def test_tampered_body_gets_invalid_signature(fake_bedrock: FakeBedrock) -> None:
    adapter = BedrockAdapter(fake_bedrock.region, lambda: fake_bedrock.credentials)
    status, headers, _ = await send(fake_bedrock, adapter, "converse", tamper=True)
    assert status == 403
    assert headers["x-amzn-ErrorType"].startswith("InvalidSignatureException")


async def test_unsigned_call_is_rejected(fake_bedrock: FakeBedrock) -> None:
    async with aiohttp.ClientSession() as session:
        async with session.post(
            URL(f"{fake_bedrock.url}{PATH}/converse", encoded=True), data=BODY
        ) as response:
            assert response.status == 403
            assert response.headers["x-amzn-ErrorType"].startswith(
                "MissingAuthenticationTokenException"
            )


async def test_throttling_scenario(fake_bedrock: FakeBedrock) -> None:
    fake_bedrock.use("429_once")
    adapter = BedrockAdapter(fake_bedrock.region, lambda: fake_bedrock.credentials)
    first, headers, _ = await send(fake_bedrock, adapter, "converse")
    second, _, _ = await send(fake_bedrock, adapter, "converse")
    assert (first, second) == (429, 200)
    assert headers["x-amzn-ErrorType"].startswith("ThrottlingException")
