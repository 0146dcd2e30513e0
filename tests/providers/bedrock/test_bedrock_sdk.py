"""boto3's bedrock-runtime client parses what the fake sends: the fake speaks Bedrock."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import boto3  # type: ignore[import-untyped]
import botocore.exceptions
import pytest
from aiohttp import web
from botocore.config import Config
from tests.fakes.bedrock_fake import FakeBedrock

from llmledger.providers.bedrock import BedrockAdapter

MODEL = "us.anthropic.claude-sonnet-4-5-20250929-v1:0"


@contextmanager
def bedrock_client(fake: FakeBedrock, **creds: str) -> Iterator[Any]:
    client = boto3.client(
        "bedrock-runtime",
        region_name=fake.region,
        endpoint_url=fake.url,
        aws_access_key_id=creds.get("key", fake.credentials.access_key),
        aws_secret_access_key=creds.get("secret", fake.credentials.secret_key),
        config=Config(retries={"max_attempts": 1, "mode": "standard"}),
    )
    try:
        yield client
    finally:
        client.close()


async def test_converse(fake_bedrock: FakeBedrock) -> None:
    def call() -> Any:
        with bedrock_client(fake_bedrock) as client:
            return client.converse(
                modelId=MODEL, messages=[{"role": "user", "content": [{"text": "Capital?"}]}]
            )

    answer = await asyncio.to_thread(call)
    assert answer["usage"]["cacheReadInputTokens"] == 1536
    assert answer["output"]["message"]["content"][0]["text"].startswith("Paris")
    assert fake_bedrock.requests[-1].signature_error is None
    assert "%3A0" in fake_bedrock.requests[-1].raw_path


async def test_converse_stream(fake_bedrock: FakeBedrock) -> None:
    def call() -> list[Any]:
        with bedrock_client(fake_bedrock) as client:
            answer = client.converse_stream(
                modelId=MODEL, messages=[{"role": "user", "content": [{"text": "Capital?"}]}]
            )
            return list(answer["stream"])

    events = await asyncio.to_thread(call)
    assert [next(iter(e)) for e in events] == [
        "messageStart",
        "contentBlockDelta",
        "contentBlockDelta",
        "contentBlockStop",
        "messageStop",
        "metadata",
    ]
    assert events[-1]["metadata"]["usage"]["outputTokens"] == 9


@pytest.mark.parametrize(
    "model",
    [
        MODEL,
        "amazon.nova-pro-v1:0",
        "meta.llama3-70b-instruct-v1:0",
        "mistral.mistral-large-2402-v1:0",
    ],
)
async def test_invoke_stream(fake_bedrock: FakeBedrock, model: str) -> None:
    def call() -> list[Any]:
        with bedrock_client(fake_bedrock) as client:
            answer = client.invoke_model_with_response_stream(modelId=model, body=b"{}")
            return list(answer["body"])

    events = await asyncio.to_thread(call)
    assert events and all("chunk" in e for e in events)
    assert b"amazon-bedrock-invocationMetrics" in events[-1]["chunk"]["bytes"]


async def test_wrong_signature_is_rejected(fake_bedrock: FakeBedrock) -> None:
    def call() -> Any:
        with bedrock_client(fake_bedrock, secret="not-the-secret") as client:
            return client.converse(
                modelId=MODEL, messages=[{"role": "user", "content": [{"text": "Hi"}]}]
            )

    with pytest.raises(botocore.exceptions.ClientError) as caught:
        await asyncio.to_thread(call)
    assert caught.value.response["Error"]["Code"] == "InvalidSignatureException"
    assert "does not match" in caught.value.response["Error"]["Message"]


async def test_invoke_json_with_token_headers(fake_bedrock: FakeBedrock) -> None:
    def call() -> Any:
        with bedrock_client(fake_bedrock) as client:
            return client.invoke_model(modelId="meta.llama3-70b-instruct-v1:0", body=b"{}")

    answer = await asyncio.to_thread(call)
    headers = answer["ResponseMetadata"]["HTTPHeaders"]
    assert headers["x-amzn-bedrock-input-token-count"] == "17"
    assert json.loads(answer["body"].read())["generation_token_count"] == 9


async def test_boto3_reads_the_gateway_budget_error() -> None:
    adapter = BedrockAdapter()

    async def refuse(request: web.Request) -> web.Response:
        body, content_type = adapter.error_body(
            429, "budget_exceeded", "Budget of department:QA exceeded: $500.00 of $500.00"
        )
        return web.Response(
            status=429,
            body=body,
            headers={"Content-Type": content_type, **adapter.error_headers(429, "budget_exceeded")},
        )

    app = web.Application()
    app.router.add_post("/{tail:.*}", refuse)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    fake = FakeBedrock(url=f"http://127.0.0.1:{runner.addresses[0][1]}")

    def call() -> Any:
        with bedrock_client(fake) as client:
            return client.converse(modelId=MODEL, messages=[])

    try:
        with pytest.raises(botocore.exceptions.ClientError) as caught:
            await asyncio.to_thread(call)
    finally:
        await runner.cleanup()
    assert caught.value.response["Error"]["Code"] == "ThrottlingException"
    assert "department:QA" in caught.value.response["Error"]["Message"]
