"""Notifications: a deduplicating outbox in the store and the channels that deliver it.

`Outbox.enqueue` claims a message by its dedupe key (a second enqueue is a no-op, across
restarts and replicas); a `Dispatcher` delivers due messages by email (SMTP), signed JSON
webhooks or Slack, with retries and exponential backoff. See docs/notifications.md.
"""

from __future__ import annotations

from llmledger.notify.channels import (
    Channel,
    DeliveryError,
    EmailChannel,
    SlackChannel,
    WebhookChannel,
    channels_from_settings,
    sign,
)
from llmledger.notify.dispatcher import Dispatcher, DispatchReport, RetryPolicy
from llmledger.notify.message import Clock, Message, email, system_clock
from llmledger.notify.outbox import Attempt, Outbox, OutboxEntry

__all__ = [
    "Attempt",
    "Channel",
    "Clock",
    "DeliveryError",
    "DispatchReport",
    "Dispatcher",
    "EmailChannel",
    "Message",
    "Outbox",
    "OutboxEntry",
    "RetryPolicy",
    "SlackChannel",
    "WebhookChannel",
    "channels_from_settings",
    "email",
    "sign",
    "system_clock",
]
