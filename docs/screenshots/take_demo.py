"""Screenshots of the demo for the README: each role's main pages, in Japanese.

Runs against a demo exchange that has cleared and settled some intervals:

    WATTBIT_VAR_DIR=/tmp/wattbit-shots make run &            # serves :8000
    WATTBIT_VAR_DIR=/tmp/wattbit-shots DEBUG=1 .venv/bin/python manage.py \
        run_market --intervals 12 --settle
    .venv/bin/python docs/screenshots/take_demo.py http://127.0.0.1:8000

Uses Debian's chromium (WATTBIT_CHROMIUM to point elsewhere); writes docs/screenshots/*.png.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from playwright.sync_api import sync_playwright

HERE = Path(__file__).resolve().parent
PASSWORD = "wattbit-demo-2026"  # noqa: S105 — the demo's shared password, printed by `make run`
SHOTS = [
    # file, demo login, path, full page
    ("dashboard-demo-ja", "owner", "/", False),
    ("impact-owner-ja", "owner", "/impact/", True),
    ("results-provider-ja", "provider", "/market/results/", False),
    ("awards-supplier-ja", "supplier", "/market/awards/", False),
    ("report-regulator-ja", "regulator", "/reports/", False),
]


def main(base: str) -> None:
    chromium = os.environ.get("WATTBIT_CHROMIUM", "/usr/bin/chromium")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        contexts = {}
        for name, login, path, full in SHOTS:
            if login not in contexts:
                context = browser.new_context(
                    locale="ja-JP", viewport={"width": 1280, "height": 900}
                )
                page = context.new_page()
                page.goto(f"{base}/login/")
                page.fill("#id_username", login)
                page.fill("#id_password", PASSWORD)
                page.click("main button[type=submit]")
                page.wait_for_url(f"{base}/")
                contexts[login] = page
            page = contexts[login]
            page.goto(f"{base}{path}")
            page.wait_for_load_state("load")
            page.wait_for_timeout(800)  # the charts' entry animation
            page.screenshot(path=str(HERE / f"{name}.png"), full_page=full)
            print(f"{name}.png  ({login} {path})")
        browser.close()


if __name__ == "__main__":
    main(sys.argv[1].rstrip("/") if len(sys.argv) > 1 else "http://127.0.0.1:8000")
