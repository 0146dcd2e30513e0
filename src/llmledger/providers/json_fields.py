"""Reading JSON bodies defensively: the helpers every adapter shares."""

from __future__ import annotations

from collections.abc import Mapping

import orjson

JSONObject = dict[str, object]


def loads_object(body: bytes | str) -> JSONObject | None:
    """The JSON object in `body`, or None when it is not valid JSON or not an object."""
    try:
        value = orjson.loads(body)
    except orjson.JSONDecodeError:
        return None
    return value if isinstance(value, dict) else None


def obj(value: object) -> JSONObject:
    return value if isinstance(value, dict) else {}


def items(value: object) -> list[object]:
    return value if isinstance(value, list) else []


def integer(value: object) -> int:
    """A non-negative whole number, or 0."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return 0
    return max(int(value), 0)


def text(value: object) -> str:
    return value if isinstance(value, str) else ""


def header(headers: Mapping[str, str], name: str) -> str | None:
    """A header by name, whatever the case of the mapping's keys."""
    value = headers.get(name)
    if value is not None:
        return value
    lowered = name.lower()
    for key, candidate in headers.items():
        if key.lower() == lowered:
            return candidate
    return None
