"""An enforced decision applied to the request: the model named in its body or path.

OpenAI and Anthropic name the model in the JSON body; Gemini (``models/M:method``) and
Bedrock (``/model/M/action``) name it in the path, which is rewritten instead so the
body's bytes (and a Bedrock signature over them) stay the caller's.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote

import orjson


@dataclass(frozen=True, slots=True)
class RoutedRequest:
    body: bytes
    subpath: str
    wire_subpath: str


def rewrite(
    provider: str,
    parsed: dict[str, object],
    body: bytes,
    subpath: str,
    wire_subpath: str,
    from_model: str,
    to_model: str,
) -> RoutedRequest | None:
    """The request sent to `to_model`, or None when the model cannot be found to replace."""
    if provider in ("openai", "anthropic"):
        if parsed.get("model") != from_model:
            return None
        return RoutedRequest(orjson.dumps(parsed | {"model": to_model}), subpath, wire_subpath)
    if provider == "google":
        old, new = f"models/{from_model}:", f"models/{to_model}:"
        if old not in subpath:
            return None
        wire = wire_subpath.replace(old, new) if old in wire_subpath else subpath.replace(old, new)
        return RoutedRequest(body, subpath.replace(old, new), wire)
    if provider == "bedrock":
        head, _, rest = subpath.strip("/").partition("/")
        model, _, action = rest.rpartition("/")
        if head != "model" or model != from_model:
            return None
        path = f"/model/{quote(to_model, safe='')}/{action}"
        return RoutedRequest(body, f"/model/{to_model}/{action}", path)
    return None
