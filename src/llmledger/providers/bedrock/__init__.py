"""AWS Bedrock runtime adapter (provider id ``bedrock``)."""

from __future__ import annotations

from llmledger.providers.bedrock.adapter import CLIENT_KEY_HEADER, BedrockAdapter
from llmledger.providers.bedrock.signing import sign_request

__all__ = ["CLIENT_KEY_HEADER", "BedrockAdapter", "sign_request"]
