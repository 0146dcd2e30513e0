"""One declarative settings class: a TOML file with ``LLMLEDGER_*`` environment overrides.

Every field carries a description; ``docs/configuration.md`` is generated from them and a
test fails when a setting is missing there. Secrets are never held in the file itself:
the file names the environment variable (``api_key_env``) and the value is read as a
`SecretStr`, so it never prints.
"""

from __future__ import annotations

import os
import tomllib
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from llmledger.guardrails.scopes import ScopeError, parse_scope
from llmledger.pricing.config import PricingConfig
from llmledger.reports.weeks import WeekError, parse_send_at
from llmledger.routing.rules import RoutingSettings

CONFIG_ENV = "LLMLEDGER_CONFIG"


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class OrganisationSettings(Section):
    name: str = Field("Acme", description="Organisation name shown in views and digests.")
    timezone: str = Field(
        "UTC", description="IANA time zone for days, months, periods and schedules."
    )
    fiscal_year_start_month: int = Field(
        1, ge=1, le=12, description="Month (1-12) in which the fiscal year starts."
    )
    annual_budget_usd: Decimal = Field(
        Decimal(0), ge=0, description="Annual LLM budget (USD) that YTD spend is read against."
    )
    monthly_budget_usd: Decimal = Field(
        Decimal(0), ge=0, description="Monthly allocation (USD) that MTD spend is read against."
    )
    currency: Literal["USD"] = Field("USD", description="Reporting currency (USD only).")

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r}") from None
        return value

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


class StoreSettings(Section):
    url: str = Field(
        "sqlite:///llmledger.db",
        description="Store URL: sqlite:///path.db (embedded) or postgresql://user@host/db.",
    )
    redis_url: str | None = Field(
        None,
        description="Optional Redis URL (redis://host:6379/0) shared by the replicas: per-key "
        "rate limits counted once for all of them, key revocations pushed to each at once, and "
        "(with PostgreSQL) budget holds decided in Redis first, the store checking them again.",
    )
    redis_timeout_s: float = Field(
        0.25,
        gt=0,
        le=30,
        description="Seconds a Redis command may take before the gateway falls back to rate "
        "limits held in its own memory and to budget holds decided by the store alone (the "
        "call is served either way).",
    )
    batch_max_events: int = Field(
        512, ge=1, description="Most writes committed together by the writer (group commit)."
    )
    batch_linger_ms: float = Field(
        5.0,
        ge=0,
        le=1000,
        description="How long the writer gathers writes nobody waits for (settlements) "
        "before committing them together; a reservation ends the wait at once.",
    )
    pool_size: int = Field(8, ge=1, description="PostgreSQL connection pool size.")
    connect_timeout_s: float = Field(
        5.0,
        gt=0,
        le=300,
        description="Seconds to open (or borrow from the pool) a PostgreSQL connection before "
        "the store counts as unreachable.",
    )
    statement_timeout_s: float = Field(
        30.0,
        ge=0,
        description="PostgreSQL statement_timeout of the server's connections, in seconds "
        "(0: none). The CLI's own connections (db upgrade, rebuild-rollups) have none.",
    )
    lease_s: float | None = Field(
        None,
        gt=0,
        description="Age (seconds) after which a reservation still open is taken as abandoned "
        "by a dead replica and settled at its reserved amount by any live one; default: the "
        "longest provider total_timeout_s plus 60.",
    )
    lease_check_s: float = Field(
        30.0, gt=0, le=3600, description="Seconds between two looks for abandoned reservations."
    )
    settle_retry_s: float = Field(
        120.0,
        ge=0,
        description="How long the writer keeps retrying a settlement that failed because the "
        "store was unreachable (past it the lease settles the call at its reserved amount).",
    )
    unreachable: Literal["fail_closed", "fail_open"] = Field(
        "fail_closed",
        description="When the store cannot record a reservation: fail_closed answers 503 in "
        "the provider's format; fail_open forwards the call and keeps it in a local durable "
        "journal replayed (once per event id) when the store returns; budgets are then not "
        "enforced.",
    )
    journal_path: str = Field(
        "llmledger-journal.jsonl",
        description="The fail_open journal: one file per replica, appended and fsynced; "
        "replayed at startup whatever the policy, so switching back to fail_closed loses "
        "nothing.",
    )
    journal_probe_s: float = Field(
        1.0,
        gt=0,
        le=60,
        description="Seconds between two pings of an unreachable store (fail_open): the "
        "journal is replayed into the store once it answers.",
    )
    retention_months: int | None = Field(
        None,
        ge=0,
        description="Months of raw events kept before the current UTC month; older months "
        "are dropped (whole partitions on PostgreSQL) by the periodic maintenance and by "
        "`llmledger db retention`, while every rollup stays. Default: keep all.",
    )
    partitions_ahead: int = Field(
        3,
        ge=1,
        le=36,
        description="PostgreSQL: monthly event partitions created ahead of the current "
        "month (at startup and by the periodic maintenance).",
    )
    maintenance_s: float = Field(
        3600.0,
        gt=0,
        description="Seconds between two rounds of store maintenance (event partitions "
        "ahead, retention).",
    )


class ServerSettings(Section):
    host: str = Field("127.0.0.1", description="Address `llmledger serve` listens on.")
    port: int = Field(8080, ge=0, le=65535, description="Port `llmledger serve` listens on.")
    public_url: str | None = Field(
        None, description="Base URL of the dashboard as users reach it (links in emails)."
    )
    max_body_bytes: int = Field(
        32 * 1024 * 1024, ge=1024, description="Largest request body the gateway accepts."
    )
    log_format: Literal["text", "json"] = Field(
        "text",
        description="Server log lines: text, or one JSON object per line with the request id "
        "of gateway calls (for log shippers).",
    )
    log_level: Literal["debug", "info", "warning", "error"] = Field(
        "info", description="Least severe server log lines written (with log_format json)."
    )
    session_secret_env: str | None = Field(
        None,
        description=(
            "Environment variable holding the secret that signs dashboard session cookies; "
            "when unset a random secret is made per process (sign-ins end at restart; set it "
            "when several replicas serve the dashboard)."
        ),
    )


class ProviderSettings(Section):
    base_url: str | None = Field(
        None, description="Upstream base URL; the provider's public endpoint when unset."
    )
    api_key_env: str | None = Field(
        None, description="Environment variable holding the gateway's provider credential."
    )
    connect_timeout_s: Decimal = Field(
        Decimal(10), gt=0, description="Seconds to open a connection upstream."
    )
    first_byte_timeout_s: Decimal = Field(
        Decimal(120), gt=0, description="Seconds to wait for the first byte of an answer."
    )
    total_timeout_s: Decimal = Field(
        Decimal(900), gt=0, description="Seconds a whole call (stream included) may take."
    )
    region: str | None = Field(None, description="AWS region (Bedrock only).")

    def credential(self) -> SecretStr | None:
        """The provider credential from the named environment variable, if set."""
        if not self.api_key_env:
            return None
        value = os.environ.get(self.api_key_env)
        return SecretStr(value) if value else None


def _default_provider(base_url: str, key_env: str | None, region: str | None = None) -> Any:
    return lambda: ProviderSettings(base_url=base_url, api_key_env=key_env, region=region)


class ProvidersSettings(Section):
    openai: ProviderSettings = Field(
        default_factory=_default_provider("https://api.openai.com/v1", "OPENAI_API_KEY"),
        description="OpenAI upstream.",
    )
    anthropic: ProviderSettings = Field(
        default_factory=_default_provider("https://api.anthropic.com", "ANTHROPIC_API_KEY"),
        description="Anthropic upstream.",
    )
    gemini: ProviderSettings = Field(
        default_factory=_default_provider(
            "https://generativelanguage.googleapis.com", "GEMINI_API_KEY"
        ),
        description="Google Gemini API upstream.",
    )
    bedrock: ProviderSettings = Field(
        default_factory=lambda: ProviderSettings(region="us-east-1"),
        description="AWS Bedrock runtime upstream (credentials from the AWS chain).",
    )


class GatewaySettings(Section):
    sandbox: bool = Field(
        False, description="Answer from the built-in sandbox upstream instead of providers."
    )
    allow_unpriced: bool = Field(
        True, description="Forward calls to models with no known price (recorded as unpriced)."
    )
    log_prompts: bool = Field(
        False,
        description="Store the request and answer bodies of every call (the org scope, kept "
        "log_prompts_retention_days); off: stored only for log_prompts_scopes, else never.",
    )
    log_prompts_scopes: dict[str, int] = Field(
        default_factory=dict,
        description="Scope (org, department:D, project:D/P, agent:D/P/A, key:ID) -> retention "
        "in days: the calls of these scopes have their bodies stored, deleted after that many "
        "days. 0 switches a scope off (under a scope that is on). The most specific rule wins; "
        "rules set through the API or CLI override these.",
    )
    log_prompts_retention_days: int = Field(
        30,
        ge=1,
        le=3650,
        description="Days stored bodies are kept with log_prompts = true (and the default of "
        "rules set through the API or CLI).",
    )
    log_prompts_max_bytes: int = Field(
        64 * 1024,
        ge=1024,
        le=16 * 1024 * 1024,
        description="Most bytes kept of each stored body (request, answer); the rest is cut.",
    )
    log_prompts_purge_interval_s: float = Field(
        3600.0,
        gt=0,
        le=86400,
        description="Seconds between two deletions of stored bodies past their retention.",
    )

    @field_validator("log_prompts_scopes")
    @classmethod
    def _prompt_scopes(cls, value: dict[str, int]) -> dict[str, int]:
        out: dict[str, int] = {}
        for text, days in value.items():
            try:
                scope = parse_scope(text)
            except ScopeError as exc:
                raise ValueError(str(exc)) from None
            if scope.kind == "end_user":
                raise ValueError(
                    f"{text!r}: prompt logging takes org, department, project, agent or key scopes"
                )
            if not 0 <= days <= 3650:
                raise ValueError(f"{text!r}: retention must be 0 (off) to 3650 days")
            out[scope.text] = days
        return out


class SmtpSettings(Section):
    host: str = Field("localhost", description="SMTP server host.")
    port: int = Field(587, ge=1, le=65535, description="SMTP server port.")
    from_: str = Field("llmledger@localhost", alias="from", description="Sender address of emails.")
    starttls: bool = Field(True, description="Upgrade the connection with STARTTLS.")
    username_env: str | None = Field(None, description="Environment variable: SMTP user.")
    password_env: str | None = Field(None, description="Environment variable: SMTP password.")
    use_tls: bool = Field(
        False, description="Connect with implicit TLS (port 465) instead of STARTTLS."
    )
    ca_file: str | None = Field(
        None, description="CA bundle verifying the server's certificate (system CAs when unset)."
    )
    timeout_s: int = Field(30, ge=1, description="Seconds an SMTP conversation may take.")

    def credentials(self) -> tuple[str, SecretStr] | None:
        """(user, password) from the named environment variables, when both are set."""
        user = os.environ.get(self.username_env) if self.username_env else None
        password = os.environ.get(self.password_env) if self.password_env else None
        return (user, SecretStr(password)) if user and password else None


class WebhookSettings(Section):
    url_env: str = Field(
        "LLMLEDGER_WEBHOOK_URL", description="Environment variable: the URL messages are POSTed to."
    )
    secret_env: str | None = Field(
        None,
        description="Environment variable: HMAC-SHA256 key signing each body "
        "(X-LLMLedger-Signature); unsigned when unset.",
    )
    timeout_s: int = Field(10, ge=1, description="Seconds one POST may take.")


class SlackSettings(Section):
    webhook_url_env: str = Field(
        "LLMLEDGER_SLACK_WEBHOOK_URL",
        description="Environment variable: the Slack incoming-webhook URL.",
    )
    timeout_s: int = Field(10, ge=1, description="Seconds one POST may take.")


class NotifySettings(Section):
    smtp: SmtpSettings | None = Field(None, description="Email over SMTP; off when unset.")
    webhook: WebhookSettings | None = Field(
        None, description="Generic JSON webhook (signed); off when unset."
    )
    slack: SlackSettings | None = Field(None, description="Slack incoming webhook; off when unset.")
    budget_check_s: float = Field(
        5.0, gt=0, le=3600, description="Seconds between two checks of budgets for alerts."
    )
    max_attempts: int = Field(
        8, ge=1, description="Attempts at delivering one message before giving up."
    )
    retry_base_s: int = Field(
        30, ge=1, description="Wait before the first retry; doubled after each failure."
    )
    retry_max_s: int = Field(3600, ge=1, description="Longest wait between two attempts.")
    poll_interval_s: int = Field(
        5, ge=1, description="Seconds between two looks at the outbox for due messages."
    )


class DigestSettings(Section):
    recipients: list[str] = Field(
        default_factory=list, description="Finance recipients of the weekly digest."
    )
    send_at: str = Field(
        "MON 08:00", description="Weekday and time the digest is sent, organisation time."
    )
    week_start: Literal["MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN"] = Field(
        "MON", description="First day of the digest's week (the week holding the ISO Thursday)."
    )
    department_owners: dict[str, list[str]] = Field(
        default_factory=dict,
        description="Department -> owner emails; each list gets the digest of its department.",
    )
    slack: bool = Field(False, description="Also post a compact digest to [notify.slack].")
    webhook: bool = Field(False, description="Also POST the digest's JSON to [notify.webhook].")
    dashboard_url: str | None = Field(
        None, description="Dashboard link in the digest (server.public_url when unset)."
    )
    catch_up_weeks: int = Field(
        4, ge=0, le=52, description="Most missed weeks sent (marked late) when the server returns."
    )
    movers: int = Field(
        5, ge=1, le=20, description="Biggest week-over-week movements shown per dimension."
    )

    @field_validator("send_at")
    @classmethod
    def _send_at(cls, value: str) -> str:
        try:
            parse_send_at(value)
        except WeekError as exc:
            raise ValueError(str(exc)) from None
        return value


class OtelSettings(Section):
    export_endpoint: str | None = Field(
        None,
        description="OTLP/HTTP traces URL (e.g. http://collector:4318/v1/traces) the gateway "
        "sends one GenAI span per call to, with its cost; off when unset.",
    )
    service_name: str = Field(
        "llmledger-gateway", description="service.name of the spans the gateway exports."
    )


class AnomalySettings(Section):
    enabled: bool = Field(
        True, description="Run the anomaly detectors in the server every check interval."
    )
    sensitivity: Literal["off", "low", "medium", "high"] = Field(
        "medium", description="Sensitivity of every detector (see docs/anomalies.md)."
    )
    scope_sensitivity: dict[str, Literal["off", "low", "medium", "high"]] = Field(
        default_factory=dict,
        description="Scope (org, department:D, project:D/P, agent:D/P/A, key:ID) -> "
        "sensitivity; the most specific configured scope wins.",
    )
    min_impact_usd: Decimal = Field(
        Decimal(50),
        ge=0,
        description="Dollar impact an anomaly must reach before it is sent to the alert "
        "channels (smaller ones are only listed).",
    )
    check_interval_s: float = Field(
        300.0, ge=10, le=86400, description="Seconds between two runs of the detectors."
    )
    history_weeks: int = Field(
        8, ge=3, le=26, description="Weeks of history behind the seasonal baseline."
    )
    recipients: list[str] = Field(
        default_factory=list,
        description="Email recipients of anomaly alerts (the digest's recipients when empty).",
    )


class Settings(BaseSettings):
    """All of llmledger's settings. See docs/configuration.md."""

    model_config = SettingsConfigDict(
        env_prefix="LLMLEDGER_",
        env_nested_delimiter="__",
        extra="forbid",
        populate_by_name=True,
    )

    organisation: OrganisationSettings = Field(
        default_factory=lambda: OrganisationSettings(), description="The organisation."
    )
    store: StoreSettings = Field(
        default_factory=lambda: StoreSettings(), description="Where the ledger lives."
    )
    server: ServerSettings = Field(
        default_factory=lambda: ServerSettings(), description="The HTTP server."
    )
    providers: ProvidersSettings = Field(
        default_factory=lambda: ProvidersSettings(), description="Upstream providers."
    )
    gateway: GatewaySettings = Field(
        default_factory=lambda: GatewaySettings(), description="Gateway behaviour."
    )
    notify: NotifySettings = Field(
        default_factory=lambda: NotifySettings(), description="Alert and digest channels."
    )
    digest: DigestSettings = Field(
        default_factory=lambda: DigestSettings(), description="The weekly digest."
    )
    otel: OtelSettings = Field(
        default_factory=lambda: OtelSettings(), description="OpenTelemetry span export."
    )
    anomalies: AnomalySettings = Field(
        default_factory=lambda: AnomalySettings(), description="Anomaly detection and alerts."
    )
    pricing: PricingConfig = Field(
        default_factory=lambda: PricingConfig(),
        description="Custom models, contract discounts and negotiated prices.",
    )
    routing: RoutingSettings = Field(
        default_factory=lambda: RoutingSettings(),
        description="Smart routing: rules that send simple calls to cheaper models.",
    )
    admin_token: SecretStr | None = Field(
        None, description="Bootstrap admin API token (LLMLEDGER_ADMIN_TOKEN)."
    )

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # The environment overrides the file, which arrives as init values.
        return (env_settings, init_settings)

    @classmethod
    def load(cls, path: Path | None = None, **overrides: Any) -> Settings:
        """Settings from `path` (or $LLMLEDGER_CONFIG), the environment, then overrides."""
        values: dict[str, Any] = {}
        chosen = path or (Path(os.environ[CONFIG_ENV]) if os.environ.get(CONFIG_ENV) else None)
        if chosen is not None:
            try:
                values = tomllib.loads(chosen.read_text(encoding="utf-8"))
            except FileNotFoundError:
                raise SettingsError(f"config file not found: {chosen}") from None
            except tomllib.TOMLDecodeError as exc:
                raise SettingsError(f"config file {chosen} is not valid TOML: {exc}") from None
        settings = cls(**values)
        if overrides:
            settings = settings.model_copy(update=overrides)
        return settings


class SettingsError(ValueError):
    """The configuration cannot be read."""
