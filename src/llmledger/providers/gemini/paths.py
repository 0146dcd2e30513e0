"""Gemini API paths: ``/gemini/v1beta/models/gemini-2.5-flash:generateContent``."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import unquote

from llmledger.providers.base import RequestError

#: Methods that generate (billable) and whether they stream.
GENERATE_METHODS = {"generateContent": False, "streamGenerateContent": True}
EMBED_METHODS = frozenset({"embedContent", "batchEmbedContents"})
FREE_METHODS = frozenset({"countTokens", "countMessageTokens", "countTextTokens"})
_VERSIONS = frozenset({"v1", "v1beta", "v1alpha"})


@dataclass(frozen=True, slots=True)
class GeminiPath:
    version: str
    resource: str
    """What the path names: ``models/gemini-2.5-flash``, ``models``, ``cachedContents``."""
    method: str
    """The custom method after ``:`` (``generateContent``), or ``""`` for plain REST."""

    @property
    def model(self) -> str:
        """The model id as the provider names it (``gemini-2.5-flash``), or ``""``."""
        for prefix in ("models/", "tunedModels/"):
            if self.resource.startswith(prefix):
                return self.resource[len(prefix) :].split("/", 1)[0]
        return ""

    @property
    def operation(self) -> str:
        if self.method:
            return self.method
        return self.resource.split("/", 1)[0] or "unknown"


def parse_path(path: str) -> GeminiPath:
    """Accepts the path with or without the gateway's ``/gemini`` prefix and query."""
    path = path.split("?", 1)[0]
    parts = [p for p in path.split("/") if p]
    if parts and parts[0] == "gemini":
        parts = parts[1:]
    if not parts or parts[0] not in _VERSIONS:
        raise RequestError(
            404, "not_found", f"unknown Gemini API path {path!r}: expected /v1beta/... or /v1/..."
        )
    version, rest = parts[0], unquote("/".join(parts[1:]))
    if ":" in rest.rsplit("/", 1)[-1]:
        resource, _, method = rest.rpartition(":")
    else:
        resource, method = rest, ""
    return GeminiPath(version=version, resource=resource, method=method)
