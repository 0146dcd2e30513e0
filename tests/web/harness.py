"""The real product on loopback for the dashboard tests, and a small HTTP client."""

from __future__ import annotations

import http.cookiejar
import json
import re
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import uvicorn

from llmledger.app import LedgerApp, create_app
from llmledger.settings import Settings

ADMIN_TOKEN = "dashboard-admin-token"


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode()

    def json(self) -> Any:
        return json.loads(self.body)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


@dataclass
class Client:
    """A browser-less client: keeps cookies, never follows redirects."""

    base: str
    jar: http.cookiejar.CookieJar = field(default_factory=http.cookiejar.CookieJar)

    def request(
        self,
        method: str,
        path: str,
        data: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
    ) -> Reply:
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        req = urllib.request.Request(
            self.base + path, data=body, method=method, headers=headers or {}
        )
        if body is not None:
            req.add_header("content-type", "application/x-www-form-urlencoded")
        opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(self.jar), _NoRedirect()
        )
        try:
            with opener.open(req, timeout=30) as resp:
                return Reply(resp.status, dict(resp.headers.items()), resp.read())
        except urllib.error.HTTPError as err:
            with err:
                return Reply(err.code, dict(err.headers.items()), err.read())

    def get(self, path: str, **headers: str) -> Reply:
        return self.request("GET", path, headers=headers)

    def post(self, path: str, data: dict[str, str], **headers: str) -> Reply:
        return self.request("POST", path, data=data, headers=headers)

    def csrf(self, path: str = "/login") -> str:
        match = re.search(r'name="csrf_token" value="([^"]+)"', self.get(path).text)
        assert match, f"no CSRF token on {path}"
        return match.group(1)

    def sign_in(self, email: str, password: str) -> Reply:
        token = self.csrf("/login")
        return self.post(
            "/login", {"email": email, "password": password, "csrf_token": token, "next": "/"}
        )


@dataclass
class Running:
    url: str
    app: LedgerApp

    def client(self) -> Client:
        return Client(self.url)

    def api(self, path: str) -> Reply:
        return self.client().get(path, authorization=f"Bearer {ADMIN_TOKEN}")


def settings_for(db_url: str) -> Settings:
    """The pages' server over a store of 400 days. The anomaly detectors' background run is
    off: its first run over such a store is tens of seconds of CPU in every server started
    here, and a stop waits for it; the runner has its own tests (tests/anomalies)."""
    return Settings(
        store={"url": db_url},
        admin_token=ADMIN_TOKEN,
        organisation={
            "name": "Acme Health",
            "timezone": "America/New_York",
            "annual_budget_usd": "80000",
            "monthly_budget_usd": "15000",
        },
        anomalies={"enabled": False},
    )


@contextmanager
def serve(settings: Settings) -> Iterator[Running]:
    app = create_app(settings)
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=0,
        lifespan="on",
        log_level="warning",
        loop="asyncio",
        http="h11",
        access_log=False,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="dashboard", daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the server did not start")
        time.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield Running(f"http://127.0.0.1:{port}", app)
    finally:
        server.should_exit = True
        thread.join(30)
