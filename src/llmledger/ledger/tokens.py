"""Admin API tokens: a role and (for owners) a scope, like a dashboard user, for automation.

A token looks like ``lla_`` followed by 40 URL-safe characters. Like virtual keys it is
random enough that a fast hash (SHA-256) is the right one; only the hash and a short
prefix are stored, and the secret is shown once. A revoked token is refused at once (the
admin API reads the token on every call; it is not on the gateway's hot path).
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass

from sqlalchemy import Connection, select, update

from llmledger.ledger import schema
from llmledger.ledger.keys import hash_key
from llmledger.ledger.users import Role

TOKEN_PREFIX = "lla_"
_SHOWN_PREFIX_LEN = 12


class TokenError(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class ApiToken:
    id: str
    prefix: str
    role: Role
    scope: str
    """For owners: ``department:D`` or ``project:D/P``; empty for every other role."""
    name: str
    created_us: int
    revoked_us: int | None

    @property
    def actor(self) -> str:
        """As written in the audit log."""
        return f"token:{self.id}"

    def as_json(self) -> dict[str, object]:
        return {
            "id": self.id,
            "prefix": self.prefix,
            "role": self.role.value,
            "scope": self.scope,
            "name": self.name,
            "created_us": self.created_us,
            "revoked": self.revoked_us is not None,
        }


def _row(row: object) -> ApiToken:
    m = row._mapping  # type: ignore[attr-defined]
    return ApiToken(
        m["id"],
        m["prefix"],
        Role(m["role"]),
        m["scope"],
        m["name"],
        m["created_us"],
        m["revoked_us"],
    )


def create_token(
    conn: Connection, role: Role, scope: str = "", name: str = ""
) -> tuple[ApiToken, str]:
    """Issue a token; returns it and its secret (shown once, never stored).

    ``scope`` is already checked by the caller (``parse_scope``).
    """
    if (role is Role.OWNER) != bool(scope):
        raise TokenError(
            "an owner token needs a scope (department:D or project:D/P); other roles have none"
        )
    if len(name) > 200:
        raise TokenError("a token name has at most 200 characters")
    secret = TOKEN_PREFIX + secrets.token_urlsafe(30)
    token = ApiToken(
        id="tok_" + secrets.token_hex(6),
        prefix=secret[:_SHOWN_PREFIX_LEN],
        role=role,
        scope=scope,
        name=name,
        created_us=time.time_ns() // 1000,
        revoked_us=None,
    )
    conn.execute(
        schema.api_tokens.insert().values(
            id=token.id,
            prefix=token.prefix,
            hash=hash_key(secret),
            role=role.value,
            scope=scope,
            name=name,
            created_us=token.created_us,
        )
    )
    return token, secret


def find_active(conn: Connection, secret: str) -> ApiToken | None:
    """The token with this secret, unless it is unknown or revoked."""
    if not secret.startswith(TOKEN_PREFIX) or len(secret) > 200:
        return None
    t = schema.api_tokens
    row = conn.execute(
        select(t).where(t.c.hash == hash_key(secret), t.c.revoked_us.is_(None))
    ).first()
    return _row(row) if row else None


def get_token(conn: Connection, token_id: str) -> ApiToken | None:
    row = conn.execute(select(schema.api_tokens).where(schema.api_tokens.c.id == token_id)).first()
    return _row(row) if row else None


def list_tokens(conn: Connection) -> list[ApiToken]:
    t = schema.api_tokens
    return [_row(r) for r in conn.execute(select(t).order_by(t.c.created_us, t.c.id))]


def revoke_token(conn: Connection, token_id: str) -> bool:
    t = schema.api_tokens
    result = conn.execute(
        update(t)
        .where(t.c.id == token_id, t.c.revoked_us.is_(None))
        .values(revoked_us=time.time_ns() // 1000)
    )
    return bool(result.rowcount)
