"""Splitting Gemini's JSON-array stream (``streamGenerateContent`` without ``alt=sse``).

The answer is one JSON array, ``[{...}\\r\\n,{...}\\r\\n]``, sent element by element.
`JsonArraySplitter` returns each top-level element's bytes as soon as its closing brace
arrives, whatever the chunking. It scans bytes: UTF-8 continuation bytes never equal
the ASCII brackets, quotes or backslashes it looks for.
"""

from __future__ import annotations

_OPEN = frozenset(b"{[")
_CLOSE = frozenset(b"}]")
_QUOTE = 0x22
_BACKSLASH = 0x5C


class JsonArraySplitter:
    __slots__ = ("_depth", "_in_string", "_escape", "_element", "_done")

    def __init__(self) -> None:
        self._depth = 0
        """0 outside the array, 1 between elements, 2+ inside one."""
        self._in_string = False
        self._escape = False
        self._element = bytearray()
        self._done = False

    @property
    def in_element(self) -> bool:
        """True when the stream stopped inside an element (a cut-off answer)."""
        return bool(self._element)

    @property
    def done(self) -> bool:
        """True once the closing bracket of the array was seen."""
        return self._done

    def feed(self, chunk: bytes) -> list[bytes]:
        elements: list[bytes] = []
        start = 0 if self._depth >= 2 else -1
        for i, byte in enumerate(chunk):
            if self._in_string:
                if self._escape:
                    self._escape = False
                elif byte == _BACKSLASH:
                    self._escape = True
                elif byte == _QUOTE:
                    self._in_string = False
                continue
            if byte == _QUOTE:
                self._in_string = True
            elif byte in _OPEN:
                self._depth += 1
                if self._depth == 2:
                    start = i
            elif byte in _CLOSE:
                self._depth -= 1
                if self._depth == 1 and start >= 0:
                    self._element += chunk[start : i + 1]
                    elements.append(bytes(self._element))
                    self._element.clear()
                    start = -1
                elif self._depth == 0:
                    self._done = True
        if start >= 0:
            self._element += chunk[start:]
        return elements
