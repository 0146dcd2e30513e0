"""Screenshots of every dashboard page from the demo, for the README and docs.

    .venv/bin/python docs/render_screenshots.py [--out docs/screenshots] [--days 365]

Builds the demo store (seed 42) in a temporary folder, serves it on loopback without live
traffic, signs in with Playwright driving Debian's Chromium, and saves a PNG per page.
"""

from __future__ import annotations

import argparse
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import uvicorn
from playwright.sync_api import sync_playwright

from llmledger.app import create_app
from llmledger.demo.setup import build_demo, demo_settings

PAGES = {
    "executive": "/",
    "organisation": "/organisation",
    "attribution": "/attribution",
    "guardrails": "/guardrails",
    "requests": "/requests",
    "savings": "/savings",
    "anomalies": "/anomalies",
    "roi": "/roi",
    "reconciliation": "/reconciliation",
    "settings": "/settings",
}
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", default="docs/screenshots")
    parser.add_argument("--days", type=int, default=365)
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        demo = build_demo(Path(tmp) / "demo.db", now=datetime.now(UTC), days=args.days, seed=42)
        app = create_app(demo_settings(demo.store_path, demo.budgets, admin_token=demo.admin_token))
        server = uvicorn.Server(
            uvicorn.Config(app, host="127.0.0.1", port=0, lifespan="on", log_level="warning")
        )
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        while not server.started:
            time.sleep(0.05)
        url = f"http://127.0.0.1:{server.servers[0].sockets[0].getsockname()[1]}"
        try:
            with sync_playwright() as pw:
                browser = pw.chromium.launch(
                    executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS
                )
                page = browser.new_page(viewport={"width": 1440, "height": 900})
                page.goto(url + "/login")
                page.fill("input[name=email]", demo.admin_email)
                page.fill("input[name=password]", demo.admin_password)
                page.click("button[type=submit]")
                page.wait_for_load_state("networkidle")
                for name, path in PAGES.items():
                    response = page.goto(url + path)
                    if response is None or response.status >= 400:
                        continue
                    page.wait_for_load_state("networkidle")
                    if page.locator(".chart[data-chart]").count():
                        page.wait_for_selector(".chart[data-ready] canvas")
                    page.screenshot(path=str(out / f"{name}.png"), full_page=False)
                    print(f"wrote {out / name}.png")  # noqa: T201
                browser.close()
        finally:
            server.should_exit = True
            thread.join(30)


if __name__ == "__main__":
    main()
