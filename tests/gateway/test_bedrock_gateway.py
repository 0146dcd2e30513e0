"""boto3's bedrock-runtime client through the gateway to a fake Bedrock on loopback.

The caller signs with throw-away credentials and names its virtual key in
``X-LLMLedger-Key`` (or as a Bedrock API key, a bearer token); the gateway drops the
caller's signature and re-signs with its own credentials, which the fake verifies.

Expected costs are written from AWS's published Bedrock prices (aws.amazon.com/bedrock/
pricing, us-east-1, per million tokens): Claude Sonnet 4.5 through a geographic (``us.``)
or in-region endpoint $3.30 in / $16.50 out / $0.33 cache read / $4.125 cache write;
Nova Pro $0.80 / $3.20; Llama 3 70B Instruct $2.65 / $3.50; Mistral Large (24.02)
$4 / $12.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import quote

import aiohttp
import boto3  # type: ignore[import-untyped]
import botocore.exceptions
import pytest
import urllib3.exceptions
from botocore.config import Config
from botocore.credentials import Credentials

from llmledger.guardrails.budgets import set_budget
from tests.fakes.bedrock_fake import FakeBedrock
from tests.gateway.conftest import gateway_settings
from tests.gateway.harness import RunningGateway, serve

PROFILE = "us.anthropic.claude-sonnet-4-5-20250929-v1:0"
MODELS = {
    PROFILE: "anthropic.claude-sonnet-4-5-20250929-v1:0",
    "anthropic.claude-sonnet-4-5-20250929-v1:0": "anthropic.claude-sonnet-4-5-20250929-v1:0",
    "amazon.nova-pro-v1:0": "amazon.nova-pro-v1:0",
    "meta.llama3-70b-instruct-v1:0": "meta.llama3-70b-instruct-v1:0",
    "mistral.mistral-large-2402-v1:0": "mistral.mistral-large-2402-v1:0",
}
#: USD per million tokens, by the model actually used (see the module docstring).
PRICES = {
    "anthropic.claude-sonnet-4-5-20250929-v1:0": {
        "input_tokens": "3.30",
        "output_tokens": "16.50",
        "cached_input_tokens": "0.33",
        "cache_write_tokens": "4.125",
    },
    "amazon.nova-pro-v1:0": {"input_tokens": "0.80", "output_tokens": "3.20"},
    "meta.llama3-70b-instruct-v1:0": {"input_tokens": "2.65", "output_tokens": "3.50"},
    "mistral.mistral-large-2402-v1:0": {"input_tokens": "4", "output_tokens": "12"},
}
MESSAGES = [{"role": "user", "content": [{"text": "Capital of France?"}]}]


def invoke_body(model: str) -> bytes:
    if "anthropic" in model:
        body: dict[str, Any] = {
            "anthropic_version": "bedrock-2023-05-31",
            "max_tokens": 200,
            "messages": [{"role": "user", "content": "Capital?"}],
        }
    elif "nova" in model:
        body = {
            "messages": [{"role": "user", "content": [{"text": "Capital?"}]}],
            "inferenceConfig": {"maxTokens": 200},
        }
    elif "meta" in model:
        body = {"prompt": "Capital of France?", "max_gen_len": 200}
    else:
        body = {"prompt": "<s>[INST] Capital of France? [/INST]", "max_tokens": 200}
    return json.dumps(body).encode()


def expected_nanos(model_used: str, usage: dict[str, int]) -> int:
    prices = PRICES[model_used]
    usd = sum(Decimal(q) * Decimal(prices[t]) for t, q in usage.items()) / 1_000_000
    return int(usd * 1_000_000_000)


@contextmanager
def bedrock_client(gw: RunningGateway, key: str | None, **creds: str) -> Iterator[Any]:
    """boto3 pointed at the gateway, signing with credentials the gateway ignores."""
    client = boto3.client(
        "bedrock-runtime",
        region_name="us-east-1",
        endpoint_url=f"{gw.url}/bedrock",
        aws_access_key_id=creds.get("key", "x"),
        aws_secret_access_key=creds.get("secret", "y"),
        config=Config(retries={"total_max_attempts": 1, "mode": "standard"}),
    )
    if key is not None:

        def add_key(request: Any, **_: Any) -> None:
            request.headers["X-LLMLedger-Key"] = key

        client.meta.events.register("before-sign.bedrock-runtime.*", add_key)
    try:
        yield client
    finally:
        client.close()


async def call(gw: RunningGateway, key: str | None, fn: Callable[[Any], Any]) -> Any:
    def run() -> Any:
        with bedrock_client(gw, key) as client:
            return fn(client)

    return await asyncio.to_thread(run)


def assert_signed_by_gateway(fake: FakeBedrock, key: str) -> None:
    assert fake.requests
    for sent in fake.requests:
        assert sent.signature_error is None
        auth = {k.lower(): v for k, v in sent.headers.items()}["authorization"]
        assert f"Credential={fake.credentials.access_key}/" in auth
        assert key not in str(sent.headers)
        assert "x-llmledger-key" not in {k.lower() for k in sent.headers}


@pytest.fixture
def key(bedrock_gateway: RunningGateway) -> str:
    return bedrock_gateway.key("Engineering", "Platform", "bedrock-agent")


async def test_converse_is_re_signed_and_priced(
    bedrock_gateway: RunningGateway, fake_bedrock: FakeBedrock, key: str
) -> None:
    answer = await call(
        bedrock_gateway, key, lambda c: c.converse(modelId=PROFILE, messages=MESSAGES)
    )
    assert answer["output"]["message"]["content"][0]["text"].startswith("Paris")
    assert "x-llmledger-cost-usd" in answer["ResponseMetadata"]["HTTPHeaders"]
    assert_signed_by_gateway(fake_bedrock, key)
    assert "%3A0" in fake_bedrock.requests[-1].raw_path
    [event] = await asyncio.to_thread(bedrock_gateway.events)
    assert (event["provider"], event["operation"], event["status"]) == (
        "bedrock",
        "Converse",
        "settled",
    )
    assert event["model_requested"] == PROFILE
    assert event["model_used"] == "anthropic.claude-sonnet-4-5-20250929-v1:0"
    assert event["agent"] == "bedrock-agent"
    assert bedrock_gateway.usage_of(event["id"]) == {
        "input_tokens": 14,
        "output_tokens": 9,
        "cached_input_tokens": 1536,
        "cache_write_tokens": 512,
    }
    # 14 x 3.30 + 9 x 16.50 + 1536 x 0.33 + 512 x 4.125 = $2813.58 per million
    assert event["cost_nanos"] == 2_813_580


async def test_converse_stream(
    bedrock_gateway: RunningGateway, fake_bedrock: FakeBedrock, key: str
) -> None:
    events = await call(
        bedrock_gateway,
        key,
        lambda c: list(c.converse_stream(modelId=PROFILE, messages=MESSAGES)["stream"]),
    )
    assert [next(iter(e)) for e in events][-1] == "metadata"
    assert events[-1]["metadata"]["usage"]["outputTokens"] == 9
    assert_signed_by_gateway(fake_bedrock, key)
    [event] = await asyncio.to_thread(bedrock_gateway.events)
    assert (event["operation"], event["status"], event["flags"]) == ("ConverseStream", "settled", 0)
    assert event["cost_nanos"] == 2_813_580


@pytest.mark.parametrize("model", list(MODELS))
async def test_invoke_model_each_family(
    bedrock_gateway: RunningGateway, fake_bedrock: FakeBedrock, key: str, model: str
) -> None:
    answer = await call(
        bedrock_gateway,
        key,
        lambda c: c.invoke_model(
            modelId=model, body=invoke_body(model), contentType="application/json"
        ),
    )
    assert json.loads(answer["body"].read())
    assert_signed_by_gateway(fake_bedrock, key)
    [event] = await asyncio.to_thread(bedrock_gateway.events)
    assert (event["operation"], event["status"]) == ("InvokeModel", "settled")
    assert event["model_used"] == MODELS[model]
    usage = bedrock_gateway.usage_of(event["id"])
    assert usage["input_tokens"] > 0 and usage["output_tokens"] > 0
    assert event["cost_nanos"] == expected_nanos(MODELS[model], usage) > 0


@pytest.mark.parametrize("model", list(MODELS))
async def test_invoke_model_with_response_stream_each_family(
    bedrock_gateway: RunningGateway, fake_bedrock: FakeBedrock, key: str, model: str
) -> None:
    chunks = await call(
        bedrock_gateway,
        key,
        lambda c: list(
            c.invoke_model_with_response_stream(modelId=model, body=invoke_body(model))["body"]
        ),
    )
    assert chunks and all("chunk" in e for e in chunks)
    assert b"amazon-bedrock-invocationMetrics" in chunks[-1]["chunk"]["bytes"]
    assert_signed_by_gateway(fake_bedrock, key)
    [event] = await asyncio.to_thread(bedrock_gateway.events)
    assert (event["operation"], event["status"], event["flags"]) == (
        "InvokeModelWithResponseStream",
        "settled",
        0,
    )
    assert event["model_used"] == MODELS[model]
    usage = bedrock_gateway.usage_of(event["id"])
    assert usage["input_tokens"] > 0 and usage["output_tokens"] > 0
    assert event["cost_nanos"] == expected_nanos(MODELS[model], usage) > 0


async def test_bedrock_api_key_variant(
    bedrock_gateway: RunningGateway, fake_bedrock: FakeBedrock, key: str
) -> None:
    """A Bedrock API key (``AWS_BEARER_TOKEN_BEDROCK``) is sent as a bearer token: the
    virtual key. boto3 refuses bearer auth over plain HTTP, so the call is made raw."""
    url = f"{bedrock_gateway.url}/bedrock/model/{quote(PROFILE, safe='')}/converse"
    async with aiohttp.ClientSession() as http:
        async with http.post(
            url, json={"messages": MESSAGES}, headers={"authorization": f"Bearer {key}"}
        ) as resp:
            assert resp.status == 200
            assert (await resp.json())["usage"]["outputTokens"] == 9
    assert_signed_by_gateway(fake_bedrock, key)
    [event] = await asyncio.to_thread(bedrock_gateway.events)
    assert (event["agent"], event["cost_nanos"]) == ("bedrock-agent", 2_813_580)


async def test_a_wrong_gateway_signature_fails_at_the_fake(
    tmp_path: Path, fake_bedrock: FakeBedrock
) -> None:
    """The fake really checks SigV4: signed with a wrong secret, the call is refused."""
    settings = gateway_settings(
        tmp_path, bedrock={"base_url": fake_bedrock.url, "region": fake_bedrock.region}
    )
    wrong = Credentials(fake_bedrock.credentials.access_key, "not-the-secret")
    with serve(settings, bedrock_credentials=lambda: wrong) as gw:
        key = gw.key()
        with pytest.raises(botocore.exceptions.ClientError) as caught:
            await call(gw, key, lambda c: c.converse(modelId=PROFILE, messages=MESSAGES))
        [event] = await asyncio.to_thread(gw.events)
    assert caught.value.response["Error"]["Code"] == "InvalidSignatureException"
    assert fake_bedrock.requests[-1].signature_error is not None
    assert (event["status"], event["http_status"], event["cost_nanos"]) == ("failed", 403, 0)


async def test_missing_and_invalid_keys_get_aws_errors(
    bedrock_gateway: RunningGateway, fake_bedrock: FakeBedrock
) -> None:
    for key in (None, "llk_not-a-real-key"):
        with pytest.raises(botocore.exceptions.ClientError) as caught:
            await call(
                bedrock_gateway, key, lambda c: c.converse(modelId=PROFILE, messages=MESSAGES)
            )
        error = caught.value.response["Error"]
        assert error["Code"] == "UnrecognizedClientException", key
        assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 401
        assert "llmledger key" in error["Message"]
    assert fake_bedrock.requests == []
    assert await asyncio.to_thread(bedrock_gateway.events) == []


async def test_budget_exceeded_is_a_throttling_exception(
    bedrock_gateway: RunningGateway, fake_bedrock: FakeBedrock, key: str
) -> None:
    with bedrock_gateway.store.write() as conn:
        set_budget(
            conn, scope="agent:Engineering/Platform/bedrock-agent", limit_usd=Decimal("0.001")
        )
    bedrock_gateway.app.runtime.budgets.invalidate()
    with pytest.raises(botocore.exceptions.ClientError) as caught:
        await call(
            bedrock_gateway,
            key,
            lambda c: c.converse(
                modelId=PROFILE, messages=MESSAGES, inferenceConfig={"maxTokens": 8000}
            ),
        )
    assert caught.value.response["Error"]["Code"] == "ThrottlingException"
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 429
    assert "agent:Engineering/Platform/bedrock-agent" in caught.value.response["Error"]["Message"]
    assert int(caught.value.response["ResponseMetadata"]["HTTPHeaders"]["retry-after"]) > 0
    assert fake_bedrock.requests == []
    [event] = await asyncio.to_thread(bedrock_gateway.events)
    assert event["status"] == "blocked"


@pytest.mark.parametrize(
    ("scenario", "status", "code"),
    [("429", 429, "ThrottlingException"), ("500", 500, "InternalServerException")],
)
async def test_upstream_errors_pass_through(
    bedrock_gateway: RunningGateway,
    fake_bedrock: FakeBedrock,
    key: str,
    scenario: str,
    status: int,
    code: str,
) -> None:
    fake_bedrock.use(scenario)
    with pytest.raises(botocore.exceptions.ClientError) as caught:
        await call(bedrock_gateway, key, lambda c: c.converse(modelId=PROFILE, messages=MESSAGES))
    assert caught.value.response["Error"]["Code"] == code
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == status
    assert len(fake_bedrock.requests) == 1
    [event] = await asyncio.to_thread(bedrock_gateway.events)
    assert (event["status"], event["http_status"], event["cost_nanos"]) == ("failed", status, 0)


@pytest.mark.parametrize("operation", ["converse_stream", "invoke_stream"])
async def test_cut_stream_is_billed_as_estimated(
    bedrock_gateway: RunningGateway, fake_bedrock: FakeBedrock, key: str, operation: str
) -> None:
    fake_bedrock.use("cut")

    def stream(c: Any) -> list[Any]:
        if operation == "converse_stream":
            return list(c.converse_stream(modelId=PROFILE, messages=MESSAGES)["stream"])
        answer = c.invoke_model_with_response_stream(modelId=PROFILE, body=invoke_body(PROFILE))
        return list(answer["body"])

    # botocore lets urllib3's error through when the event stream breaks off.
    with pytest.raises((botocore.exceptions.BotoCoreError, urllib3.exceptions.ProtocolError)):
        await call(bedrock_gateway, key, stream)
    [event] = await asyncio.to_thread(bedrock_gateway.events)
    assert event["flags"] & 2  # estimated
    assert event["cost_nanos"] > 0
    assert bedrock_gateway.usage_of(event["id"]).get("input_tokens", 0) > 0
