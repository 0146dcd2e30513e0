"""The store's tables (SQLAlchemy Core), shared by SQLite and PostgreSQL.

Conventions: times are integer microseconds since the epoch, UTC (``*_us``); money is
integer nano-USD (``*_nanos``); usage quantities are integer thousandths of their unit
(``quantity_milli``), so audio and video seconds keep millisecond precision and every
sum stays exact. Missing attribution is the empty string, never NULL, so that rollup
keys compare equal.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    PrimaryKeyConstraint,
    Table,
    Text,
    UniqueConstraint,
)

metadata = MetaData()

#: Dimensions of every rollup, in key order.
ROLLUP_DIMENSIONS = ("department", "project", "agent", "key_id", "provider", "model")


def _dim(name: str) -> Column[str]:
    return Column(name, Text, nullable=False, server_default="")


events = Table(
    "events",
    metadata,
    Column("id", Text, primary_key=True),
    Column("ts_us", BigInteger, nullable=False),
    _dim("department"),
    _dim("project"),
    _dim("agent"),
    _dim("key_id"),
    _dim("end_user"),
    _dim("provider"),
    _dim("model_requested"),
    _dim("model_used"),
    _dim("operation"),
    Column("source", Text, nullable=False),
    Column("status", Text, nullable=False),
    Column("http_status", Integer, nullable=True),
    Column("flags", Integer, nullable=False, server_default="0"),
    Column("cost_nanos", BigInteger, nullable=False, server_default="0"),
    Column("list_cost_nanos", BigInteger, nullable=False, server_default="0"),
    Column("reserved_nanos", BigInteger, nullable=False, server_default="0"),
    Column("reported_cost_nanos", BigInteger, nullable=True),
    Column("requested_cost_nanos", BigInteger, nullable=True),
    Column("routed_from", Text, nullable=True),
    Column("latency_ms", Integer, nullable=True),
    Column("detail", Text, nullable=True),
    Column("settled_us", BigInteger, nullable=True),
)
Index("ix_events_ts", events.c.ts_us)
Index("ix_events_status", events.c.status, events.c.ts_us)
Index("ix_events_department_ts", events.c.department, events.c.ts_us)

#: Event columns that are usually empty (no key on an imported record, no end user on
#: most calls): their indexes leave the empty rows out, and a query that filters on one
#: states ``column != ''`` too, or the index cannot serve it (``ledger.event_log``).
SPARSE_EVENT_COLUMNS = ("key_id", "end_user")
# The event log's filters: ``(column, ts_us, ...)`` reads a value's newest events first
# and stops after a page, however rare the value. Columns whose values are many and come
# and go (keys, end users, projects, agents, models) have one; provider and operation, a
# few values each a large share of the calls, are read through ``ix_events_ts``. Status
# rides at the end: "the failures of this key" is then checked on the index entry, not
# on the event's row (a key's rows lie far apart; reading 100 of them per failure found
# was most of that page's time).
Index("ix_events_project_ts", events.c.project, events.c.ts_us, events.c.status)
Index("ix_events_agent_ts", events.c.agent, events.c.ts_us, events.c.status)
Index("ix_events_model_ts", events.c.model_used, events.c.ts_us, events.c.status)
Index(
    "ix_events_key_ts",
    events.c.key_id,
    events.c.ts_us,
    events.c.status,
    sqlite_where=events.c.key_id != "",
    postgresql_where=events.c.key_id != "",
)
Index(
    "ix_events_end_user_ts",
    events.c.end_user,
    events.c.ts_us,
    events.c.status,
    sqlite_where=events.c.end_user != "",
    postgresql_where=events.c.end_user != "",
)

event_usage = Table(
    "event_usage",
    metadata,
    Column("event_id", Text, nullable=False),
    Column("usage_type", Text, nullable=False),
    Column("quantity_milli", BigInteger, nullable=False),
    Column("cost_nanos", BigInteger, nullable=False),
    Column("list_cost_nanos", BigInteger, nullable=False),
    PrimaryKeyConstraint("event_id", "usage_type"),
)


def _calls_rollup(name: str, bucket: Column[object]) -> Table:
    return Table(
        name,
        metadata,
        bucket,
        *(_dim(d) for d in ROLLUP_DIMENSIONS),
        Column("calls", BigInteger, nullable=False),
        Column("cost_nanos", BigInteger, nullable=False),
        Column("list_cost_nanos", BigInteger, nullable=False),
        Column("unpriced_calls", BigInteger, nullable=False),
        Column("routed_calls", BigInteger, nullable=False),
        Column("routed_cost_nanos", BigInteger, nullable=False),
        Column("requested_cost_nanos", BigInteger, nullable=False),
        PrimaryKeyConstraint(bucket.name, *ROLLUP_DIMENSIONS),
    )


def _usage_rollup(name: str, bucket: Column[object]) -> Table:
    return Table(
        name,
        metadata,
        bucket,
        *(_dim(d) for d in ROLLUP_DIMENSIONS),
        Column("usage_type", Text, nullable=False),
        Column("quantity_milli", BigInteger, nullable=False),
        Column("cost_nanos", BigInteger, nullable=False),
        Column("list_cost_nanos", BigInteger, nullable=False),
        PrimaryKeyConstraint(bucket.name, *ROLLUP_DIMENSIONS, "usage_type"),
    )


#: Hourly rollups, bucketed by the UTC hour (``hour_us`` = start of the hour).
calls_hourly = _calls_rollup("rollup_calls_hourly", Column("hour_us", BigInteger))
usage_hourly = _usage_rollup("rollup_usage_hourly", Column("hour_us", BigInteger))
#: Daily rollups, bucketed by the organisation's local date (``day`` = "YYYY-MM-DD").
calls_daily = _calls_rollup("rollup_calls_daily", Column("day", Text))
usage_daily = _usage_rollup("rollup_usage_daily", Column("day", Text))
#: Monthly rollups, bucketed by the organisation's local month (``month`` = "YYYY-MM"):
#: the sum of that month's daily rows, so a year reads 12 rows per key instead of 365.
calls_monthly = _calls_rollup("rollup_calls_monthly", Column("month", Text))
usage_monthly = _usage_rollup("rollup_usage_monthly", Column("month", Text))

virtual_keys = Table(
    "virtual_keys",
    metadata,
    Column("id", Text, primary_key=True),
    Column("prefix", Text, nullable=False),
    Column("secret_hash", Text, nullable=False, unique=True),
    Column("name", Text, nullable=False, server_default=""),
    _dim("department"),
    _dim("project"),
    _dim("agent"),
    Column("allowed_models", Text, nullable=False, server_default=""),
    Column("allow_attribution_headers", Boolean, nullable=False, server_default="0"),
    Column("created_us", BigInteger, nullable=False),
    Column("expires_us", BigInteger, nullable=True),
    Column("revoked_us", BigInteger, nullable=True),
    #: Per-key rate limits (requests and tokens per minute); NULL: no limit.
    Column("rpm_limit", Integer, nullable=True),
    Column("tpm_limit", BigInteger, nullable=True),
)

budgets = Table(
    "budgets",
    metadata,
    Column("id", Text, primary_key=True),
    Column("scope", Text, nullable=False),
    Column("period", Text, nullable=False),
    Column("limit_nanos", BigInteger, nullable=False),
    Column("enforced", Boolean, nullable=False),
    Column("thresholds", Text, nullable=False),
    Column("owners", Text, nullable=False, server_default=""),
    Column("created_us", BigInteger, nullable=False),
    Column("updated_us", BigInteger, nullable=False),
    UniqueConstraint("scope", "period", name="uq_budgets_scope_period"),
)

#: Spend and open reservations of one budget in one period: the hot-path counter.
budget_periods = Table(
    "budget_periods",
    metadata,
    Column("budget_id", Text, nullable=False),
    Column("period_start_us", BigInteger, nullable=False),
    Column("spent_nanos", BigInteger, nullable=False, server_default="0"),
    Column("reserved_nanos", BigInteger, nullable=False, server_default="0"),
    PrimaryKeyConstraint("budget_id", "period_start_us"),
)

#: Which budget periods an open reservation holds money in (released when settled).
reservation_holds = Table(
    "reservation_holds",
    metadata,
    Column("event_id", Text, nullable=False),
    Column("budget_id", Text, nullable=False),
    Column("period_start_us", BigInteger, nullable=False),
    Column("amount_nanos", BigInteger, nullable=False),
    PrimaryKeyConstraint("event_id", "budget_id"),
)

audit_log = Table(
    "audit_log",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("ts_us", BigInteger, nullable=False),
    Column("actor", Text, nullable=False),
    Column("action", Text, nullable=False),
    Column("target", Text, nullable=False),
    Column("before", Text, nullable=True),
    Column("after", Text, nullable=True),
    Column("reason", Text, nullable=True),
)
Index("ix_audit_ts", audit_log.c.ts_us)

#: Admin API tokens: a role (and an owner's scope) like a user; only the hash is stored.
api_tokens = Table(
    "api_tokens",
    metadata,
    Column("id", Text, primary_key=True),
    Column("prefix", Text, nullable=False),
    Column("hash", Text, nullable=False, unique=True),
    Column("role", Text, nullable=False),
    Column("scope", Text, nullable=False, server_default=""),
    Column("name", Text, nullable=False, server_default=""),
    Column("created_us", BigInteger, nullable=False),
    Column("revoked_us", BigInteger, nullable=True),
)

users = Table(
    "users",
    metadata,
    Column("id", Text, primary_key=True),
    Column("email", Text, nullable=False, unique=True),
    Column("password_hash", Text, nullable=False),
    Column("role", Text, nullable=False),
    Column("scope", Text, nullable=False, server_default=""),
    Column("created_us", BigInteger, nullable=False),
    Column("failed_logins", Integer, nullable=False, server_default="0"),
    Column("locked_until_us", BigInteger, nullable=True),
    Column("disabled", Boolean, nullable=False, server_default="0"),
)

#: The notification outbox: one row per message, claimed once by its dedupe key.
#: ``next_attempt_us`` is NULL once the message is sent or given up.
notifications = Table(
    "notifications",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("dedupe_key", Text, nullable=False, unique=True),
    Column("channel", Text, nullable=False),
    Column("recipient", Text, nullable=False),
    Column("subject", Text, nullable=False, server_default=""),
    Column("payload", Text, nullable=False),
    Column("created_us", BigInteger, nullable=False),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("next_attempt_us", BigInteger, nullable=True),
    Column("sent_us", BigInteger, nullable=True),
    Column("last_error", Text, nullable=True),
)
Index("ix_notifications_due", notifications.c.next_attempt_us)

#: Every delivery attempt of a notification, with its outcome.
notification_attempts = Table(
    "notification_attempts",
    metadata,
    Column("notification_id", Integer, nullable=False),
    Column("attempt", Integer, nullable=False),
    Column("started_us", BigInteger, nullable=False),
    Column("finished_us", BigInteger, nullable=False),
    Column("ok", Boolean, nullable=False),
    Column("error", Text, nullable=True),
    Column("worker", Text, nullable=False, server_default=""),
    PrimaryKeyConstraint("notification_id", "attempt"),
)

#: Anomalies found by the detectors: one row per episode of a (kind, scope, subject).
#: ``evidence`` is JSON: the hours behind it, observed against expected, in nano-USD.
anomalies = Table(
    "anomalies",
    metadata,
    Column("id", Text, primary_key=True),
    Column("kind", Text, nullable=False),
    Column("scope", Text, nullable=False),
    Column("subject", Text, nullable=False, server_default=""),
    Column("usage_type", Text, nullable=True),
    Column("department", Text, nullable=False, server_default=""),
    Column("started_us", BigInteger, nullable=False),
    Column("last_seen_us", BigInteger, nullable=False),
    Column("detected_us", BigInteger, nullable=False),
    Column("updated_us", BigInteger, nullable=False),
    Column("observed_nanos", BigInteger, nullable=False),
    Column("expected_nanos", BigInteger, nullable=False),
    Column("impact_nanos", BigInteger, nullable=False),
    Column("status", Text, nullable=False, server_default="open"),
    Column("note", Text, nullable=True),
    Column("description", Text, nullable=False, server_default=""),
    Column("evidence", Text, nullable=False, server_default="{}"),
    UniqueConstraint("kind", "scope", "subject", "started_us", name="uq_anomalies_identity"),
)
Index("ix_anomalies_started", anomalies.c.started_us)
Index("ix_anomalies_last_seen", anomalies.c.last_seen_us)

#: Scopes whose anomalies are not recorded until ``until_us`` (the scope and all below it).
anomaly_mutes = Table(
    "anomaly_mutes",
    metadata,
    Column("id", Text, primary_key=True),
    Column("scope", Text, nullable=False),
    Column("until_us", BigInteger, nullable=False),
    Column("reason", Text, nullable=False, server_default=""),
    Column("actor", Text, nullable=False, server_default=""),
    Column("created_us", BigInteger, nullable=False),
)
Index("ix_anomaly_mutes_until", anomaly_mutes.c.until_us)

#: Business outcome metrics, declared once per scope (``department:D``, ``project:D/P`` or
#: ``agent:D/P/A``) with a unit and, optionally, a value per unit in nano-USD.
outcome_metrics = Table(
    "outcome_metrics",
    metadata,
    Column("scope", Text, nullable=False),
    Column("metric", Text, nullable=False),
    Column("unit", Text, nullable=False),
    Column("value_nanos", BigInteger, nullable=True),
    Column("description", Text, nullable=False, server_default=""),
    Column("updated_us", BigInteger, nullable=False),
    PrimaryKeyConstraint("scope", "metric"),
)

#: Counted business outcomes, deduplicated by id. ``day`` is the organisation's local date
#: of ``ts_us`` (like the daily rollups); quantities are thousandths of the metric's unit.
outcomes = Table(
    "outcomes",
    metadata,
    Column("id", Text, primary_key=True),
    Column("ts_us", BigInteger, nullable=False),
    Column("day", Text, nullable=False),
    _dim("department"),
    _dim("project"),
    _dim("agent"),
    Column("metric", Text, nullable=False),
    Column("quantity_milli", BigInteger, nullable=False),
    Column("value_nanos", BigInteger, nullable=True),
    Column("source", Text, nullable=False, server_default=""),
    Column("created_us", BigInteger, nullable=False),
)
Index("ix_outcomes_day", outcomes.c.day)

#: The providers' own cost reports, normalised: one row per UTC day, provider, model and
#: line item. Importing a report replaces the provider's rows for the days it covers.
provider_costs = Table(
    "provider_costs",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("provider", Text, nullable=False),
    Column("day", Text, nullable=False),
    Column("model", Text, nullable=False, server_default=""),
    Column("line_item", Text, nullable=False, server_default=""),
    Column("cost_nanos", BigInteger, nullable=False),
    Column("credits_nanos", BigInteger, nullable=False, server_default="0"),
    Column("report_format", Text, nullable=False),
    Column("source", Text, nullable=False, server_default=""),
    Column("imported_us", BigInteger, nullable=False),
)
Index("ix_provider_costs_provider_day", provider_costs.c.provider, provider_costs.c.day)

#: Prompt logging switched on or off for a scope through the admin API or the CLI
#: (``org``, ``department:D``, ``project:D/P``, ``agent:D/P/A``, ``key:ID``); a row here
#: overrides the settings' rule for the same scope.
prompt_log_rules = Table(
    "prompt_log_rules",
    metadata,
    Column("scope", Text, primary_key=True),
    Column("enabled", Boolean, nullable=False),
    Column("retention_days", Integer, nullable=False),
    Column("actor", Text, nullable=False, server_default=""),
    Column("updated_us", BigInteger, nullable=False),
)

#: The request and answer bodies of a call whose scope has prompt logging on, as the
#: caller sent and received them (capped at ``gateway.log_prompts_max_bytes`` each; the
#: ``*_bytes`` columns hold the full sizes). Never any header. Deleted at ``expires_us``.
prompt_log = Table(
    "prompt_log",
    metadata,
    Column("event_id", Text, primary_key=True),
    Column("ts_us", BigInteger, nullable=False),
    _dim("department"),
    _dim("project"),
    _dim("agent"),
    _dim("key_id"),
    Column("scope", Text, nullable=False),
    Column("stream", Boolean, nullable=False),
    Column("request_body", LargeBinary, nullable=False),
    Column("request_bytes", BigInteger, nullable=False),
    Column("response_body", LargeBinary, nullable=False),
    Column("response_bytes", BigInteger, nullable=False),
    Column("expires_us", BigInteger, nullable=False),
)
Index("ix_prompt_log_expires", prompt_log.c.expires_us)
