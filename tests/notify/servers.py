"""Real receivers on loopback: an SMTP server (aiosmtpd), a webhook server (aiohttp),
a self-signed certificate, and a clock the test moves."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import ipaddress
import socket
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import orjson
from aiohttp import web
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from llmledger.notify.channels import sign


class FakeClock:
    """A clock that only moves when the test says so."""

    def __init__(self, now: dt.datetime) -> None:
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += dt.timedelta(**delta)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@dataclass
class Inbox:
    """What the SMTP server received."""

    messages: list[EmailMessage] = field(default_factory=list)
    envelopes: list[tuple[str, list[str]]] = field(default_factory=list)
    logins: list[str] = field(default_factory=list)
    tls: list[bool] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        msg = email.message_from_bytes(envelope.original_content, policy=email.policy.default)
        assert isinstance(msg, EmailMessage)
        self.messages.append(msg)
        self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        self.tls.append(session.ssl is not None)
        return "250 Message accepted for delivery"

    def subjects(self) -> list[str]:
        return [str(m["Subject"]) for m in self.messages]


@contextmanager
def smtp_server(**kwargs: Any) -> Iterator[tuple[Inbox, int]]:
    """aiosmtpd on 127.0.0.1 with a port from the OS; stopped afterwards."""
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port, **kwargs)
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()


def password_checker(user: str, password: str, inbox: Inbox) -> Any:
    def check(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
        ok = isinstance(data, LoginPassword) and (
            data.login.decode() == user and data.password.decode() == password
        )
        if ok:
            inbox.logins.append(user)
        return AuthResult(success=ok, handled=False)

    return check


def self_signed(tmp: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 and its key, written under `tmp`."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = tmp / "cert.pem", tmp / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


@dataclass
class WebhookReceiver:
    """Records POSTs whose signature verifies; fails the first `fail_first` with 500."""

    secret: bytes
    fail_first: int = 0
    received: list[dict[str, Any]] = field(default_factory=list)
    bad_signatures: int = 0
    calls: int = 0
    url: str = ""

    async def handle(self, request: web.Request) -> web.Response:
        self.calls += 1
        body = await request.read()
        if request.headers.get("X-LLMLedger-Signature") != sign(self.secret, body):
            self.bad_signatures += 1
            return web.Response(status=401, text="bad signature")
        if self.calls <= self.fail_first:
            return web.Response(status=500, text="try again later")
        self.received.append(
            {"body": orjson.loads(body), "delivery": request.headers.get("X-LLMLedger-Delivery")}
        )
        return web.Response(text="ok")


@asynccontextmanager
async def webhook_server(receiver: WebhookReceiver) -> AsyncIterator[WebhookReceiver]:
    app = web.Application()
    app.router.add_post("/hook", receiver.handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    receiver.url = f"http://{host}:{port}/hook"
    try:
        yield receiver
    finally:
        await runner.cleanup()


def parts(msg: EmailMessage) -> tuple[str, str]:
    """(text, html) of a multipart/alternative message."""
    assert msg.get_content_type() == "multipart/alternative"
    text = msg.get_body(("plain",))
    html = msg.get_body(("html",))
    assert text is not None and html is not None
    return str(text.get_content()), str(html.get_content())
