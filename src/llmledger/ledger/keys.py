"""Virtual keys: issued once, stored as a SHA-256 hash, recognisable by their prefix.

A key looks like ``llk_`` followed by 40 URL-safe characters. Keys are random enough that
a fast hash is the right one (unlike passwords): the gateway looks a key up by its hash
on every call.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from dataclasses import dataclass
from fnmatch import fnmatchcase

from sqlalchemy import Connection, select, update

from llmledger.ledger import schema

KEY_PREFIX = "llk_"
_SHOWN_PREFIX_LEN = 12
MAX_RATE_LIMIT = 10**12


@dataclass(frozen=True, slots=True)
class VirtualKey:
    id: str
    prefix: str
    name: str
    department: str
    project: str
    agent: str
    allowed_models: tuple[str, ...]
    allow_attribution_headers: bool
    created_us: int
    expires_us: int | None
    revoked_us: int | None
    rpm_limit: int | None = None
    """Requests per minute this key may make (per gateway replica); None: no limit."""
    tpm_limit: int | None = None
    """Tokens (input + output) per minute (per gateway replica); None: no limit."""

    def allows_model(self, model: str) -> bool:
        if not self.allowed_models or not model:
            return True
        return any(fnmatchcase(model, pattern) for pattern in self.allowed_models)

    def usable_at(self, now_us: int) -> str | None:
        """None when usable, else why not."""
        if self.revoked_us is not None and self.revoked_us <= now_us:
            return "this key has been revoked"
        if self.expires_us is not None and self.expires_us <= now_us:
            return "this key has expired"
        return None

    def as_json(self) -> dict[str, object]:
        return {
            "id": self.id,
            "prefix": self.prefix,
            "name": self.name,
            "department": self.department,
            "project": self.project,
            "agent": self.agent,
            "allowed_models": list(self.allowed_models),
            "allow_attribution_headers": self.allow_attribution_headers,
            "revoked": self.revoked_us is not None,
            "expires_us": self.expires_us,
            "rpm_limit": self.rpm_limit,
            "tpm_limit": self.tpm_limit,
        }


def hash_key(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()


def new_secret() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(30)


def _row_to_key(row: object) -> VirtualKey:
    r = row._mapping  # type: ignore[attr-defined]
    models = tuple(m for m in r["allowed_models"].split(",") if m)
    return VirtualKey(
        id=r["id"],
        prefix=r["prefix"],
        name=r["name"],
        department=r["department"],
        project=r["project"],
        agent=r["agent"],
        allowed_models=models,
        allow_attribution_headers=bool(r["allow_attribution_headers"]),
        created_us=r["created_us"],
        expires_us=r["expires_us"],
        revoked_us=r["revoked_us"],
        rpm_limit=r["rpm_limit"],
        tpm_limit=r["tpm_limit"],
    )


def create_key(
    conn: Connection,
    *,
    department: str,
    project: str = "",
    agent: str = "",
    name: str = "",
    allowed_models: tuple[str, ...] = (),
    allow_attribution_headers: bool = False,
    expires_us: int | None = None,
    secret: str | None = None,
    rpm_limit: int | None = None,
    tpm_limit: int | None = None,
) -> tuple[VirtualKey, str]:
    """Issue a key; returns it and its secret (shown once, never stored)."""
    if not department:
        raise ValueError("a key needs a department")
    for label, limit in (("requests per minute", rpm_limit), ("tokens per minute", tpm_limit)):
        if limit is not None and not 1 <= limit <= MAX_RATE_LIMIT:
            raise ValueError(f"{label}: between 1 and {MAX_RATE_LIMIT}")
    if agent and not project:
        raise ValueError("a key for an agent needs its project")
    secret = secret or new_secret()
    key_id = "key_" + secrets.token_hex(6)
    now_us = time.time_ns() // 1000
    conn.execute(
        schema.virtual_keys.insert().values(
            id=key_id,
            prefix=secret[:_SHOWN_PREFIX_LEN],
            secret_hash=hash_key(secret),
            name=name or agent or project or department,
            department=department,
            project=project,
            agent=agent,
            allowed_models=",".join(allowed_models),
            allow_attribution_headers=allow_attribution_headers,
            created_us=now_us,
            expires_us=expires_us,
            rpm_limit=rpm_limit,
            tpm_limit=tpm_limit,
        )
    )
    key = find_by_id(conn, key_id)
    assert key is not None
    return key, secret


def find_by_secret(conn: Connection, secret: str) -> VirtualKey | None:
    return find_by_hash(conn, hash_key(secret))


def find_by_hash(conn: Connection, digest: str) -> VirtualKey | None:
    row = conn.execute(
        select(schema.virtual_keys).where(schema.virtual_keys.c.secret_hash == digest)
    ).first()
    return _row_to_key(row) if row else None


def find_by_id(conn: Connection, key_id: str) -> VirtualKey | None:
    row = conn.execute(
        select(schema.virtual_keys).where(schema.virtual_keys.c.id == key_id)
    ).first()
    return _row_to_key(row) if row else None


def list_keys(conn: Connection) -> list[VirtualKey]:
    rows = conn.execute(select(schema.virtual_keys).order_by(schema.virtual_keys.c.created_us))
    return [_row_to_key(r) for r in rows]


def revoke_key(conn: Connection, key_id: str) -> bool:
    result = conn.execute(
        update(schema.virtual_keys)
        .where(schema.virtual_keys.c.id == key_id, schema.virtual_keys.c.revoked_us.is_(None))
        .values(revoked_us=time.time_ns() // 1000)
    )
    return bool(result.rowcount)
