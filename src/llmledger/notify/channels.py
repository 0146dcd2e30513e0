"""The channels: email over SMTP, signed JSON webhooks, Slack incoming webhooks.

A channel delivers one outbox entry or raises `DeliveryError`; it knows nothing of what
the message means. Secrets (SMTP password, webhook URLs and signing keys) are read from
the environment at send time and never stored in the outbox.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import ssl
from collections.abc import Mapping
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Protocol

import aiohttp
import aiosmtplib

from llmledger.notify.outbox import OutboxEntry
from llmledger.settings import NotifySettings, SlackSettings, SmtpSettings, WebhookSettings

SIGNATURE_HEADER = "X-LLMLedger-Signature"
DELIVERY_HEADER = "X-LLMLedger-Delivery"
USER_AGENT = "llmledger-notify/1"


class DeliveryError(RuntimeError):
    """A message that could not be delivered this time (the dispatcher retries it)."""


class Channel(Protocol):
    async def deliver(self, entry: OutboxEntry) -> None: ...


def sign(secret: bytes, body: bytes) -> str:
    """The value of ``X-LLMLedger-Signature`` for `body`: ``sha256=<hex HMAC>``."""
    return "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()


def _env(name: str, what: str) -> str:
    value = os.environ.get(name, "")
    if not value:
        raise DeliveryError(f"{what}: environment variable {name} is not set")
    return value


def build_email(entry: OutboxEntry, sender: str) -> EmailMessage:
    """The MIME message of an email entry: text, with an HTML alternative when given."""
    payload = entry.payload
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = ", ".join(payload["to"])
    msg["Subject"] = entry.subject
    msg["Date"] = formatdate(localtime=False)
    msg["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2] or "llmledger")
    msg["X-LLMLedger-Key"] = entry.dedupe_key
    msg.set_content(payload["text"], subtype="plain", charset="utf-8")
    html = payload.get("html")
    if html:
        msg.add_alternative(html, subtype="html", charset="utf-8")
    return msg


class EmailChannel:
    """Email over SMTP (aiosmtplib), with STARTTLS or implicit TLS and optional AUTH."""

    def __init__(self, settings: SmtpSettings) -> None:
        self.settings = settings

    def _tls_context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=self.settings.ca_file)

    async def deliver(self, entry: OutboxEntry) -> None:
        s = self.settings
        message = build_email(entry, s.from_)
        creds = s.credentials()
        if (s.username_env or s.password_env) and creds is None:
            raise DeliveryError(
                f"SMTP: credentials are configured but {s.username_env} / {s.password_env} "
                "are not both set"
            )
        try:
            await aiosmtplib.send(
                message,
                hostname=s.host,
                port=s.port,
                use_tls=s.use_tls,
                start_tls=s.starttls and not s.use_tls,
                tls_context=self._tls_context() if s.starttls or s.use_tls else None,
                username=creds[0] if creds else None,
                password=creds[1].get_secret_value() if creds else None,
                timeout=s.timeout_s,
            )
        except (aiosmtplib.SMTPException, OSError) as exc:
            raise DeliveryError(f"SMTP {s.host}:{s.port}: {exc}") from exc


async def _post(
    session: aiohttp.ClientSession,
    url: str,
    body: bytes,
    headers: Mapping[str, str],
    timeout_s: int,
) -> None:
    try:
        async with session.post(
            url, data=body, headers=dict(headers), timeout=aiohttp.ClientTimeout(total=timeout_s)
        ) as response:
            if response.status >= 300:
                text = (await response.text())[:200]
                raise DeliveryError(f"HTTP {response.status} from the receiver: {text}")
    except (aiohttp.ClientError, TimeoutError) as exc:
        raise DeliveryError(f"POST failed: {type(exc).__name__}: {exc}") from exc


class WebhookChannel:
    """A JSON POST, signed with HMAC-SHA256 over the exact body when a secret is set."""

    def __init__(self, settings: WebhookSettings, session: aiohttp.ClientSession) -> None:
        self.settings = settings
        self.session = session

    async def deliver(self, entry: OutboxEntry) -> None:
        url = _env(self.settings.url_env, "webhook URL")
        body = entry.payload_text.encode()
        headers = {
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            DELIVERY_HEADER: entry.dedupe_key,
        }
        if self.settings.secret_env:
            headers[SIGNATURE_HEADER] = sign(
                _env(self.settings.secret_env, "webhook secret").encode(), body
            )
        await _post(self.session, url, body, headers, self.settings.timeout_s)


class SlackChannel:
    """A Slack incoming webhook: the payload is ``{"text": ..., "blocks": [...]}``."""

    def __init__(self, settings: SlackSettings, session: aiohttp.ClientSession) -> None:
        self.settings = settings
        self.session = session

    async def deliver(self, entry: OutboxEntry) -> None:
        url = _env(self.settings.webhook_url_env, "Slack webhook URL")
        headers = {"Content-Type": "application/json", "User-Agent": USER_AGENT}
        await _post(
            self.session, url, entry.payload_text.encode(), headers, self.settings.timeout_s
        )


def channels_from_settings(
    settings: NotifySettings, session: aiohttp.ClientSession
) -> dict[str, Channel]:
    """The configured channels by name; an unconfigured channel is absent."""
    out: dict[str, Channel] = {}
    if settings.smtp is not None:
        out["email"] = EmailChannel(settings.smtp)
    if settings.webhook is not None:
        out["webhook"] = WebhookChannel(settings.webhook, session)
    if settings.slack is not None:
        out["slack"] = SlackChannel(settings.slack, session)
    return out
