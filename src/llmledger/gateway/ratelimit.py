"""Per-key rate limits: a token bucket per virtual key, in memory, per gateway process.

Requests per minute are taken from the bucket before a call is forwarded. Tokens per
minute cannot be known before the answer, so a call is admitted while the key's token
bucket is not empty and the tokens it really used are taken after it is settled (the
bucket may go below zero, which holds the next calls back until it refills). Both
buckets hold one minute's worth and refill continuously.

These buckets are per process. With ``store.redis_url`` set, the same buckets live in
Redis and every replica takes from them (`gateway/shared_limits.py`); this class is then
the fallback used while Redis cannot be reached. The table of buckets is bounded; when it
is full the oldest bucket is dropped (that key starts again with a full minute).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from llmledger.ledger.keys import VirtualKey
from llmledger.usage import Usage

MAX_KEYS = 50_000


@dataclass(slots=True)
class _Bucket:
    rpm: int | None
    tpm: int | None
    requests: float
    tokens: float
    at: float


@dataclass(frozen=True, slots=True)
class RateRefusal:
    retry_after_s: int
    message: str


def tokens_of(usage: Usage) -> int:
    """Every token of a call, whatever its kind (text, cached, audio, image...)."""
    return int(sum(q for t, q in usage.items() if t.value.endswith("_tokens")))


class Limiter(Protocol):
    """What the gateway asks of its rate limits (in process, or shared through Redis)."""

    async def check(self, key: VirtualKey) -> RateRefusal | None: ...

    def charge(self, key_id: str, usage: Usage) -> None: ...


class RateLimits:
    def __init__(
        self, max_keys: int = MAX_KEYS, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._buckets: dict[str, _Bucket] = {}
        self._max_keys = max_keys
        self._clock = clock

    def admit(self, key: VirtualKey) -> RateRefusal | None:
        """Take one request from the key's bucket; a refusal says how long to wait."""
        if key.rpm_limit is None and key.tpm_limit is None:
            return None
        bucket = self._refilled(key.id, key.rpm_limit, key.tpm_limit)
        if key.tpm_limit is not None and bucket.tokens <= 0:
            wait = (1 - bucket.tokens) * 60 / key.tpm_limit
            return RateRefusal(
                max(1, math.ceil(wait)),
                f"rate limit reached for this key: {key.tpm_limit} tokens per minute",
            )
        if key.rpm_limit is not None:
            if bucket.requests < 1:
                wait = (1 - bucket.requests) * 60 / key.rpm_limit
                return RateRefusal(
                    max(1, math.ceil(wait)),
                    f"rate limit reached for this key: {key.rpm_limit} requests per minute",
                )
            bucket.requests -= 1
        return None

    async def check(self, key: VirtualKey) -> RateRefusal | None:
        return self.admit(key)

    def charge(self, key_id: str, usage: Usage) -> None:
        """Take the tokens a settled call used from its key's bucket (if it has one)."""
        bucket = self._buckets.get(key_id)
        if bucket is None or bucket.tpm is None:
            return
        bucket.tokens -= tokens_of(usage)

    def _refilled(self, key_id: str, rpm: int | None, tpm: int | None) -> _Bucket:
        now = self._clock()
        bucket = self._buckets.get(key_id)
        if bucket is None or bucket.rpm != rpm or bucket.tpm != tpm:
            if bucket is None and len(self._buckets) >= self._max_keys:
                del self._buckets[next(iter(self._buckets))]
            bucket = _Bucket(rpm, tpm, float(rpm or 0), float(tpm or 0), now)
            self._buckets[key_id] = bucket
            return bucket
        elapsed = now - bucket.at
        bucket.at = now
        if rpm is not None:
            bucket.requests = min(float(rpm), bucket.requests + elapsed * rpm / 60)
        if tpm is not None:
            bucket.tokens = min(float(tpm), bucket.tokens + elapsed * tpm / 60)
        return bucket
