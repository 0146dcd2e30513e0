"""Gemini requests: paths, keys, query stripping, upstream headers, errors."""

from __future__ import annotations

import json

import pytest

from llmledger.providers.base import RequestError
from llmledger.providers.gemini import GeminiAdapter

ADAPTER = GeminiAdapter()


@pytest.mark.parametrize(
    ("path", "operation", "model", "stream", "billable"),
    [
        (
            "/gemini/v1beta/models/gemini-2.5-flash:generateContent",
            "generateContent",
            "gemini-2.5-flash",
            False,
            True,
        ),
        (
            "/v1/models/gemini-2.5-pro:streamGenerateContent?alt=sse",
            "streamGenerateContent",
            "gemini-2.5-pro",
            True,
            True,
        ),
        (
            "/gemini/v1beta/models/gemini-2.5-flash:countTokens",
            "countTokens",
            "gemini-2.5-flash",
            False,
            False,
        ),
        (
            "/gemini/v1beta/models/gemini-embedding-001:batchEmbedContents",
            "batchEmbedContents",
            "gemini-embedding-001",
            False,
            True,
        ),
        ("/gemini/v1beta/models", "models", "", False, False),
    ],
)
def test_paths(path: str, operation: str, model: str, stream: bool, billable: bool) -> None:
    info = ADAPTER.read_request("POST" if ":" in path else "GET", path, {}, b"{}")
    assert (info.operation, info.model, info.stream, info.billable) == (
        operation,
        model,
        stream,
        billable,
    )


def test_unknown_path_and_bad_json() -> None:
    with pytest.raises(RequestError) as caught:
        ADAPTER.read_request("POST", "/gemini/v9/models/x:generateContent", {}, b"{}")
    assert caught.value.status == 404
    with pytest.raises(RequestError) as caught:
        ADAPTER.read_request("POST", "/gemini/v1/models/x:generateContent", {}, b"{nope")
    assert caught.value.status == 400
    with pytest.raises(RequestError):
        ADAPTER.read_request(
            "POST",
            "/gemini/v1/models/x:generateContent",
            {},
            json.dumps({"generationConfig": {"maxOutputTokens": "many"}}).encode(),
        )


def test_client_key_from_header_or_query() -> None:
    assert ADAPTER.client_key({"X-Goog-Api-Key": "vk-1"}, {}) == "vk-1"
    assert ADAPTER.client_key({}, {"key": "vk-2"}) == "vk-2"
    assert ADAPTER.client_key({}, {}) is None


def test_key_is_stripped_from_the_upstream_query() -> None:
    assert ADAPTER.upstream_query("alt=sse&key=vk-2") == "alt=sse"
    assert ADAPTER.upstream_query("key=vk-2") == ""
    assert "key" in ADAPTER.stripped_query_params


def test_upstream_headers_swap_the_key() -> None:
    headers = ADAPTER.upstream_headers(
        {
            "x-goog-api-key": "vk-1",
            "Content-Type": "application/json",
            "x-goog-api-client": "google-genai-sdk/3.6.1",
            "X-Department": "Engineering",
            "Host": "localhost:8080",
            "Content-Length": "10",
        },
        "real-google-key",
    )
    assert headers == {
        "content-type": "application/json",
        "x-goog-api-client": "google-genai-sdk/3.6.1",
        "x-goog-api-key": "real-google-key",
    }


def test_budget_exceeded_error_in_google_format() -> None:
    body, content_type = ADAPTER.error_body(
        429, "budget_exceeded", "Budget of department:QA exceeded: $500 of $500 spent"
    )
    error = json.loads(body)["error"]
    assert content_type.startswith("application/json")
    assert error["code"] == 429
    assert error["status"] == "RESOURCE_EXHAUSTED"
    assert "department:QA" in error["message"]
    assert ADAPTER.error_headers(429, "budget_exceeded") == {}


@pytest.mark.parametrize(
    ("status", "error_type", "expected"),
    [
        (401, "authentication_error", "UNAUTHENTICATED"),
        (400, "invalid_request", "INVALID_ARGUMENT"),
        (404, "", "NOT_FOUND"),
        (502, "upstream_error", "UNAVAILABLE"),
        (500, "", "INTERNAL"),
    ],
)
def test_error_statuses(status: int, error_type: str, expected: str) -> None:
    body, _ = ADAPTER.error_body(status, error_type, "x")
    assert json.loads(body)["error"]["status"] == expected
