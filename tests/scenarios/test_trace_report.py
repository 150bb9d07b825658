"""Reports of a trace: files, self-contained HTML, Mermaid text, SVG, summary."""

import json
import re

from sandbox.scenarios.results import Call
from sandbox.scenarios.runner import step_trace_id
from sandbox.trace.build import build_trace
from sandbox.trace.diagram import diagram_of, to_mermaid
from sandbox.trace.report import read_trace, summary_lines, write_trace
from sandbox.trace.svg import to_svg
from tests.scenarios.synthetic import HEALTH, ID, RUN, SCHOOL, record, run_of


def test_reports_are_written_self_contained_and_summarised(tmp_path):
    run = run_of("Health authenticates", "Refused")
    run.steps[1].status = "failed"
    run.steps[1].failures = ["status: expected 200, got 500"]
    records = [
        record(41, 1, HEALTH, f"{ID}/idauth", requestFields=["individualId"]),
        record(
            42,
            2,
            SCHOOL,
            f"{HEALTH}/immunisation-status",
            status=500,
            decisionId="d",
            upstreamMs=None,
            purpose="p<script>",
            errorType="Server.ServerProxy.AccessDenied",
        ),
    ]
    trace = build_trace(run, records).to_dict()
    directory = write_trace(trace, tmp_path)
    assert sorted(p.name for p in directory.iterdir()) == [
        "boundary.md",
        "report.html",
        "sequence.mmd",
        "trace.json",
    ]
    html = (directory / "report.html").read_text()
    assert "<svg" in html and "sequenceDiagram" in html
    assert not re.search(r"<script|<link|src=|@import|url\(http", html)
    assert "p&lt;script&gt;" in html
    stored = json.loads((directory / "trace.json").read_text())
    assert [e["seq"] for e in stored["exchanges"]] == [41, 42]
    mermaid = (directory / "sequence.mmd").read_text()
    assert "participant P1 as Mediator" in mermaid
    assert "P2->>P1: POST" in mermaid or "P0->>P1: POST" in mermaid
    assert "--x" in mermaid  # the refusal is drawn as a failed reply
    found_dir, found = read_trace(tmp_path)
    assert found_dir == directory and found["run"]["run_id"] == RUN
    lines = summary_lines(found, found_dir)
    assert lines[0] == f"Run {RUN}: Synthetic (synthetic) — FAILED"
    assert any("MOE/emis → MOH/hmis" in line and "consent=deny" in line for line in lines)


def test_the_diagram_draws_direct_calls_and_mediated_exchanges():
    call = Call(
        method="GET",
        url="http://127.0.0.1:8001/healthz",
        target="id_registry",
        client=None,
        provider=None,
        trace_id=step_trace_id(RUN, 1),
        x_road_id=None,
        request_headers={},
        request_body=None,
        status=200,
    )
    run = run_of("Probe", "Authenticate", calls={1: call})
    trace = build_trace(run, [record(51, 2, HEALTH, f"{ID}/idauth")]).to_dict()
    diagram = diagram_of(trace)
    assert diagram.participants == ["Actor", "NIA/id-registry", "MOH/hmis", "Mediator"]
    mermaid = to_mermaid(diagram)
    assert len(re.findall(r"\w->>", mermaid)) == 3  # probe, request to the mediator, forward
    assert mermaid.count("-->>") == 3  # and their replies
    svg = to_svg(diagram)
    assert svg.count("<line") == 4 + 6 and "NIA/id-registry" in svg  # lifelines, messages


def test_the_diagram_shows_the_token_exchange_and_consent_decision_the_log_implies():
    refused = record(
        71,
        1,
        SCHOOL,
        f"{HEALTH}/immunisation-status",
        status=500,
        purpose="school-enrolment",
        subjectHash="ab" * 32,
        decisionId="d-71",
        upstreamMs=None,
        errorType="Server.ServerProxy.AccessDenied",
    )
    unknown = record(
        72, 2, SCHOOL, f"{HEALTH}/immunisation-status", status=500, subjectHash="cd" * 32
    )
    unknown.update(upstreamMs=None, errorType="Server.ServerProxy.AccessDenied")
    trace = build_trace(run_of("Refused", "Unknown person"), [refused, unknown]).to_dict()
    mermaid = to_mermaid(diagram_of(trace))
    arrows = [line for line in mermaid.splitlines() if "->>" in line or "-x" in line]
    lines = [line.split(": ", 1)[1] for line in arrows]
    assert lines == [
        "POST immunisation-status/thing [school-enrolment]",
        "token exchange",
        "provider's (and consent's) token",
        "decision? [school-enrolment]",
        "deny",
        "500 Failed (Server.ServerProxy.AccessDenied)",
        "POST immunisation-status/thing",
        "token exchange",
        "unknown or inactive: refused (fail closed)",
        "500 Failed (Server.ServerProxy.AccessDenied)",
    ]
    assert "participant P3 as DPA/consent" in mermaid
