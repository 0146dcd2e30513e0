"""Budget scopes: ``org``, ``department:D``, ``project:D/P``, ``agent:D/P/A``, ``key:ID``,
``end_user:U``, and the rollup filters each one means."""

from __future__ import annotations

import re
from dataclasses import dataclass

_NAME = re.compile(r"^[\w .:@+-]{1,200}$")
KINDS = ("org", "department", "project", "agent", "key", "end_user")


class ScopeError(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class Scope:
    kind: str
    parts: tuple[str, ...]

    @property
    def text(self) -> str:
        return "org" if self.kind == "org" else f"{self.kind}:{'/'.join(self.parts)}"

    def filters(self) -> dict[str, str]:
        """Rollup column filters selecting this scope's spend."""
        if self.kind == "org":
            return {}
        if self.kind == "key":
            return {"key_id": self.parts[0]}
        if self.kind == "end_user":
            return {"end_user": self.parts[0]}
        names = ("department", "project", "agent")
        return dict(zip(names, self.parts, strict=False))

    @property
    def department(self) -> str | None:
        return self.parts[0] if self.kind in ("department", "project", "agent") else None


def parse_scope(text: str) -> Scope:
    text = text.strip()
    if text in ("org", "organisation", "organization"):
        return Scope("org", ())
    kind, sep, rest = text.partition(":")
    if not sep or kind not in KINDS:
        raise ScopeError(
            f"bad scope {text!r}: use org, department:D, project:D/P, agent:D/P/A, key:ID"
        )
    parts = tuple(rest.split("/")) if kind in ("project", "agent") else (rest,)
    expected = {"department": 1, "project": 2, "agent": 3, "key": 1, "end_user": 1}[kind]
    if len(parts) != expected or not all(_NAME.match(p) for p in parts):
        raise ScopeError(f"bad scope {text!r}: {kind} takes {expected} name(s) separated by /")
    return Scope(kind, parts)
