"""A small multipart/form-data reader for images/edits and audio uploads."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from llmledger.providers.json_fields import header

from .errors import invalid


@dataclass(frozen=True, slots=True)
class FormPart:
    name: str
    filename: str | None
    content_type: str | None
    data: bytes

    @property
    def value(self) -> str:
        return self.data.decode("utf-8", errors="replace")


def read_form(headers: Mapping[str, str], body: bytes) -> list[FormPart]:
    """The parts of a multipart body; raises an invalid request error when it is not one."""
    content_type = header(headers, "content-type") or ""
    kind, params = _parse_header(content_type)
    boundary = params.get("boundary", "")
    if kind.lower() != "multipart/form-data" or not boundary:
        raise invalid("This endpoint expects a multipart/form-data body with a boundary.")
    delimiter = b"--" + boundary.encode("latin-1")
    sections = body.split(delimiter)
    if len(sections) < 3 or not sections[-1].startswith(b"--"):
        raise invalid("Malformed multipart/form-data body: the closing boundary is missing.")
    parts: list[FormPart] = []
    for section in sections[1:-1]:
        head, sep, data = section.removeprefix(b"\r\n").partition(b"\r\n\r\n")
        if not sep:
            raise invalid("Malformed multipart/form-data body: a part has no headers.")
        part_headers: dict[str, str] = {}
        for line in head.decode("utf-8", errors="replace").split("\r\n"):
            key, _, value = line.partition(":")
            part_headers[key.strip().lower()] = value.strip()
        _, disposition = _parse_header(part_headers.get("content-disposition", ""))
        if "name" not in disposition:
            raise invalid("Malformed multipart/form-data body: a part has no name.")
        parts.append(
            FormPart(
                name=disposition["name"],
                filename=disposition.get("filename"),
                content_type=part_headers.get("content-type"),
                data=data.removesuffix(b"\r\n"),
            )
        )
    return parts


def fields_of(parts: list[FormPart]) -> dict[str, str]:
    """The text fields (parts without a file name), last value winning."""
    return {p.name: p.value for p in parts if p.filename is None}


def _parse_header(value: str) -> tuple[str, dict[str, str]]:
    main, *rest = _split_params(value)
    params: dict[str, str] = {}
    for item in rest:
        key, _, raw = item.partition("=")
        raw = raw.strip()
        if len(raw) >= 2 and raw[0] == raw[-1] == '"':
            raw = raw[1:-1].replace('\\"', '"')
        params[key.strip().lower()] = raw
    return main.strip(), params


def _split_params(value: str) -> list[str]:
    """Split on semicolons outside quoted strings."""
    out: list[str] = []
    current: list[str] = []
    quoted = False
    for ch in value:
        if ch == '"':
            quoted = not quoted
        if ch == ";" and not quoted:
            out.append("".join(current))
            current = []
        else:
            current.append(ch)
    out.append("".join(current))
    return out
