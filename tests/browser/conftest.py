"""A real browser for the web pages: Playwright driving Debian's `chromium` by its path.

Browser downloads fail here, so Playwright never fetches one: the executable comes from
`DPI_CHROMIUM` or the system package. Without it the tests skip with the reason on a developer's
machine and fail in CI, where `.ci/run` installs the package.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest

LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1", "[::1]"})


def chromium_path() -> str | None:
    return (
        os.environ.get("DPI_CHROMIUM")
        or shutil.which("chromium")
        or shutil.which("chromium-browser")
    )


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """One headless Chromium per test module.

    Not per session: while Playwright's sync API runs, its event loop is the thread's running
    loop, and every async test after it in the same process would fail to start its own."""
    executable = chromium_path()
    if executable is None:
        reason = "Debian's chromium is not installed (apt-get install chromium)"
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=executable, headless=True)
        try:
            yield instance
        finally:
            instance.close()


def block_non_loopback(context: Any, refused: list[str]) -> None:
    """Abort every request that leaves the machine (loopback and files stay), recording its URL:
    the pages must work offline."""

    def route(route: Any) -> None:
        url = route.request.url
        host = urlsplit(url).hostname or ""
        if url.startswith(("data:", "blob:", "about:", "file:")) or host in LOOPBACK_HOSTS:
            route.continue_()
        else:
            refused.append(url)
            route.abort()

    context.route("**/*", route)


def console_errors(page: Any) -> list[str]:
    """What the page reports as errors (a script or request the page's policy refused, say)."""
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    return errors


@pytest.fixture
def offline_page(browser: Any) -> Iterator[tuple[Any, list[str]]]:
    """A fresh page whose network reaches loopback only; the list names what was refused."""
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    refused: list[str] = []
    block_non_loopback(context, refused)
    page = context.new_page()
    try:
        yield page, refused
    finally:
        context.close()
