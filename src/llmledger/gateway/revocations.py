"""Key revocations pushed to every replica through Redis pub/sub.

Whoever revokes a key (the admin API of any replica, or ``llmledger keys revoke``)
publishes its id on `CHANNEL` after the revocation is committed; every replica listens
and empties its key cache when a message arrives, so the next call with that key is
read from the store and refused. Without Redis, or while the subscription is down, the
key cache's two-second lifetime bounds how long a revoked key can still be used; the
cache is emptied again each time the subscription is (re)made, so a revocation
published while a replica was not listening is not missed for longer than that.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

import redis
from redis.asyncio import Redis

from llmledger.gateway.keycache import KeyCache

log = logging.getLogger("llmledger.revocations")
CHANNEL = "llmledger:keys:revoked"


class RevocationFeed:
    """Listens for revocations (emptying `cache`) and publishes this replica's own."""

    def __init__(self, client: Redis[bytes], cache: KeyCache) -> None:
        self.client = client
        self.cache = cache
        #: Revocations heard from the channel (this replica's own included).
        self.received = 0
        self.listening = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self.cache.broadcast = self.publish
        self._task = asyncio.create_task(self._listen(), name="llmledger-revocations")

    async def publish(self, key_id: str) -> None:
        try:
            await self.client.publish(CHANNEL, key_id)
        except Exception as exc:
            log.warning(
                "revocation of %s not broadcast (%s): other replicas refuse the key "
                "within the key cache's lifetime",
                key_id,
                type(exc).__name__,
            )

    async def _listen(self) -> None:
        wait = 0.5
        while True:
            pubsub = self.client.pubsub(ignore_subscribe_messages=True)
            try:
                await pubsub.subscribe(CHANNEL)
                if wait > 0.5:
                    log.warning("listening for key revocations again")
                wait = 0.5
                self.cache.forget()  # anything revoked while nobody listened
                self.listening.set()
                while True:
                    message = await pubsub.get_message(timeout=1.0)
                    if message is not None and message.get("type") == "message":
                        self.received += 1
                        self.cache.forget()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                self.listening.clear()
                if wait == 0.5:
                    log.warning(
                        "cannot listen for key revocations on Redis (%s): other replicas' "
                        "revocations reach this one within the key cache's lifetime",
                        type(exc).__name__,
                    )
                await asyncio.sleep(wait)
                wait = min(wait * 2, 10.0)
            finally:
                with contextlib.suppress(Exception):
                    await pubsub.aclose()  # type: ignore[attr-defined]  # redis>=5

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        await self.client.aclose()  # type: ignore[attr-defined]  # redis>=5; old stubs


def publish_now(url: str, key_id: str, timeout_s: float = 2.0) -> bool:
    """Publish a revocation from a short-lived process (the CLI); False when Redis is away."""
    client = redis.Redis.from_url(url, socket_timeout=timeout_s, socket_connect_timeout=timeout_s)
    try:
        client.publish(CHANNEL, key_id)
        return True
    except redis.RedisError:
        return False
    finally:
        client.close()
