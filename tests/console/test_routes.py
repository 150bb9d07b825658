"""The console's pages in-process, on a real mediator: map, log and filters, record, 404s."""

from __future__ import annotations

import re

import pytest

from sandbox.console.graph import key_of
from sandbox.console.runs import Batch, scenarios
from sandbox.scenarios.results import Call, RunResult, StepResult
from sandbox.trace.build import build_trace
from sandbox.trace.report import write_trace
from services.kernel.credentials import client_key
from services.kernel.topology import load_topology
from tests.interop_layer.support import EDUCATION, HEALTH

pytestmark = pytest.mark.anyio


def seqs(html: str) -> list[int]:
    return [int(n) for n in re.findall(r'<td><a href="/log/(\d+)">', html)]


async def test_the_map_draws_every_topology_node_and_an_edge_to_each(console):
    _, client = console
    html = (await client.get("/")).text
    topology = load_topology()
    subsystems = list(topology.subsystems())
    assert len(subsystems) == 6
    for member_id in subsystems:
        assert f'id="node-{key_of(member_id)}"' in html
        assert f'id="edge-{key_of(member_id)}"' in html
    assert 'id="node-mediator"' in html and html.count('class="node ') == 7
    assert html == (await client.get("/")).text  # the layout is stable


async def test_log_newest_first_and_filters(console):
    _, client = console
    assert seqs((await client.get("/log")).text) == [4, 3, 2, 1]
    assert seqs((await client.get("/log", params={"client": EDUCATION})).text) == [4, 3, 2]
    assert seqs((await client.get("/log", params={"client": HEALTH})).text) == [1]
    assert seqs((await client.get("/log", params={"consent": "deny"})).text) == [4]
    assert seqs((await client.get("/log", params={"consent": "permit"})).text) == [3]
    assert seqs((await client.get("/log", params={"outcome": "Failed"})).text) == [4, 2]
    assert seqs((await client.get("/log", params={"purpose": "marketing"})).text) == [4]
    assert seqs((await client.get("/log", params={"provider": HEALTH})).text) == [4, 3]
    assert seqs((await client.get("/log", params={"before": 3})).text) == [2, 1]
    assert seqs((await client.get("/log", params={"since": "2999-01-01T00:00"})).text) == []


async def test_a_record_shows_classified_fields_consent_and_the_chain(console):
    _, client = console
    page = (await client.get("/log/1")).text
    assert re.search(r"<code>uin</code></td><td><span class=\"tag direct_identifier\">", page)
    assert re.search(r"<code>name</code></td><td><span class=\"tag quasi_identifier\">", page)
    assert "4820193746" in page  # the request body, logged in full
    assert "*** (never logged)" in page
    assert 'id="chain">✓ the chain verifies up to this record' in page
    denied = (await client.get("/log/4")).text
    assert "deny (decision dec-" in denied and "Server.ServerProxy.AccessDenied" in denied


async def test_unknown_things_are_404_pages_naming_what_exists(console):
    _, client = console
    record = await client.get("/log/99")
    assert record.status_code == 404 and 'href="/log/4"' in record.text
    run = await client.get("/runs/nosuchrun")
    assert run.status_code == 404 and "No run &#x27;nosuchrun&#x27;" in run.text
    scenario = await client.post("/scenarios/nosuch/run")
    assert scenario.status_code == 404 and "consent-gated-sharing" in scenario.text
    node = await client.get("/map/node/nowhere")
    assert node.status_code == 404 and "DPI-GOV-MOH-hmis" in node.text
    assert (await client.get("/runs/..%2F..%2Fetc/report.html")).status_code == 404
    page = await client.get("/nothing-here")
    assert page.status_code == 404 and 'href="/people"' in page.text


async def test_people_page_curls_use_the_offset_and_real_keys(console):
    _, client = console
    html = (await client.get("/people")).text
    assert "-u admin:district http://127.0.0.1:8505/api/me" in html
    for member_id in load_topology().subsystems():
        assert client_key(member_id) in html


async def test_a_running_batch_disables_the_buttons_and_refuses_another(console):
    app, client = console
    loaded = scenarios()[0]
    app.state.console.runs.batch = Batch(runs=[("20260101000000aa", loaded)])
    page = (await client.get("/scenarios")).text
    assert 'id="busy"' in page and "<button disabled" in page and ">Run</button>" not in page
    again = await client.post(f"/scenarios/{loaded.name}/run")
    assert again.status_code == 303 and again.headers["location"] == "/scenarios"
    assert app.state.console.runs.batch.runs[0][0] == "20260101000000aa"
    live = (await client.get("/runs/20260101000000aa")).text
    assert 'id="steps" data-run="20260101000000aa"' in live and live.count(
        'class="pending"'
    ) == len(loaded.scenario.steps)


async def test_edges_show_the_access_rights_on_them(console):
    _, client = console
    html = (await client.get(f"/map/edge/{key_of(EDUCATION)}")).text
    assert "What <code>DPI/GOV/MOE/emis</code> may call" in html
    assert "DPI/GOV/MOH/hmis/immunisation-status" in html


async def test_a_finished_run_shows_its_report_and_is_indexed(console):
    app, client = console
    data_dir = app.state.console.config.data_dir
    run = RunResult(
        run_id="20260102030405ab",
        scenario="consent-gated-sharing",
        title="Consent-gated cross-sector sharing",
        pattern="consent",
        started_at="2026-01-02T03:04:05Z",
        finished_at="2026-01-02T03:04:06Z",
        steps=[
            StepResult(1, "The school asks", "school", "MOE/emis → mediator", "http", "ab" * 16)
        ],
    )
    run.steps[0].status = "passed"
    run.steps[0].call = Call(
        "GET",
        "http://127.0.0.1:8004/fhir/Location",
        "registries",
        None,
        None,
        "ab" * 16,
        None,
        {},
        None,
        status=200,
    )
    write_trace(build_trace(run, []).to_dict(), data_dir)
    index = (await client.get("/runs")).text
    assert 'href="/runs/20260102030405ab"' in index and "Consent-gated" in index
    page = (await client.get("/runs/20260102030405ab")).text
    assert 'id="done" data-ok="1"' in page and '<div class="diagram fit" id="diagram"><svg' in page
    assert "No direct identifier crossed into a sector" in page
    report = await client.get("/runs/20260102030405ab/report.html")
    assert report.status_code == 200 and "The school asks" in report.text
