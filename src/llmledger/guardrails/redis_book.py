"""Budget holds in Redis: one Lua script checks and holds a call's whole scope chain,
atomically across every replica.

Each budget period is a hash ``llmledger:budget:<budget id>:<period start us>`` with
``s`` (spent) and ``r`` (reserved), in nano-USD; the period start in the name means a
new period is a new key, so a period resets on its boundary with nothing to run. A key
that is missing (first use, a Redis restart) is built from the store: the
period's spent plus its open holds.

PostgreSQL stays the ledger of record and the final guard: a call Redis holds is then
reserved in the store by the same conditional ``UPDATE`` as without Redis. So a Redis
counter that lags the store (rebuilt while another replica's hold was between Redis and
the store, or left stale while a replica that could not reach Redis held in the store)
can only make the store refuse what Redis let through, never let spend pass a limit.
What Redis gives: the decision is taken in one round trip across replicas, and a call
that a full budget refuses is answered without waiting for the store (its ``blocked``
event is written behind the answer).

When Redis cannot be reached the gateway falls back to the store alone (the store's
``unreachable`` policy applies as usual) and tries Redis again after `RETRY_S` seconds;
before using it again it rebuilds the counters it knows from the store, in place.
Every minute (`RESYNC_S`) the same is done, so holds of a replica that died, settled by
the lease in the store, stop counting in Redis.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import redis.asyncio as aioredis
from redis import exceptions as redis_errors
from sqlalchemy import Connection

from llmledger.ledger.reservations import Hold, Refusal, open_period
from llmledger.ledger.writer import WriteFailed

log = logging.getLogger("llmledger.redis_book")
PREFIX = "llmledger:budget:"

#: KEYS: one counter per budget of the call. ARGV[1]: the amount; ARGV[1 + i]: the limit
#: of KEYS[i], or -1 for an advisory budget. Returns {1} when held in every budget,
#: {0, i, spent, reserved} when KEYS[i] cannot hold it, {-1, i, ...} for missing keys.
HOLD = """
local amount = tonumber(ARGV[1])
local missing = {-1}
for i, k in ipairs(KEYS) do
  if redis.call('EXISTS', k) == 0 then missing[#missing + 1] = i end
end
if #missing > 1 then return missing end
for i, k in ipairs(KEYS) do
  local limit = tonumber(ARGV[i + 1])
  if limit >= 0 then
    local s = tonumber(redis.call('HGET', k, 's'))
    local r = tonumber(redis.call('HGET', k, 'r'))
    if s + r + amount > limit then
      return {0, i, redis.call('HGET', k, 's'), redis.call('HGET', k, 'r')}
    end
  end
end
for _, k in ipairs(KEYS) do redis.call('HINCRBY', k, 'r', amount) end
return {1}
"""

#: KEYS[1]: a counter; ARGV: spent, reserved, expiry (unix ms), 1 to overwrite it (else
#: it is set only if missing).
OPEN = """
if ARGV[4] ~= '1' and redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], 's', ARGV[1], 'r', ARGV[2])
redis.call('PEXPIREAT', KEYS[1], ARGV[3])
return 1
"""

#: KEYS: the counters a call held; ARGV[1]: the amount held, ARGV[2]: its real cost.
#: A missing key (rebuilt later from the store, which has the settlement) is left alone.
SETTLE = """
for _, k in ipairs(KEYS) do
  if redis.call('EXISTS', k) == 1 then
    redis.call('HINCRBY', k, 'r', -tonumber(ARGV[1]))
    redis.call('HINCRBY', k, 's', tonumber(ARGV[2]))
  end
end
return 1
"""

#: Errors that mean "Redis is not there" (as opposed to a bug): fall back to the store.
UNREACHABLE: tuple[type[BaseException], ...] = (
    redis_errors.ConnectionError,
    redis_errors.TimeoutError,
    redis_errors.BusyLoadingError,
    redis_errors.ReadOnlyError,
    OSError,
    TimeoutError,
)
#: Seconds the store decides alone after Redis failed, before Redis is tried again.
RETRY_S = 2.0
#: Seconds between two rebuilds of the counters from the store.
RESYNC_S = 60.0
#: Redis compares with Lua numbers (doubles): exact up to 2**53 nano-USD, $9,007,199.
EXACT_NANOS = 2**53

Submit = Callable[[Callable[[Connection], list[tuple[int, int]]]], Awaitable[object]]


class RedisDown(RuntimeError):
    """Redis cannot be used now: decide in the store alone."""


def counter_key(budget_id: str, period_start_us: int) -> str:
    return f"{PREFIX}{budget_id}:{period_start_us}"


def _expiry_ms(hold: Hold) -> int:
    """A few days after the period's end (settlements of calls that straddle it)."""
    if hold.last_day:
        end = date.fromisoformat(hold.last_day) + timedelta(days=3)
    else:
        end = date.today() + timedelta(days=400)
    return int(datetime(end.year, end.month, end.day).timestamp() * 1000)


@dataclass(frozen=True, slots=True)
class _Held:
    keys: tuple[str, ...]
    amount: int


class RedisBudgets:
    """The Redis side of budget holds for one process."""

    def __init__(
        self,
        client: aioredis.Redis[bytes],
        submit: Submit,
        current: Callable[[], Sequence[Hold]],
        *,
        retry_s: float = RETRY_S,
        resync_s: float = RESYNC_S,
    ) -> None:
        """`client` should fail fast (no retries, a short timeout); `submit` runs a
        store transaction through the writer; `current` names every budget's current
        period (a resync rebuilds those this process has used)."""
        self.client = client
        self._submit = submit
        self._current = current
        self.retry_s = retry_s
        self.resync_s = resync_s
        self._hold_script = self.client.register_script(HOLD)
        self._open_script = self.client.register_script(OPEN)
        self._settle_script = self.client.register_script(SETTLE)
        self._held: dict[str, _Held] = {}
        self._known: dict[str, Hold] = {}
        self._down_until = 0.0
        #: True while Redis was last found unreachable.
        self.down = False
        self._stale = True  # rebuild from the store before the first use
        self._next_resync = 0.0
        self._resync_lock = asyncio.Lock()
        self._settles: list[_Held | tuple[_Held, int]] = []
        self._flusher: asyncio.Task[None] | None = None
        #: Calls decided in the store alone because Redis could not be used (cumulative).
        self.fallbacks = 0
        #: Calls Redis refused (cumulative).
        self.refused = 0

    # --- holding ----------------------------------------------------------------------

    async def hold(self, event_id: str, holds: Sequence[Hold], amount: int) -> Refusal | None:
        """Hold `amount` in every budget of `holds` (None) or refuse (the first budget
        that cannot hold it). Raises `RedisDown` when Redis cannot be used now."""
        keys = [counter_key(h.budget_id, h.period_start_us) for h in holds]
        for key, h in zip(keys, holds, strict=True):
            self._known.setdefault(key, h)
        if any(h.limit_nanos >= EXACT_NANOS for h in holds if h.enforced):
            self.fallbacks += 1
            raise RedisDown("a limit beyond Redis's exact range: the store decides")
        now = time.monotonic()
        if now < self._down_until:
            self.fallbacks += 1
            raise RedisDown("Redis is down")
        try:
            if self._stale or now >= self._next_resync:
                await self._resync()
            args = [amount] + [h.limit_nanos if h.enforced else -1 for h in holds]
            for _ in range(3):
                got = await self._hold_script(keys=keys, args=args)
                if got[0] == 1:
                    self._held[event_id] = _Held(tuple(keys), amount)
                    self._up()
                    return None
                if got[0] == 0:
                    self._up()
                    self.refused += 1
                    return Refusal(holds[int(got[1]) - 1], int(got[2]), int(got[3]))
                await self._open([holds[int(i) - 1] for i in got[1:]])
            raise RedisDown("counters kept disappearing")  # flushed under our feet
        except UNREACHABLE as exc:
            self._fail(exc)
            self.fallbacks += 1
            raise RedisDown(str(exc)) from None
        except WriteFailed:  # a counter could not be read from the store: the store's
            self.fallbacks += 1  # own path, and its unreachable policy, decide
            raise RedisDown("counters could not be read from the store") from None

    def held_in_store(self, event_id: str, holds: Sequence[Hold], amount: int) -> None:
        """The store alone held the call (Redis was away). A counter rebuilt from the
        store while the call is in flight counts its hold: its settlement must release
        it there too (on a counter that was not rebuilt, Redis under-counts until the
        next resync, which the store's own check makes safe)."""
        keys = tuple(counter_key(h.budget_id, h.period_start_us) for h in holds)
        self._held[event_id] = _Held(keys, amount)

    def settle(self, event_id: str, cost: int) -> None:
        """Release the call's hold and add its real cost (in the background)."""
        held = self._held.pop(event_id, None)
        if held is not None:
            self._queue((held, cost))

    def release(self, event_id: str) -> None:
        """Give the call's hold back: the store refused or could not record it."""
        held = self._held.pop(event_id, None)
        if held is not None:
            self._queue(held)

    def lagging(self) -> None:
        """The store refused what Redis held: rebuild the counters before the next use."""
        self._stale = True

    # --- keeping in step with the store ----------------------------------------------

    async def _open(self, holds: Sequence[Hold], *, overwrite: bool = False) -> None:
        """Build counters from the store (spent plus open holds): the missing ones, or
        with `overwrite` all of them, in place (a counter never disappears under the
        other replicas)."""
        todo = list(holds)

        def read(conn: Connection) -> list[tuple[int, int]]:
            return [open_period(conn, h) for h in todo]

        got = await self._submit(read)
        assert isinstance(got, list)
        async with self.client.pipeline(transaction=False) as pipe:
            for hold, (spent, reserved) in zip(todo, got, strict=True):
                await self._open_script(
                    keys=[counter_key(hold.budget_id, hold.period_start_us)],
                    args=[spent, reserved, _expiry_ms(hold), int(overwrite)],
                    client=pipe,
                )
            await pipe.execute()

    async def _resync(self) -> None:
        """Rebuild from the store, in place, every counter this process has used."""
        async with self._resync_lock:
            if not (self._stale or time.monotonic() >= self._next_resync):
                return
            # The counters this process uses, in their current period (those of past
            # periods and removed budgets are left to expire).
            current = {counter_key(h.budget_id, h.period_start_us): h for h in self._current()}
            holds = {k: h for k, h in current.items() if k in self._known}
            self._known = dict(holds)
            if holds:
                await self._open(list(holds.values()), overwrite=True)
            self._stale = False
            self._next_resync = time.monotonic() + self.resync_s

    def _queue(self, item: _Held | tuple[_Held, int]) -> None:
        self._settles.append(item)
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.get_running_loop().create_task(self._flush())

    async def _flush(self) -> None:
        while self._settles:
            batch, self._settles = self._settles, []
            if self.down:  # the counters will be rebuilt when Redis is back
                continue
            try:
                async with self.client.pipeline(transaction=False) as pipe:
                    for item in batch:
                        held, cost = item if isinstance(item, tuple) else (item, 0)
                        await self._settle_script(
                            keys=list(held.keys), args=[held.amount, cost], client=pipe
                        )
                    await pipe.execute()
            except UNREACHABLE as exc:
                self._fail(exc)

    def _fail(self, exc: BaseException) -> None:
        if not self.down:
            log.error("Redis is unreachable (%s): budgets are held in the store alone", exc)
        self.down = True
        self._stale = True
        self._down_until = time.monotonic() + self.retry_s

    def _up(self) -> None:
        if self.down:
            log.warning("Redis is reachable again: budget counters rebuilt from the store")
        self.down = False

    async def close(self) -> None:
        if self._flusher is not None:
            try:
                await asyncio.wait_for(self._flusher, 2)
            except UNREACHABLE:
                pass
        await self.client.aclose(close_connection_pool=True)  # type: ignore[attr-defined]
