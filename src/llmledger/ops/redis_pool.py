"""The one way llmledger connects to Redis (rate limits, revocations, budget holds).

No retries and a short timeout: a slow Redis must not hold calls up. A bounded pool that
calls queue for: a burst of a thousand calls shares a few dozen connections instead of
failing for want of one (redis-py's default pool raises "Too many connections" past
its limit, and the caller would then fall back to local decisions for nothing).
"""

from __future__ import annotations

import redis.asyncio as aioredis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

#: Connections to Redis per client and process; more calls at once wait for one.
POOL_SIZE = 64
#: How long a call waits at least for a free connection before Redis counts as
#: unavailable (the Redis timeout, when longer).
POOL_WAIT_S = 1.0


def connect(
    url: str,
    timeout_s: float,
    *,
    listener: bool = False,
    pool_size: int = POOL_SIZE,
    wait_s: float = POOL_WAIT_S,
) -> aioredis.Redis[bytes]:
    """A client for `url`. A `listener` (pub/sub) waits without a read timeout and pings
    every 10 s to notice a dead peer. A call waits for a free connection up to the longer
    of `wait_s` and `timeout_s`: a burst that keeps every connection busy is no outage."""
    pool: aioredis.BlockingConnectionPool[aioredis.Connection] = (
        aioredis.BlockingConnectionPool.from_url(
            url,
            max_connections=pool_size,
            timeout=max(wait_s, timeout_s),
            socket_timeout=None if listener else timeout_s,
            socket_connect_timeout=timeout_s,
            retry=Retry(NoBackoff(), 0),
            health_check_interval=10 if listener else 0,
        )
    )
    return aioredis.Redis(connection_pool=pool)
