"""A fresh demo store: keys, the admin user, budgets, a year of events, a config file."""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from pathlib import Path

from pydantic import SecretStr

from llmledger.demo import company
from llmledger.demo.generator import Generated, OrgBudgets, estimate, generate
from llmledger.demo.outcomes import add_outcomes, add_provider_reports
from llmledger.guardrails.budgets import set_budget
from llmledger.guardrails.periods import Period
from llmledger.ledger.audit import record_change
from llmledger.ledger.keys import create_key
from llmledger.ledger.store import Store
from llmledger.ledger.users import Role, create_user
from llmledger.pricing import PriceCatalog
from llmledger.settings import (
    GatewaySettings,
    OrganisationSettings,
    ServerSettings,
    Settings,
    StoreSettings,
)


@dataclass(frozen=True, slots=True)
class DemoKey:
    id: str
    secret: str
    department: str
    project: str
    agent: str
    provider: str
    model: str


@dataclass(frozen=True, slots=True)
class Demo:
    store_path: Path
    config_path: Path
    seed: int
    events: int
    seconds: float
    budgets: OrgBudgets
    admin_email: str
    admin_password: str
    admin_token: str
    live_keys: tuple[DemoKey, ...]

    @property
    def showcase_key(self) -> DemoKey:
        return next(
            k
            for k in self.live_keys
            if (k.department, k.project, k.agent) == company.SHOWCASE_AGENT
        )


def remove_store(path: Path) -> None:
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


def demo_settings(
    store_path: Path, budgets: OrgBudgets, *, port: int = 8080, admin_token: str | None = None
) -> Settings:
    """The demo's settings: its organisation and budgets, its store, the sandbox upstream.

    Built from the defaults and then replaced, so no ``LLMLEDGER_*`` variable can point the
    demo at another store."""
    organisation = OrganisationSettings(
        name=company.ORG_NAME,
        timezone=company.ORG_TIMEZONE,
        fiscal_year_start_month=budgets.fiscal_year_start_month,
        annual_budget_usd=budgets.annual_budget_usd,
        monthly_budget_usd=budgets.monthly_budget_usd,
    )
    update: dict[str, object] = {
        "organisation": organisation,
        "store": StoreSettings(url=f"sqlite:///{store_path}"),
        "server": ServerSettings(host="127.0.0.1", port=port),
        "gateway": GatewaySettings(sandbox=True),
    }
    if admin_token is not None:
        update["admin_token"] = SecretStr(admin_token)
    return Settings.model_construct().model_copy(update=update)


def config_text(store_path: Path, budgets: OrgBudgets) -> str:
    """A TOML file that points `llmledger --config FILE ...` at the demo store."""
    return (
        "# Written by `llmledger demo`: use with `llmledger --config THIS_FILE ...`.\n"
        "[organisation]\n"
        f'name = "{company.ORG_NAME}"\n'
        f'timezone = "{company.ORG_TIMEZONE}"\n'
        f"fiscal_year_start_month = {budgets.fiscal_year_start_month}\n"
        f'annual_budget_usd = "{budgets.annual_budget_usd}"\n'
        f'monthly_budget_usd = "{budgets.monthly_budget_usd}"\n\n'
        "[store]\n"
        f'url = "sqlite:///{store_path.as_posix()}"\n\n'
        "[gateway]\n"
        "sandbox = true\n"
    )


def _keys(store: Store) -> tuple[dict[str, str], list[DemoKey]]:
    ids: dict[str, str] = {}
    live: list[DemoKey] = []
    wanted = {(d, p, a): (prov, model) for d, p, a, prov, model in company.LIVE_AGENTS}
    with store.write() as conn:
        for agent in company.AGENTS:
            key, secret = create_key(
                conn,
                department=agent.department,
                project=agent.project,
                agent=agent.name,
                name=f"{agent.name} (demo)",
            )
            record_change(conn, "demo", "key.create", key.id, None, key.as_json())
            ids[agent.scope] = key.id
            where = (agent.department, agent.project, agent.name)
            if where in wanted:
                provider, model = wanted[where]
                live.append(DemoKey(key.id, secret, *where, provider, model))
    return ids, live


def _budgets(store: Store, scale: Decimal) -> None:
    with store.write() as conn:
        for agent in company.AGENTS:
            if agent.budget is not None:
                set_budget(
                    conn,
                    scope=agent.scope,
                    limit_usd=agent.budget.limit_usd * scale,
                    period=Period.MONTH,
                    enforced=agent.budget.enforced,
                    owners=agent.budget.owners,
                    actor="demo",
                )
        for b in company.SCOPE_BUDGETS:
            set_budget(
                conn,
                scope=b.scope,
                limit_usd=b.limit_usd * scale,
                period=Period(b.period),
                enforced=b.enforced,
                owners=b.owners,
                actor="demo",
            )


def build_demo(
    store_path: Path,
    *,
    now: datetime,
    days: int,
    seed: int,
    scale: Decimal = Decimal(1),
    catalog: PriceCatalog | None = None,
    progress: Callable[[int], None] | None = None,
    on_estimate: Callable[[int], None] | None = None,
) -> Demo:
    """Create the demo store at `store_path` (replacing any file there)."""
    started = time.perf_counter()
    store_path = store_path.expanduser().resolve()
    remove_store(store_path)
    zone = OrganisationSettings(timezone=company.ORG_TIMEZONE).zone
    catalog = catalog or PriceCatalog.build()
    store = Store.open(f"sqlite:///{store_path}", zone)
    try:
        store.upgrade()
        key_ids, live = _keys(store)
        password = secrets.token_urlsafe(12)
        with store.write() as conn:
            create_user(conn, company.ADMIN_EMAIL, password, Role.ADMIN)
        _budgets(store, scale)
        if on_estimate is not None:
            on_estimate(estimate(catalog, zone, now=now, days=days, scale=scale))
        generated: Generated = generate(
            store, catalog, key_ids, now=now, days=days, seed=seed, scale=scale, progress=progress
        )
        add_outcomes(store, now=now, days=days, scale=scale)
        add_provider_reports(store, now=now, days=days, scale=scale)
    finally:
        store.close()
    config_path = store_path.with_suffix(".toml")
    config_path.write_text(config_text(store_path, generated.budgets), encoding="utf-8")
    return Demo(
        store_path=store_path,
        config_path=config_path,
        seed=seed,
        events=generated.events,
        seconds=time.perf_counter() - started,
        budgets=generated.budgets,
        admin_email=company.ADMIN_EMAIL,
        admin_password=password,
        admin_token="llt_" + secrets.token_urlsafe(24),
        live_keys=tuple(live),
    )
