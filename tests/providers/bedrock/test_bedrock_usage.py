"""Bedrock usage per API family, on recorded answers."""

from __future__ import annotations

import json

import pytest
from tests.fakes.bedrock_fake import load_recording

from llmledger.providers.bedrock import BedrockAdapter
from llmledger.usage import Usage, UsageType

ADAPTER = BedrockAdapter(region="us-east-1")
PROFILE = "us.anthropic.claude-sonnet-4-5-20250929-v1%3A0"


def read(path: str, recording: str, headers: dict[str, str] | None = None) -> Usage:
    info = ADAPTER.read_request("POST", path, {}, b'{"messages": []}')
    body = json.dumps(load_recording(recording)).encode()
    metered = ADAPTER.read_response(info, 200, headers or {}, body)
    assert not metered.estimated
    return metered.usage


def test_converse_usage_with_cache() -> None:
    usage = read(f"/bedrock/model/{PROFILE}/converse", "converse")
    assert usage == Usage.of(
        input_tokens=14, output_tokens=9, cached_input_tokens=1536, cache_write_tokens=512
    )


def test_anthropic_invoke_usage_and_model() -> None:
    info = ADAPTER.read_request(
        "POST",
        f"/bedrock/model/{PROFILE}/invoke",
        {},
        b'{"anthropic_version": "bedrock-2023-05-31", "max_tokens": 512, "messages": []}',
    )
    assert info.max_output_tokens == 512
    assert info.model == "us.anthropic.claude-sonnet-4-5-20250929-v1:0"
    body = json.dumps(load_recording("invoke_anthropic")).encode()
    metered = ADAPTER.read_response(info, 200, {}, body)
    assert metered.usage == Usage.of(
        input_tokens=21, output_tokens=11, cached_input_tokens=2048, cache_write_tokens=1024
    )
    assert metered.model_used == "anthropic.claude-sonnet-4-5-20250929-v1:0"
    assert metered.attributes["inference_profile"] == "us"
    assert metered.attributes["cache_write_1h_tokens"] == "1024"


@pytest.mark.parametrize(
    ("model", "recording", "expected"),
    [
        ("amazon.nova-pro-v1:0", "invoke_nova", Usage.of(input_tokens=12, output_tokens=8)),
        (
            "meta.llama3-70b-instruct-v1:0",
            "invoke_meta",
            Usage.of(input_tokens=17, output_tokens=9),
        ),
    ],
)
def test_family_invoke_usage(model: str, recording: str, expected: Usage) -> None:
    assert read(f"/bedrock/model/{model}/invoke", recording) == expected


def test_mistral_usage_comes_from_headers() -> None:
    headers = {
        "X-Amzn-Bedrock-Input-Token-Count": "15",
        "X-Amzn-Bedrock-Output-Token-Count": "8",
    }
    usage = read("/bedrock/model/mistral.mistral-large-2402-v1:0/invoke", "invoke_mistral", headers)
    assert usage == Usage.of(input_tokens=15, output_tokens=8)


def test_no_usage_anywhere_is_estimated_at_the_bound() -> None:
    info = ADAPTER.read_request(
        "POST", "/bedrock/model/mistral.mistral-7b-instruct-v0:2/invoke", {}, b'{"prompt": "hi"}'
    )
    metered = ADAPTER.read_response(info, 200, {}, b'{"outputs": []}')
    assert metered.estimated
    assert metered.usage == info.input_upper_bound


def test_input_images_are_counted_beside_tokens() -> None:
    body = {
        "messages": [
            {
                "role": "user",
                "content": [
                    {"text": "What is in this picture?"},
                    {"image": {"format": "png", "source": {"bytes": "iVBORw0KGgo" * 100}}},
                ],
            }
        ],
        "inferenceConfig": {"maxTokens": 300},
    }
    info = ADAPTER.read_request(
        "POST", f"/bedrock/model/{PROFILE}/converse", {}, json.dumps(body).encode()
    )
    assert info.max_output_tokens == 300
    assert info.features["images"] == 1
    metered = ADAPTER.read_response(info, 200, {}, json.dumps(load_recording("converse")).encode())
    assert metered.usage.get_quantity(UsageType.INPUT_IMAGES) == 1
