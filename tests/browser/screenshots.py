"""Screenshots of the console's four pages for docs/ (run against a sandbox with some runs):

.venv/bin/python -m tests.browser.screenshots http://127.0.0.1:8000
"""

from __future__ import annotations

import sys
from pathlib import Path

from playwright.sync_api import ViewportSize, sync_playwright

from tests.browser.conftest import chromium_path

DOCS = Path(__file__).resolve().parents[2] / "docs"
SIZE: ViewportSize = {"width": 1400, "height": 860}


def main(url: str) -> None:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path(), headless=True)
        page = browser.new_page(viewport=SIZE)
        page.goto(f"{url}/runs")
        run = page.locator("tr", has_text="Consent-gated").locator("a").first.get_attribute("href")
        shots = {
            "console-log.png": "/log",
            "console-scenario.png": run,
            "console-people.png": "/people",
        }
        for name, path in shots.items():
            page.goto(f"{url}{path}")
            page.screenshot(path=DOCS / name)
        # the map while a scenario crosses it
        page.goto(url)
        page.wait_for_selector("#live.on")
        runner = browser.new_page(viewport=SIZE)
        runner.goto(f"{url}/scenarios")
        runner.locator("tr", has_text="consent-gated-sharing").get_by_role("button").click()
        page.wait_for_function("document.querySelectorAll('#feed li').length > 8", timeout=60_000)
        page.click("#node-DPI-GOV-MOE-emis")
        page.wait_for_selector("#panel table")
        page.wait_for_function("document.querySelector('#flows circle') !== null")
        page.screenshot(path=DOCS / "console-map.png")
        browser.close()


if __name__ == "__main__":
    main(sys.argv[1].rstrip("/") if len(sys.argv) > 1 else "http://127.0.0.1:8000")
