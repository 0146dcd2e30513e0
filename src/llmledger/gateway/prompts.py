"""Prompt logging at the gateway: which calls have their bodies stored, and capturing them.

Off (the default) the gateway reads one flag per call and does nothing else: no rule is
on, `PromptLog.active` is False, nothing is captured. A rule (from the settings, or set
through the API or CLI and stored) switches logging on or off for a scope; the most
specific rule of a call's scopes decides (key, agent, project, department, org). When it
is on, the request body as the caller sent it and the answer as the caller received it
(the JSON body, or the raw bytes of a stream: SSE, AWS event stream) are kept in memory,
each up to ``gateway.log_prompts_max_bytes``, and handed to the ledger writer when the
call settles. Headers are never kept: the caller's key and the provider credential
travel in them.

Rules stored by another replica are read every `REFRESH_S` seconds; stored bodies past
their retention are deleted every ``gateway.log_prompts_purge_interval_s``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass, field

from sqlalchemy import Connection

from llmledger.ledger import prompts
from llmledger.ledger.event import UsageEvent
from llmledger.ledger.prompts import DAY_US, PromptRecord
from llmledger.ledger.writer import LedgerWriter, WriteFailed
from llmledger.settings import GatewaySettings

log = logging.getLogger("llmledger.prompts")
#: Seconds between two reads of the stored rules (a change made on another replica).
REFRESH_S = 5.0
#: Most calls captured at once; past it the oldest capture is dropped (never stored).
MAX_OPEN = 10_000


@dataclass(frozen=True, slots=True)
class Rule:
    scope: str
    enabled: bool
    retention_days: int
    source: str
    """``settings`` or ``store`` (set through the API or CLI; overrides the settings)."""

    def as_json(self) -> dict[str, object]:
        return {
            "scope": self.scope,
            "enabled": self.enabled,
            "retention_days": self.retention_days,
            "source": self.source,
        }


def settings_rules(gateway: GatewaySettings) -> dict[str, Rule]:
    out: dict[str, Rule] = {}
    if gateway.log_prompts:
        out["org"] = Rule("org", True, gateway.log_prompts_retention_days, "settings")
    for scope, days in gateway.log_prompts_scopes.items():
        out[scope] = Rule(scope, days > 0, days, "settings")
    return out


def configured(gateway: GatewaySettings) -> dict[str, int]:
    """The settings' rules as scope -> retention days (0: off), for the audit log."""
    return {scope: rule.retention_days for scope, rule in settings_rules(gateway).items()}


def merge(base: dict[str, Rule], stored: list[prompts.StoredRule]) -> dict[str, Rule]:
    out = dict(base)
    for r in stored:
        out[r.scope] = Rule(r.scope, r.enabled, r.retention_days, "store")
    return out


def call_scopes(department: str, project: str, agent: str, key_id: str) -> list[str]:
    """A call's scopes, most specific first."""
    out = [f"key:{key_id}"] if key_id else []
    if project and agent:
        out.append(f"agent:{department}/{project}/{agent}")
    if project:
        out.append(f"project:{department}/{project}")
    return [*out, f"department:{department}", "org"]


def rule_for(rules: dict[str, Rule], event: UsageEvent) -> Rule | None:
    """The rule deciding `event`'s call, if one is on."""
    for scope in call_scopes(event.department, event.project, event.agent, event.key_id):
        rule = rules.get(scope)
        if rule is not None:
            return rule if rule.enabled else None
    return None


@dataclass(slots=True)
class Capture:
    """One call's bodies, capped, while it runs."""

    rule: Rule
    cap: int
    request: bytes
    request_bytes: int
    stream: bool = False
    answer: bytearray = field(default_factory=bytearray)
    answer_bytes: int = 0

    def add(self, chunk: bytes) -> None:
        self.answer_bytes += len(chunk)
        room = self.cap - len(self.answer)
        if room > 0:
            self.answer += chunk[:room]


class PromptLog:
    """The rules in force in this process, the calls being captured, and the purge."""

    def __init__(self, gateway: GatewaySettings, writer: LedgerWriter) -> None:
        self.settings = gateway
        self.writer = writer
        self.cap = gateway.log_prompts_max_bytes
        self._base = settings_rules(gateway)
        self.rules: dict[str, Rule] = dict(self._base)
        #: True when some rule is on: the only thing the hot path reads when it is not.
        self.active = any(r.enabled for r in self.rules.values())
        #: Calls being captured, by event id.
        self.captures: dict[str, Capture] = {}
        self.purged = 0
        self._task: asyncio.Task[None] | None = None

    # The hot path (see gateway/proxy.py).

    def open(self, event: UsageEvent, body: bytes) -> None:
        """Start capturing `event`'s call when a rule is on for it."""
        rule = rule_for(self.rules, event)
        if rule is None:
            return
        if len(self.captures) >= MAX_OPEN:
            del self.captures[next(iter(self.captures))]
        self.captures[event.id] = Capture(rule, self.cap, body[: self.cap], len(body))

    def finish(self, done: UsageEvent, answer: bytes | None = None) -> None:
        """Hand a settled call's bodies to the writer (if they were captured)."""
        capture = self.captures.pop(done.id, None)
        if capture is None:
            return
        if answer is not None:
            capture.add(answer)
        ts_us = done.ts_us
        record = PromptRecord(
            event_id=done.id,
            ts_us=ts_us,
            department=done.department,
            project=done.project,
            agent=done.agent,
            key_id=done.key_id,
            scope=capture.rule.scope,
            stream=capture.stream,
            request_body=capture.request,
            request_bytes=capture.request_bytes,
            response_body=bytes(capture.answer),
            response_bytes=capture.answer_bytes,
            expires_us=ts_us + capture.rule.retention_days * DAY_US,
        )
        self.writer.submit_many_nowait(prompts.write_many, record)

    # Rules and retention.

    def reload(self, stored: list[prompts.StoredRule]) -> None:
        self.rules = merge(self._base, stored)
        self.active = any(r.enabled for r in self.rules.values())

    async def refresh(self) -> None:
        """Read the stored rules again (after a change here or on another replica)."""

        def read() -> list[prompts.StoredRule]:
            with self.writer.store.read() as conn:
                return prompts.rules(conn)

        self.reload(await asyncio.to_thread(read))

    async def purge(self, now_us: int | None = None) -> int:
        """Delete every stored call past its retention; returns how many."""
        total = 0

        def one(conn: Connection) -> int:
            return prompts.purge(conn, now_us)

        while True:
            done: int = await self.writer.submit(one)
            total += done
            if done < prompts.PURGE_BATCH:
                break
        if total:
            self.purged += total
            log.info("deleted %d stored prompts past their retention", total)
        return total

    async def start(self) -> None:
        """Audit the settings' rules if they changed, read the stored ones, purge, and
        keep doing the last two in the background."""
        wanted = configured(self.settings)

        def audit(conn: Connection) -> bool:
            return prompts.record_settings(conn, wanted)

        try:
            if await self.writer.submit(audit):
                log.warning("prompt logging rules from the settings: %s", wanted or "none")
            await self.refresh()
            await self.purge()
        except Exception:  # the store is away: the settings' rules, and the loop retries
            log.warning("prompt logging rules not read from the store at startup", exc_info=True)
        self._task = asyncio.create_task(self._loop(), name="llmledger-prompts")

    async def _loop(self) -> None:
        every = self.settings.log_prompts_purge_interval_s
        next_purge = time.monotonic() + every
        while True:
            await asyncio.sleep(min(REFRESH_S, every))
            try:
                await self.refresh()
            except Exception:  # the store is away: the rules as last read
                log.debug("prompt logging rules not refreshed", exc_info=True)
            try:
                if time.monotonic() >= next_purge:
                    next_purge = time.monotonic() + every
                    await self.purge()
            except WriteFailed:  # the store is away: the next round tries again
                pass
            except Exception:
                log.exception("prompt logging upkeep failed")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
