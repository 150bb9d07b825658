"""Every service's `/docs` and `/redoc` in a real browser with the internet blocked: the pages
load their assets from the service itself, list the operations, and "Authorize" offers the
security schemes the document declares (and a credential given there reaches the service)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import httpx
import pytest

from services.kernel.docs import assets_directory
from services.kernel.testing import serve_on_loopback
from tests.browser.conftest import console_errors
from tests.conftest import scratch_database
from tests.security.contracts_services import ADMIN_KEY, SERVICES

pytestmark = pytest.mark.browser
DEADLINE_MS = 20_000


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """The five services, each on its own loopback port, wired as the contract tests wire them."""
    bases: dict[str, str] = {}
    with ExitStack() as stack:
        for name, wiring in sorted(SERVICES.items()):
            folder = tmp_path_factory.mktemp(name)
            url = stack.enter_context(scratch_database(f"docs_{name}", folder / "service.db"))
            app = wiring.build(url, folder / "data")
            bases[name] = stack.enter_context(serve_on_loopback(app, deadline=30))
        yield bases


def declared_schemes(base: str) -> dict[str, dict[str, Any]]:
    document = httpx.get(f"{base}/openapi.json").raise_for_status().json()
    schemes: dict[str, dict[str, Any]] = document["components"]["securitySchemes"]
    return schemes


@pytest.mark.parametrize("name", sorted(SERVICES))
def test_swagger_ui_renders_offline_and_offers_the_declared_schemes(
    served: dict[str, str], offline_page: tuple[Any, list[str]], name: str
) -> None:
    page, refused = offline_page
    loaded: list[str] = []
    page.on("requestfinished", lambda request: loaded.append(request.url))
    errors = console_errors(page)
    page.goto(f"{served[name]}/docs")
    page.wait_for_selector(".opblock", timeout=DEADLINE_MS)
    assert page.locator(".opblock").count() > 5  # the operation list, not an error box
    assert page.locator(".errors-wrapper").count() == 0
    assert any(url.endswith("/docs/assets/swagger-ui-bundle.js") for url in loaded)
    assert refused == [] and errors == []  # nothing asked of the internet, nothing refused

    page.click("button.authorize")
    page.wait_for_selector(".auth-container", timeout=DEADLINE_MS)
    shown = page.locator(".auth-container h4").all_inner_texts()
    offered = {text.split("(")[0].strip() for text in shown}
    assert offered == set(declared_schemes(served[name]))
    assert {"adminKey", "adminBearer"} <= offered  # every service's admin routes
    assert refused == []


def authorize(page: Any, scheme: str, values: dict[str, str]) -> None:
    """Fill one scheme's inputs in the "Authorize" dialog (selector -> value) and close it."""
    page.click("button.authorize")
    form = page.locator(".auth-container").filter(
        has=page.locator("h4", has_text=re.compile(rf"^{scheme}\b"))
    )
    for selector, value in values.items():
        form.locator(selector).fill(value)
    form.locator("button.authorize").click()
    page.click("button.btn-done")


def try_it_out(page: Any, path: str) -> tuple[str, str]:
    """Execute the GET operation on `path` from its panel; the status and body shown."""
    operation = page.locator(".opblock-get").filter(has=page.locator(f'[data-path="{path}"]'))
    if not operation.locator("button.execute").is_visible():
        operation.locator(".opblock-summary").first.click()
    clear = operation.locator("button.btn-clear")
    if clear.count():  # the last answer goes, so the one read below is this call's
        clear.click()
    operation.locator("button.execute").click()
    status = operation.locator(".live-responses-table tbody .response-col_status").first
    status.wait_for(timeout=DEADLINE_MS)
    return status.inner_text().strip(), operation.locator(".live-responses-table").inner_text()


def test_authorize_with_dhis2_basic_then_try_it_out_gets_the_user(
    served: dict[str, str], offline_page: tuple[Any, list[str]]
) -> None:
    page, refused = offline_page
    page.goto(f"{served['sectoral_platform']}/docs")
    page.wait_for_selector(".opblock", timeout=DEADLINE_MS)
    authorize(page, "dhis2Basic", {"input[type=text]": "admin", "input[type=password]": "district"})
    status, body = try_it_out(page, "/api/me")
    assert status == "200" and '"username": "admin"' in body
    assert refused == []


def test_the_admin_key_given_to_authorize_reaches_an_admin_route(
    served: dict[str, str], offline_page: tuple[Any, list[str]]
) -> None:
    page, refused = offline_page
    page.goto(f"{served['interop_layer']}/docs")
    page.wait_for_selector(".opblock", timeout=DEADLINE_MS)
    status, _ = try_it_out(page, "/admin/subsystems")
    assert status == "401"  # before: no key sent
    authorize(page, "adminKey", {"input": ADMIN_KEY})
    status, body = try_it_out(page, "/admin/subsystems")
    assert status == "200" and "DPI/GOV/MOH/hmis" in body
    assert refused == []


@pytest.mark.parametrize("name", sorted(SERVICES))
def test_redoc_renders_offline(
    served: dict[str, str], offline_page: tuple[Any, list[str]], name: str
) -> None:
    page, refused = offline_page
    errors = console_errors(page)
    page.goto(f"{served[name]}/redoc")
    page.wait_for_selector("[data-section-id]", timeout=DEADLINE_MS)
    assert page.locator("[data-section-id]").count() > 5
    assert refused == []
    # ReDoc's sidebar always asks a CDN for its logo: the page's policy stops it in the browser
    assert all("logo-mini.svg" in error for error in errors), errors


def test_docs_assets_are_the_packaged_bundles(served: dict[str, str]) -> None:
    """What `/docs` loads is the `fastapi-offline` bundle, byte for byte."""
    for asset in ("swagger-ui-bundle.js", "swagger-ui.css", "redoc.standalone.js"):
        served_bytes = httpx.get(f"{served['consent']}/docs/assets/{asset}").content
        assert served_bytes == (Path(assets_directory()) / asset).read_bytes()
