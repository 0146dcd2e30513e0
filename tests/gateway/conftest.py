from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from llmledger.settings import Settings
from tests.fakes.anthropic_fake import FakeAnthropic, fake_anthropic  # noqa: F401
from tests.fakes.bedrock_fake import FakeBedrock, fake_bedrock  # noqa: F401
from tests.fakes.gemini_fake import FakeGemini, fake_gemini  # noqa: F401
from tests.fakes.openai_fake import FakeOpenAI, fake_openai  # noqa: F401
from tests.gateway.harness import ADMIN_TOKEN, RunningGateway, serve


def gateway_settings(tmp_path: Path, **providers: dict[str, object]) -> Settings:
    return Settings(
        store={"url": f"sqlite:///{tmp_path / 'ledger.db'}"},
        organisation={"timezone": "America/New_York"},
        providers=providers,
        admin_token=ADMIN_TOKEN,
    )


@pytest.fixture
def gateway(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    fake_openai: FakeOpenAI,  # noqa: F811
    fake_anthropic: FakeAnthropic,  # noqa: F811
) -> Iterator[RunningGateway]:
    monkeypatch.setenv("TEST_OPENAI_KEY", fake_openai.api_key)
    monkeypatch.setenv("TEST_ANTHROPIC_KEY", fake_anthropic.api_key)
    settings = gateway_settings(
        tmp_path,
        openai={
            "base_url": fake_openai.url,
            "api_key_env": "TEST_OPENAI_KEY",
            "first_byte_timeout_s": "2",
            "total_timeout_s": "5",
        },
        anthropic={
            "base_url": fake_anthropic.url,
            "api_key_env": "TEST_ANTHROPIC_KEY",
            "first_byte_timeout_s": "2",
            "total_timeout_s": "5",
        },
    )
    with serve(settings) as running:
        yield running


@pytest.fixture
def gemini_gateway(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    fake_gemini: FakeGemini,  # noqa: F811
) -> Iterator[RunningGateway]:
    monkeypatch.setenv("TEST_GEMINI_KEY", fake_gemini.api_key)
    settings = gateway_settings(
        tmp_path,
        gemini={
            "base_url": fake_gemini.url,
            "api_key_env": "TEST_GEMINI_KEY",
            "first_byte_timeout_s": "2",
            "total_timeout_s": "5",
        },
    )
    with serve(settings) as running:
        yield running


@pytest.fixture
def bedrock_gateway(
    tmp_path: Path,
    fake_bedrock: FakeBedrock,  # noqa: F811
) -> Iterator[RunningGateway]:
    """The gateway signs Bedrock calls with the fake's credentials (never the caller's)."""
    settings = gateway_settings(
        tmp_path,
        bedrock={
            "base_url": fake_bedrock.url,
            "region": fake_bedrock.region,
            "first_byte_timeout_s": "2",
            "total_timeout_s": "5",
        },
    )
    with serve(settings, bedrock_credentials=lambda: fake_bedrock.credentials) as running:
        yield running
