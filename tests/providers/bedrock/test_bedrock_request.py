"""Bedrock requests: model ids, operations, keys, upstream headers, errors."""

from __future__ import annotations

import json

import pytest

from llmledger.providers.base import RequestError
from llmledger.providers.bedrock import BedrockAdapter
from llmledger.providers.bedrock.models import parse_model_id

ADAPTER = BedrockAdapter()


@pytest.mark.parametrize(
    ("raw", "base", "profile", "family"),
    [
        ("amazon.nova-pro-v1:0", "amazon.nova-pro-v1:0", None, "nova"),
        (
            "us.anthropic.claude-sonnet-4-5-20250929-v1%3A0",
            "anthropic.claude-sonnet-4-5-20250929-v1:0",
            "us",
            "anthropic",
        ),
        (
            "arn%3Aaws%3Abedrock%3Aus-east-1%3A123456789012%3Ainference-profile%2F"
            "eu.meta.llama3-2-3b-instruct-v1%3A0",
            "meta.llama3-2-3b-instruct-v1:0",
            "eu",
            "meta",
        ),
        (
            "arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/a1b2c3",
            "a1b2c3",
            "application",
            "unknown",
        ),
        ("mistral.mistral-large-2402-v1:0", "mistral.mistral-large-2402-v1:0", None, "mistral"),
    ],
)
def test_model_ids(raw: str, base: str, profile: str | None, family: str) -> None:
    model = parse_model_id(raw)
    assert (model.base, model.profile, model.family) == (base, profile, family)


@pytest.mark.parametrize(
    ("action", "operation", "stream", "billable"),
    [
        ("converse", "Converse", False, True),
        ("converse-stream", "ConverseStream", True, True),
        ("invoke", "InvokeModel", False, True),
        ("invoke-with-response-stream", "InvokeModelWithResponseStream", True, True),
        ("count-tokens", "CountTokens", False, False),
    ],
)
def test_operations(action: str, operation: str, stream: bool, billable: bool) -> None:
    info = ADAPTER.read_request("POST", f"/bedrock/model/amazon.nova-lite-v1:0/{action}", {}, b"{}")
    assert (info.operation, info.stream, info.billable) == (operation, stream, billable)


def test_application_profile_family_comes_from_the_body() -> None:
    info = ADAPTER.read_request(
        "POST",
        "/bedrock/model/arn%3Aaws%3Abedrock%3Aus-east-1%3A1%3Aapplication-inference-profile"
        "%2Fabc/invoke",
        {},
        b'{"anthropic_version": "bedrock-2023-05-31", "max_tokens": 100, "messages": []}',
    )
    assert info.attributes["family"] == "anthropic"
    assert info.max_output_tokens == 100


def test_max_output_per_family() -> None:
    for body, expected in [
        ({"inferenceConfig": {"maxTokens": 10}}, 10),
        ({"schemaVersion": "messages-v1", "inferenceConfig": {"max_new_tokens": 11}}, 11),
        ({"prompt": "x", "max_gen_len": 12}, 12),
        ({"prompt": "x", "max_tokens": 13}, 13),
        ({"inputText": "x", "textGenerationConfig": {"maxTokenCount": 14}}, 14),
        ({"prompt": "x"}, None),
    ]:
        info = ADAPTER.read_request(
            "POST",
            "/bedrock/model/meta.llama3-8b-instruct-v1:0/invoke",
            {},
            json.dumps(body).encode(),
        )
        assert info.max_output_tokens == expected


def test_bad_requests() -> None:
    with pytest.raises(RequestError) as caught:
        ADAPTER.read_request("POST", "/bedrock/model/x/fly", {}, b"{}")
    assert caught.value.status == 404
    with pytest.raises(RequestError) as caught:
        ADAPTER.read_request("POST", "/bedrock/model/x/converse", {}, b"not json")
    assert caught.value.status == 400


def test_client_key() -> None:
    assert ADAPTER.client_key({"x-llmledger-key": "vk-1"}, {}) == "vk-1"
    assert ADAPTER.client_key({"Authorization": "Bearer vk-2"}, {}) == "vk-2"
    sigv4 = "AWS4-HMAC-SHA256 Credential=AKIA/20250101/us-east-1/bedrock/aws4_request"
    assert ADAPTER.client_key({"Authorization": sigv4}, {}) is None


def test_upstream_headers_drop_the_caller_signature() -> None:
    headers = ADAPTER.upstream_headers(
        {
            "X-LLMLedger-Key": "vk-1",
            "Authorization": "AWS4-HMAC-SHA256 ...",
            "X-Amz-Date": "20250101T000000Z",
            "Content-Type": "application/json",
            "x-amzn-bedrock-guardrailidentifier": "gr-1",
        },
        None,
    )
    assert headers == {  # names lower-cased: HTTP header names are case-insensitive
        "content-type": "application/json",
        "x-amzn-bedrock-guardrailidentifier": "gr-1",
    }


def test_budget_exceeded_is_a_throttling_exception() -> None:
    body, content_type = ADAPTER.error_body(429, "budget_exceeded", "Budget of agent:QA/x/y hit")
    assert json.loads(body) == {"message": "Budget of agent:QA/x/y hit"}
    assert content_type == "application/json"
    assert ADAPTER.error_headers(429, "budget_exceeded") == {
        "x-amzn-ErrorType": "ThrottlingException"
    }
    assert ADAPTER.error_headers(400, "invalid_request")["x-amzn-ErrorType"] == (
        "ValidationException"
    )
