"""The workshop console in a real browser, on a real sandbox started with it (`dpi up` does)."""

from __future__ import annotations

import os
import shlex
import subprocess
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from sandbox.console.graph import key_of
from sandbox.launcher import Launcher, LaunchError, free_offset
from sandbox.scenarios.parser import BODIES_ENV
from services.kernel.topology import load_topology

pytestmark = [pytest.mark.browser, pytest.mark.e2e]
EDUCATION = "DPI/GOV/MOE/emis"
SCENARIO = "consent-gated-sharing"


@pytest.fixture(scope="module")
def console_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A sandbox with its console, bodies logged in full (as `dpi demo` runs it)."""
    topology = load_topology()
    saved = os.environ.get(BODIES_ENV)
    os.environ[BODIES_ENV] = "full"
    data = tmp_path_factory.mktemp("console-e2e")
    launcher = Launcher(topology, data, free_offset(topology), console=True)
    try:
        launcher.start()
        launcher.wait_ready(timeout=90)
    except LaunchError as exc:
        launcher.stop()
        pytest.fail(f"the sandbox did not start: {exc}", pytrace=False)
    finally:
        if saved is None:
            os.environ.pop(BODIES_ENV, None)
        else:
            os.environ[BODIES_ENV] = saved
    try:
        yield f"http://127.0.0.1:{topology.control_port + launcher.port_offset}"
    finally:
        launcher.stop()


def finished_run(console_url: str) -> str:
    """The id of a finished run of SCENARIO (started here when none has run yet)."""
    with httpx.Client(base_url=console_url, timeout=10) as client:
        runs = client.get("/runs").text
        if "static report" not in runs:
            started = client.post(f"/scenarios/{SCENARIO}/run")
            assert started.status_code == 303
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            page = client.get("/runs").text
            if "static report" in page and 'id="batch"' not in page:
                return page.split('<a href="/runs/', 1)[1].split('"', 1)[0]
            time.sleep(0.2)
    raise AssertionError("no scenario run finished within 120 s")


def test_the_map_renders_every_topology_node(
    offline_page: tuple[Any, list[str]], console_url: str
) -> None:
    page, refused = offline_page
    page.goto(console_url)
    topology = load_topology()
    for member_id in topology.subsystems():
        assert page.locator(f"#node-{key_of(member_id)}").is_visible()
    assert page.locator("#node-mediator").is_visible()
    page.wait_for_function(  # readiness, pushed over SSE
        f"document.querySelectorAll('#map .node.service.ready').length == {len(topology.services)}",
        timeout=15_000,
    )
    page.click("#node-DPI-GOV-MOH-hmis")
    page.wait_for_selector("#panel:has-text('DHIS2 Web API (2.42)')")
    assert page.locator("#panel a", has_text="API docs").get_attribute("href", timeout=5_000)
    page.locator("#edge-DPI-GOV-MOE-emis path.hit").click()
    page.wait_for_selector("#panel:has-text('What DPI/GOV/MOE/emis may call')")
    assert "DPI/GOV/MOH/hmis/immunisation-status" in (page.text_content("#panel") or "")
    assert refused == []


def test_running_a_scenario_animates_an_edge_and_lists_steps_live(
    offline_page: tuple[Any, list[str]], console_url: str
) -> None:
    watching, refused = offline_page
    watching.goto(console_url)
    watching.wait_for_selector("#live.on")
    runner = watching.context.new_page()
    runner.goto(f"{console_url}/scenarios")
    runner.locator("tr", has_text=SCENARIO).get_by_role("button", name="Run").click()
    runner.wait_for_url("**/runs/*")
    runner.wait_for_selector("#steps tr.passed", timeout=30_000)  # a step passed, page not reloaded
    watching.wait_for_function(
        "[...document.querySelectorAll('#map .edge')].some(e => Number(e.dataset.flows) > 0)",
        timeout=30_000,
    )
    # a refusal in red with its reason: the school asks before the guardian consented
    watching.wait_for_selector("#feed li.bad:has-text('Consent denied')", timeout=30_000)
    runner.wait_for_selector("#done", timeout=120_000)  # reloaded once finished
    assert runner.get_attribute("#done", "data-ok") == "1"
    assert "No direct identifier crossed" in (runner.text_content("#leaks") or "")
    assert runner.locator("#diagram svg").count() == 1
    assert refused == []


def test_the_log_filters_by_consumer_and_opens_a_classified_record(
    offline_page: tuple[Any, list[str]], console_url: str
) -> None:
    finished_run(console_url)
    page, refused = offline_page
    page.goto(f"{console_url}/log")
    page.select_option("#f-client", EDUCATION)
    page.click("#apply")
    page.wait_for_url("**/log?*client=*")
    clients = page.locator("table.log tbody tr td:nth-child(3)").all_text_contents()
    assert clients and set(clients) == {EDUCATION}
    page.locator("table.log tbody tr", has_text="id-registry/idauth").first.locator("a").click()
    page.wait_for_url("**/log/*")
    tags = page.locator("table.fields .tag").all_text_contents()
    assert "Direct identifier" in tags  # the UIN the school sends to the ID system
    assert "verifies up to this record" in (page.text_content("#chain") or "")
    assert refused == []


def test_the_credentials_pages_dhis2_curl_answers_200(
    offline_page: tuple[Any, list[str]], console_url: str
) -> None:
    page, refused = offline_page
    page.goto(f"{console_url}/people")
    for name in ("sectoral_platform", "interop_layer"):
        command = shlex.split(page.text_content(f"#curl-{name}") or "")
        assert command[0] == "curl"
        done = subprocess.run(
            [*command, "-o", "/dev/null", "-w", "%{http_code}"],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
        assert done.stdout == "200", (name, done.stdout, done.stderr)
    assert refused == []
