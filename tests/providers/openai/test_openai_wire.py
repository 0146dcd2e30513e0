"""OpenAI error bodies, the caller's key, and the headers sent upstream."""

from __future__ import annotations

import json

from llmledger.providers.openai import OpenAIAdapter

ADAPTER = OpenAIAdapter()


def test_error_body_is_openais_format() -> None:
    body, content_type = ADAPTER.error_body(400, "invalid_request_error", "bad model")
    assert content_type == "application/json"
    assert json.loads(body) == {
        "error": {
            "message": "bad model",
            "type": "invalid_request_error",
            "param": None,
            "code": None,
        }
    }
    blocked = json.loads(ADAPTER.error_body(429, "budget_exceeded", "over")[0])
    assert blocked["error"]["type"] == blocked["error"]["code"] == "budget_exceeded"


def test_client_key() -> None:
    assert ADAPTER.client_key({"authorization": "Bearer vk-123"}, {}) == "vk-123"
    assert ADAPTER.client_key({"Authorization": "bearer  vk-9 "}, {}) == "vk-9"
    assert ADAPTER.client_key({"Authorization": "Basic abc"}, {}) is None
    assert ADAPTER.client_key({}, {}) is None


def test_upstream_headers_swap_the_key_and_drop_private_headers() -> None:
    incoming = {
        "Authorization": "Bearer vk-123",
        "Host": "gateway:8080",
        "Content-Length": "99",
        "Connection": "keep-alive",
        "Keep-Alive": "timeout=5",
        "Transfer-Encoding": "chunked",
        "Cookie": "session=1",
        "Accept-Encoding": "gzip",
        "X-LLMLedger-Trace": "1",
        "X-Department": "Engineering",
        "X-Project": "qa",
        "X-Agent": "bot",
        "X-End-User": "u1",
        "OpenAI-Organization": "org-caller",
        "Content-Type": "application/json",
        "Accept": "application/json",
        "User-Agent": "OpenAI/Python 1.99",
        "X-Stainless-Retry-Count": "0",
        "OpenAI-Beta": "assistants=v2",
        "Idempotency-Key": "abc",
    }
    assert ADAPTER.upstream_headers(incoming, "sk-real") == {
        "content-type": "application/json",
        "accept": "application/json",
        "user-agent": "OpenAI/Python 1.99",
        "x-stainless-retry-count": "0",
        "openai-beta": "assistants=v2",
        "idempotency-key": "abc",
        "authorization": "Bearer sk-real",
    }
