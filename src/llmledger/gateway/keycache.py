"""Virtual keys looked up by hash, cached briefly so the hot path rarely reads the store.

A revocation empties the cache of the replica that made it at once; with Redis
(``store.redis_url``) it is also broadcast and every other replica empties its cache as
soon as the message arrives (`gateway/revocations.py`). The two-second lifetime of an
entry is the bound without Redis, or while its messages cannot get through.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from llmledger.ledger import keys
from llmledger.ledger.keys import VirtualKey
from llmledger.ledger.store import Store

#: Seconds a looked-up key (or its absence) is trusted before the store is asked again;
#: bounds how long a revocation takes to reach every replica.
TTL_SECONDS = 2.0
_MAX_ENTRIES = 100_000


@dataclass(slots=True)
class _Entry:
    key: VirtualKey | None
    expires: float


class KeyCache:
    def __init__(self, store: Store, ttl: float = TTL_SECONDS) -> None:
        self.store = store
        self.ttl = ttl
        self._entries: dict[str, _Entry] = {}
        #: Bumped by every `forget`, so a lookup begun before it is not cached after it.
        self._generation = 0
        #: Tells the other replicas of a revocation (set when Redis is configured).
        self.broadcast: Callable[[str], Awaitable[None]] | None = None

    async def find(self, secret: str) -> VirtualKey | None:
        digest = keys.hash_key(secret)
        now = time.monotonic()
        entry = self._entries.get(digest)
        if entry is not None and entry.expires > now:
            return entry.key
        generation = self._generation
        try:
            key = await asyncio.to_thread(self._lookup, digest)
        except Exception:
            if entry is None:
                raise
            # The store is away: the key as last read (a revocation needs the store too),
            # so a fail_open gateway keeps serving the keys it has seen.
            return entry.key
        if generation != self._generation:  # a revocation came in while reading
            return key
        if len(self._entries) >= _MAX_ENTRIES:
            self._entries.clear()
        self._entries[digest] = _Entry(key, now + self.ttl)
        return key

    def forget(self) -> None:
        """Drop every cached key (after a revocation here or on another replica)."""
        self._generation += 1
        self._entries.clear()

    async def revoked(self, key_id: str) -> None:
        """A key was revoked by this process: forget, and tell the other replicas."""
        self.forget()
        if self.broadcast is not None:
            await self.broadcast(key_id)

    def _lookup(self, digest: str) -> VirtualKey | None:
        with self.store.read() as conn:
            return keys.find_by_hash(conn, digest)
