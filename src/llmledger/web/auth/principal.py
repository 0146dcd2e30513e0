"""Who is asking, and what they may see and change."""

from __future__ import annotations

from dataclasses import dataclass

from llmledger.guardrails.scopes import Scope, ScopeError, parse_scope
from llmledger.ledger.users import Role

#: Roles that may change budget caps.
CAP_CHANGERS = frozenset({Role.ADMIN, Role.FINANCE, Role.OWNER})


@dataclass(frozen=True, slots=True)
class Principal:
    actor: str
    """As written in the audit log: ``admin-token`` or ``user:<email>``."""
    role: Role
    scope: str = ""
    csrf: str = ""
    """The session's CSRF token; empty for the Bearer admin token (no cookie, no CSRF)."""
    email: str = ""

    @property
    def is_session(self) -> bool:
        return bool(self.csrf)

    @property
    def sees_organisation(self) -> bool:
        """Owners see their scope only; everyone else sees the whole organisation."""
        return self.role is not Role.OWNER

    def filters(self) -> dict[str, str]:
        """Attribution filters that every figure shown to this principal is held to."""
        if self.role is not Role.OWNER:
            return {}
        try:
            return parse_scope(self.scope).filters()
        except ScopeError:
            return {"department": "\x00no-scope"}

    def covers(self, scope: Scope) -> bool:
        """Whether a budget scope lies inside what this principal may act on."""
        if self.role is not Role.OWNER:
            return True
        mine = self.filters()
        theirs = scope.filters()
        return all(theirs.get(k) == v for k, v in mine.items())

    def may_change_caps(self) -> bool:
        return self.role in CAP_CHANGERS


TOKEN_ADMIN = Principal(actor="admin-token", role=Role.ADMIN)
