"""Per-key rate limits shared by every replica through Redis.

The buckets are those of `RateLimits` (a token bucket of requests and one of tokens per
key, each holding a minute's worth and refilling continuously), kept in one Redis hash
per key (``llmledger:rate:<key id>``) and updated by one Lua script, atomically, on the
Redis server's clock: N replicas take from the same buckets, so a key gets its limit
once, not N times. A bucket expires once it would be full again (no hash: a full bucket).

Redis must never cost a call: when it cannot be reached or does not answer within
``store.redis_timeout_s``, the call is decided by this replica's own buckets (the
in-process `RateLimits`), a warning is logged, and Redis is tried again after
`RETRY_S` seconds. Tokens are charged after the call settles, in the background.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Callable
from typing import Any

from redis.asyncio import Redis

from llmledger.gateway.ratelimit import RateLimits, RateRefusal, tokens_of
from llmledger.ledger.keys import VirtualKey
from llmledger.usage import Usage

log = logging.getLogger("llmledger.ratelimit")
#: Seconds a replica decides alone after Redis failed, before trying it again.
RETRY_S = 2.0
PREFIX = "llmledger:rate:"
#: Most key ids remembered as having a tokens-per-minute limit (charged after a call).
_MAX_METERED = 100_000

#: ARGV: "admit", rpm, tpm (0: none) -> {0|1 (requests)|2 (tokens), seconds to wait};
#: or "charge", tokens -> {0, "0"} (nothing when the key has no bucket).
_SCRIPT = """
local key = KEYS[1]
local mode = ARGV[1]
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
local h = redis.call('HMGET', key, 'r', 't', 'at', 'rpm', 'tpm')
local rpm, tpm
if mode == 'admit' then
  rpm = tonumber(ARGV[2])
  tpm = tonumber(ARGV[3])
else
  if not h[3] then return {0, '0'} end
  rpm = tonumber(h[4])
  tpm = tonumber(h[5])
end
local r, tok
if not h[3] or tonumber(h[4]) ~= rpm or tonumber(h[5]) ~= tpm then
  r = rpm
  tok = tpm
else
  r = tonumber(h[1])
  tok = tonumber(h[2])
  local elapsed = now - tonumber(h[3])
  if elapsed < 0 then elapsed = 0 end
  if rpm > 0 then r = math.min(rpm, r + elapsed * rpm / 60000) end
  if tpm > 0 then tok = math.min(tpm, tok + elapsed * tpm / 60000) end
end
local why = 0
local wait = 0
if mode == 'admit' then
  if tpm > 0 and tok <= 0 then
    why = 2
    wait = (1 - tok) * 60 / tpm
  elseif rpm > 0 then
    if r < 1 then
      why = 1
      wait = (1 - r) * 60 / rpm
    else
      r = r - 1
    end
  end
else
  tok = tok - tonumber(ARGV[2])
end
local full = 0
if rpm > 0 then full = math.max(full, (rpm - r) * 60000 / rpm) end
if tpm > 0 then full = math.max(full, (tpm - tok) * 60000 / tpm) end
redis.call('HSET', key, 'r', tostring(r), 't', tostring(tok), 'at', tostring(now),
  'rpm', tostring(rpm), 'tpm', tostring(tpm))
redis.call('PEXPIRE', key, math.ceil(full) + 1000)
return {why, tostring(wait)}
"""


class SharedRateLimits:
    """Rate limits counted in Redis, with this process's own buckets as the fallback."""

    def __init__(
        self,
        client: Redis[bytes],
        local: RateLimits | None = None,
        *,
        retry_s: float = RETRY_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.client = client
        self.local = local or RateLimits()
        self.retry_s = retry_s
        self._clock = clock
        self._script: Any = client.register_script(_SCRIPT)
        self._down_until = 0.0
        #: True from a Redis failure until Redis answers again.
        self.down = False
        #: Calls decided by this process alone because Redis could not be reached.
        self.fallbacks = 0
        self._metered: dict[str, None] = {}
        self._charges: set[asyncio.Task[None]] = set()

    async def check(self, key: VirtualKey) -> RateRefusal | None:
        """Take one request from the key's shared bucket; a refusal says how long to wait."""
        rpm, tpm = key.rpm_limit, key.tpm_limit
        if rpm is None and tpm is None:
            return None
        if tpm is not None and key.id not in self._metered:
            if len(self._metered) >= _MAX_METERED:
                self._metered.clear()
            self._metered[key.id] = None
        if self.down and self._clock() < self._down_until:
            self.fallbacks += 1
            return self.local.admit(key)
        try:
            why, wait = await self._script(
                keys=[PREFIX + key.id], args=["admit", rpm or 0, tpm or 0]
            )
        except Exception as exc:  # Redis away or too slow: never fail the call for it
            self._failed(exc)
            self.fallbacks += 1
            return self.local.admit(key)
        self._answered()
        if int(why) == 0:
            return None
        seconds = max(1, math.ceil(float(wait)))
        if int(why) == 2:
            return RateRefusal(seconds, f"rate limit reached for this key: {tpm} tokens per minute")
        return RateRefusal(seconds, f"rate limit reached for this key: {rpm} requests per minute")

    def charge(self, key_id: str, usage: Usage) -> None:
        """Take a settled call's tokens from its key's shared bucket, in the background."""
        if key_id not in self._metered:
            return
        if self.down and self._clock() < self._down_until:
            self.local.charge(key_id, usage)
            return
        tokens = tokens_of(usage)
        if tokens <= 0:
            return
        task = asyncio.get_running_loop().create_task(self._charge(key_id, tokens, usage))
        self._charges.add(task)
        task.add_done_callback(self._charges.discard)

    async def _charge(self, key_id: str, tokens: int, usage: Usage) -> None:
        try:
            await self._script(keys=[PREFIX + key_id], args=["charge", tokens])
        except Exception as exc:
            self._failed(exc)
            self.local.charge(key_id, usage)
            return
        self._answered()

    def _failed(self, exc: BaseException) -> None:
        self._down_until = self._clock() + self.retry_s
        if not self.down:
            log.warning(
                "Redis cannot be reached (%s): rate limits are counted by each replica "
                "alone until it answers",
                type(exc).__name__,
            )
        self.down = True

    def _answered(self) -> None:
        if self.down:
            log.warning("Redis answers again: rate limits are shared by every replica")
        self.down = False

    async def close(self) -> None:
        if self._charges:
            await asyncio.wait(list(self._charges), timeout=1)
        await self.client.aclose()  # type: ignore[attr-defined]  # redis>=5; old stubs
