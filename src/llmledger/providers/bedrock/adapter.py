"""The AWS Bedrock runtime adapter (provider id ``bedrock``)."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

import botocore.session

from llmledger.providers.base import Metered, RequestInfo, StreamMeter
from llmledger.providers.bedrock.errors import error_body, error_headers
from llmledger.providers.bedrock.headers import header, pass_through
from llmledger.providers.bedrock.request import read_request
from llmledger.providers.bedrock.signing import default_base_url, sign_request
from llmledger.providers.bedrock.stream import BedrockStreamMeter
from llmledger.providers.bedrock.usage import TokenCounts, counts_from_headers
from llmledger.usage import Usage, UsageType

CLIENT_KEY_HEADER = "X-LLMLedger-Key"

#: Returns the gateway's botocore ``Credentials`` (None when none are configured).
CredentialsProvider = Callable[[], Any]


def _default_credentials_provider() -> CredentialsProvider:
    session = botocore.session.get_session()
    return lambda: session.get_credentials()


class BedrockAdapter:
    """Bedrock runtime: Converse, ConverseStream, InvokeModel(WithResponseStream).

    ``credentials_provider`` returns botocore ``Credentials``; by default the standard
    AWS chain (environment, profile, container/instance role) of a botocore session.
    """

    name = "bedrock"
    stripped_query_params: frozenset[str] = frozenset()

    def __init__(
        self, region: str = "us-east-1", credentials_provider: CredentialsProvider | None = None
    ) -> None:
        self.region = region
        self._credentials_provider = credentials_provider

    @property
    def default_base_url(self) -> str:
        return default_base_url(self.region)

    def client_key(self, headers: Mapping[str, str], query: Mapping[str, str]) -> str | None:
        key = header(headers, CLIENT_KEY_HEADER)
        if key:
            return key
        # A Bedrock API key (boto3's AWS_BEARER_TOKEN_BEDROCK) carries the virtual key
        # as a bearer token; a SigV4 Authorization header is never a virtual key.
        auth = header(headers, "authorization") or ""
        scheme, _, token = auth.partition(" ")
        return (token.strip() or None) if scheme.lower() == "bearer" else None

    def upstream_query(self, query: str) -> str:
        return query

    def read_request(
        self, method: str, path: str, headers: Mapping[str, str], body: bytes
    ) -> RequestInfo:
        return read_request(method, path, body)

    def read_response(
        self, info: RequestInfo, status: int, headers: Mapping[str, str], body: bytes
    ) -> Metered:
        counts = TokenCounts()
        try:
            data: Any = json.loads(body) if body else None
        except (UnicodeDecodeError, json.JSONDecodeError):
            data = None
        if isinstance(data, Mapping):
            if info.operation == "CountTokens":
                return Metered(usage=Usage(), model_used=info.attributes["base_model"])
            counts.absorb(data)
        counts.merge_missing(counts_from_headers(headers))
        usage = counts.to_usage()
        estimated = False
        attributes = counts.attributes()
        if not counts.known and info.billable:
            usage = info.input_upper_bound
            estimated = True
            attributes["usage_source"] = "input upper bound (no usage in answer)"
        images = int(info.attributes.get("input_images", "0"))
        if images:
            usage = usage + Usage({UsageType.INPUT_IMAGES: Decimal(images)})
        if "inference_profile" in info.attributes:
            attributes["inference_profile"] = info.attributes["inference_profile"]
        return Metered(
            usage=usage,
            model_used=info.attributes.get("base_model", info.model),
            estimated=estimated,
            attributes=attributes,
        )

    def stream_meter(self, info: RequestInfo, headers: Mapping[str, str]) -> StreamMeter:
        return BedrockStreamMeter(info, counts_from_headers(headers))

    def error_body(self, status: int, error_type: str, message: str) -> tuple[bytes, str]:
        return error_body(status, error_type, message)

    def error_headers(self, status: int, error_type: str) -> dict[str, str]:
        """``x-amzn-ErrorType``: the SDKs read the exception name from it."""
        return error_headers(status, error_type)

    def upstream_headers(
        self, incoming: Mapping[str, str], credential: str | None
    ) -> dict[str, str]:
        """Pass-through headers only: Bedrock is authenticated by `sign`, called last
        with the final URL and body (``credential`` is unused)."""
        return pass_through(incoming)

    def credentials(self) -> Any:
        if self._credentials_provider is None:
            self._credentials_provider = _default_credentials_provider()
        credentials = self._credentials_provider()
        if credentials is None:
            raise RuntimeError("no AWS credentials found for the Bedrock upstream")
        return credentials

    def sign(
        self, method: str, url: str, headers: Mapping[str, str], body: bytes
    ) -> dict[str, str]:
        """`upstream_headers` plus the SigV4 signature of this exact request."""
        return sign_request(method, url, headers, body, self.region, self.credentials())
