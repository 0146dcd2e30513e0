"""One server replica for the schedule test: a NotifyService with a frozen clock.

``python tests/digest/replica.py STORE_URL SMTP_PORT NOW_ISO SECONDS``
"""

from __future__ import annotations

import asyncio
import datetime as dt
import sys

from llmledger.ledger.store import Store
from llmledger.reports.service import NotifyService
from llmledger.settings import Settings


def replica_settings(store_url: str, smtp_port: int) -> Settings:
    return Settings.model_validate(
        {
            "organisation": {
                "name": "Acme",
                "timezone": "America/New_York",
                "annual_budget_usd": "80000",
                "monthly_budget_usd": "15000",
            },
            "store": {"url": store_url},
            "server": {"public_url": "https://ledger.example.com"},
            "notify": {
                "smtp": {"host": "127.0.0.1", "port": smtp_port, "starttls": False},
                "poll_interval_s": 1,
            },
            "digest": {
                "recipients": ["cfo@example.com", "finance@example.com"],
                "department_owners": {"Engineering": ["eng-lead@example.com"]},
            },
        }
    )


async def main(url: str, port: int, now: dt.datetime, seconds: float) -> None:
    settings = replica_settings(url, port)
    store = Store.open(url, settings.organisation.zone)
    store.upgrade()
    service = NotifyService(settings, store, clock=lambda: now, schedule_interval_s=0.2)
    await service.start()
    await asyncio.sleep(seconds)
    await service.stop()
    store.close()


if __name__ == "__main__":
    asyncio.run(
        main(
            sys.argv[1],
            int(sys.argv[2]),
            dt.datetime.fromisoformat(sys.argv[3]),
            float(sys.argv[4]),
        )
    )
