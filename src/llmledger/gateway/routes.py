"""One provider as the gateway sees it: its adapter, upstream URL and credential."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from llmledger.providers.base import ProviderAdapter

#: Path prefix on the gateway -> the part of the path kept when forwarding upstream.
#: ``/openai/v1/chat/completions`` goes to ``{openai base_url}/chat/completions`` (the
#: OpenAI base URL includes ``/v1``); the others keep their version segment.
PREFIXES = {
    "openai": "/openai/v1",
    "anthropic": "/anthropic",
    "google": "/gemini",
    "bedrock": "/bedrock",
}


@dataclass(slots=True)
class ProviderRoute:
    provider: str
    adapter: ProviderAdapter
    base_url: str
    credential: str | None
    session: aiohttp.ClientSession | None = None
    timeout: aiohttp.ClientTimeout = field(default_factory=aiohttp.ClientTimeout)

    @property
    def prefix(self) -> str:
        return PREFIXES[self.provider]

    def upstream_url(self, subpath: str, query: str) -> str:
        stripper = getattr(self.adapter, "upstream_query", None)
        kept = stripper(query) if stripper is not None and query else query
        url = self.base_url.rstrip("/") + subpath
        return f"{url}?{kept}" if kept else url

    def headers_for(
        self, method: str, url: str, incoming: Mapping[str, str], body: bytes
    ) -> dict[str, str]:
        sign = getattr(self.adapter, "sign", None)
        headers = self.adapter.upstream_headers(incoming, self.credential)
        headers["accept-encoding"] = "identity"  # the meter reads plain bytes
        if sign is not None:
            signed: dict[str, str] = sign(method, url, headers, body)
            return signed
        return headers

    def error(self, status: int, error_type: str, message: str) -> tuple[bytes, dict[str, str]]:
        body, content_type = self.adapter.error_body(status, error_type, message)
        headers = {"content-type": content_type}
        extra = getattr(self.adapter, "error_headers", None)
        if extra is not None:
            more: dict[str, Any] = extra(status, error_type)
            headers.update({k.lower(): str(v) for k, v in more.items()})
        return body, headers
