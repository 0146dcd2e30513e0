"""Signed session cookies (itsdangerous): who is signed in, and their CSRF token.

The cookie holds only a user id and a random CSRF token, signed and time-stamped with
the server's session secret; the user is read again from the store on every request, so
a disabled user is out at once. Cookies are HttpOnly and SameSite=Lax, and Secure when
the dashboard is reached over TLS.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass

from itsdangerous import BadSignature, URLSafeTimedSerializer
from starlette.requests import Request
from starlette.responses import Response

COOKIE = "llmledger_session"
MAX_AGE_S = 12 * 3600
_SALT = "llmledger.session.v1"


@dataclass(frozen=True, slots=True)
class Session:
    user_id: str
    """Empty before sign-in: the session then only carries the sign-in form's CSRF token."""
    csrf: str

    @classmethod
    def anonymous(cls) -> Session:
        return cls("", secrets.token_urlsafe(24))

    @classmethod
    def signed_in(cls, user_id: str) -> Session:
        return cls(user_id, secrets.token_urlsafe(24))


class SessionCodec:
    """Signs and reads session cookies with one secret."""

    def __init__(self, secret: str, *, secure: bool = False) -> None:
        self._serializer = URLSafeTimedSerializer(secret, salt=_SALT)
        self.always_secure = secure

    @classmethod
    def from_env(cls, env_name: str | None, *, secure: bool = False) -> SessionCodec:
        value = os.environ.get(env_name, "") if env_name else ""
        return cls(value or secrets.token_urlsafe(32), secure=secure)

    def read(self, request: Request) -> Session | None:
        raw = request.cookies.get(COOKIE)
        if not raw or len(raw) > 4096:
            return None
        try:
            data = self._serializer.loads(raw, max_age=MAX_AGE_S)
        except BadSignature:
            return None
        if not isinstance(data, list) or len(data) != 2:
            return None
        if not all(isinstance(v, str) for v in data):
            return None
        return Session(data[0], data[1])

    def write(self, response: Response, request: Request, session: Session) -> None:
        response.set_cookie(
            COOKIE,
            self._serializer.dumps([session.user_id, session.csrf]),
            max_age=MAX_AGE_S,
            httponly=True,
            samesite="lax",
            secure=self.always_secure or request.url.scheme == "https",
            path="/",
        )

    def clear(self, response: Response, request: Request) -> None:
        response.delete_cookie(
            COOKIE,
            path="/",
            httponly=True,
            samesite="lax",
            secure=self.always_secure or request.url.scheme == "https",
        )
