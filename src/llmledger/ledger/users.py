"""Dashboard users: argon2 password hashes, roles, an optional scope, lockout."""

from __future__ import annotations

import re
import secrets
import time
from dataclasses import dataclass
from enum import StrEnum

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Connection, select, update

from llmledger.ledger import schema

MAX_FAILURES = 5
LOCK_SECONDS = 15 * 60
_EMAIL = re.compile(r"^[^@\s]{1,100}@[^@\s]{1,200}$")


class Role(StrEnum):
    ADMIN = "admin"
    FINANCE = "finance"
    OWNER = "owner"
    VIEWER = "viewer"


class UserError(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class User:
    id: str
    email: str
    role: Role
    scope: str
    """For owners: ``department:D`` or ``project:D/P``; empty for everyone else."""

    def as_json(self) -> dict[str, str]:
        return {"id": self.id, "email": self.email, "role": self.role.value, "scope": self.scope}


def _user(row: object) -> User:
    m = row._mapping  # type: ignore[attr-defined]
    return User(m["id"], m["email"], Role(m["role"]), m["scope"])


def create_user(
    conn: Connection,
    email: str,
    password: str,
    role: Role,
    scope: str = "",
    hasher: PasswordHasher | None = None,
) -> User:
    email = email.strip().lower()
    if not _EMAIL.match(email):
        raise UserError(f"not an email address: {email!r}")
    if len(password) < 8:
        raise UserError("a password needs at least 8 characters")
    if role is Role.OWNER and not scope:
        raise UserError("an owner needs a scope (department:D or project:D/P)")
    if role is not Role.OWNER and scope:
        raise UserError("only owners have a scope")
    exists = conn.execute(select(schema.users.c.id).where(schema.users.c.email == email)).first()
    if exists:
        raise UserError(f"a user {email} already exists")
    user_id = "usr_" + secrets.token_hex(6)
    conn.execute(
        schema.users.insert().values(
            id=user_id,
            email=email,
            password_hash=(hasher or PasswordHasher()).hash(password),
            role=role.value,
            scope=scope,
            created_us=time.time_ns() // 1000,
        )
    )
    return User(user_id, email, role, scope)


def get_user(conn: Connection, user_id: str) -> User | None:
    row = conn.execute(
        select(schema.users).where(schema.users.c.id == user_id, ~schema.users.c.disabled)
    ).first()
    return _user(row) if row else None


def list_users(conn: Connection) -> list[User]:
    return [_user(r) for r in conn.execute(select(schema.users).order_by(schema.users.c.email))]


def disable_user(conn: Connection, email: str) -> User | None:
    """Disable an active user (their sessions end at once); None if there is none."""
    u = schema.users
    row = conn.execute(select(u).where(u.c.email == email.strip().lower(), ~u.c.disabled)).first()
    if row is None:
        return None
    conn.execute(update(u).where(u.c.id == row._mapping["id"]).values(disabled=True))
    return _user(row)


def authenticate(
    conn: Connection, email: str, password: str, hasher: PasswordHasher | None = None
) -> User | None:
    """The user if the password is right and the account not locked; counts failures."""
    u = schema.users
    row = conn.execute(select(u).where(u.c.email == email.strip().lower())).first()
    if row is None:
        (hasher or PasswordHasher()).hash(password)  # same time as a real check
        return None
    m = row._mapping
    now_us = time.time_ns() // 1000
    if m["disabled"] or (m["locked_until_us"] and m["locked_until_us"] > now_us):
        return None
    try:
        (hasher or PasswordHasher()).verify(m["password_hash"], password)
    except (VerificationError, InvalidHashError):
        failures = m["failed_logins"] + 1
        values: dict[str, object] = {"failed_logins": failures}
        if failures >= MAX_FAILURES:
            values = {"failed_logins": 0, "locked_until_us": now_us + LOCK_SECONDS * 1_000_000}
        conn.execute(update(u).where(u.c.id == m["id"]).values(**values))
        return None
    conn.execute(update(u).where(u.c.id == m["id"]).values(failed_logins=0, locked_until_us=None))
    return _user(row)
