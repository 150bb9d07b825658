"""A run's `report.html` opened from disk in a real browser, the network blocked: the sequence
diagram fits the page with every participant and label inside it, zooms and scrolls, long field
lists are folded, the Mermaid text is tucked away, and nothing is fetched."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from sandbox.scenarios.results import Call, RunResult, StepResult
from sandbox.scenarios.runner import step_trace_id
from sandbox.trace.build import build_trace
from sandbox.trace.diagram import short
from sandbox.trace.report import write_trace
from tests.browser.conftest import console_errors
from tests.scenarios.synthetic import CONSENT, HEALTH, ID, RUN, SCHOOL, record

pytestmark = pytest.mark.browser

# (actor, service called directly): long names, as the scenarios' actors have
DIRECT = [
    ("Civil registrar (CRVS office)", "registries", "/data/births/1.0/create"),
    ("National ID system (subscribed to the civil register)", "id_registry", "/v1/identities"),
    ("Health worker, in the health platform", "sectoral_platform", "/api/tracker/enrollments"),
    ("Data protection auditor", "consent", "/v1/decisions?consentRecordId=abc"),
    ("School administrator at the district education office", "interop_layer", "/listClients"),
]
LONG_TITLE = (
    "The school asks the health platform for the child's immunisation status under the "
    "school-enrolment purpose, and the consent service decides"
)
MANY_FIELDS = [f"request.demographics.attribute{i}" for i in range(44)] + ["individualId"]


def busy_run() -> RunResult:
    """Eleven lanes: five actors calling services directly, then exchanges through the mediator
    (one with 45 request fields, one the consent service decides)."""
    steps = []
    for index, (actor, target, path) in enumerate(DIRECT, start=1):
        call = Call(
            method="POST",
            url=f"http://127.0.0.1:8001{path}",
            target=target,
            client=None,
            provider=None,
            trace_id=step_trace_id(RUN, index),
            x_road_id=None,
            request_headers={},
            request_body=None,
            status=200 if index != 2 else 409,
        )
        steps.append(_step(index, f"{actor} calls {target}", actor, call))
    steps.append(_step(6, "Health authenticates the person with the ID system", "Health worker"))
    steps.append(_step(7, LONG_TITLE, "School administrator"))
    return RunResult(
        run_id=RUN,
        scenario="busy",
        title="A busy run",
        pattern="Every lane at once",
        started_at="t0",
        finished_at="t1",
        steps=steps,
    )


def _step(index: int, title: str, actor: str, call: Call | None = None) -> StepResult:
    return StepResult(
        index=index,
        title=title,
        actor=actor,
        boundary="b",
        kind="call",
        trace_id=step_trace_id(RUN, index),
        status="passed",
        attempts=1,
        call=call,
    )


@pytest.fixture
def report(tmp_path: Path) -> Path:
    records = [
        record(81, 6, HEALTH, f"{ID}/idauth", requestFields=MANY_FIELDS),
        record(
            82,
            7,
            SCHOOL,
            f"{HEALTH}/immunisation-status",
            status=500,
            purpose="school-enrolment",
            subjectHash="ab" * 32,
            decisionId="d-82",
            upstreamMs=None,
            errorType="Server.ServerProxy.AccessDenied",
        ),
    ]
    trace = build_trace(busy_run(), records).to_dict()
    return write_trace(trace, tmp_path) / "report.html"


# Where each participant box and each text lies, in the diagram container's scrollable content
# (left edge 0, right edge its scroll width), whether a name fits its box, and the SVG's box.
GEOMETRY = """() => {
  const box = document.querySelector('.diagram');
  const outer = box.getBoundingClientRect();
  const svg = box.querySelector('svg');
  const at = (r) => ({left: r.left - outer.left + box.scrollLeft,
                      right: r.right - outer.left + box.scrollLeft});
  const view = svg.viewBox.baseVal;
  return {
    scrollWidth: box.scrollWidth, clientWidth: box.clientWidth,
    participants: [...svg.querySelectorAll('g.participant')].map((g) => {
      const frame = g.querySelector('rect').getBBox(), name = g.querySelector('text').getBBox();
      return {name: g.querySelector('title').textContent, ...at(g.getBoundingClientRect()),
              nameFits: name.x >= frame.x && name.x + name.width <= frame.x + frame.width};
    }),
    texts: [...svg.querySelectorAll('text')].map((t) => {
      const b = t.getBBox();
      return {text: t.textContent, x: b.x, right: b.x + b.width};
    }),
    view: {width: view.width, height: view.height},
  };
}"""


def assert_nothing_clipped(geometry: dict[str, Any]) -> None:
    for box in geometry["participants"]:
        assert box["left"] >= 0 and box["right"] <= geometry["scrollWidth"] + 0.5, box
        assert box["nameFits"], box
    for text in geometry["texts"]:
        assert text["x"] >= 0 and text["right"] <= geometry["view"]["width"], text


def test_the_report_opens_from_disk_fitted_zoomable_and_offline(
    report: Path, offline_page: tuple[Any, list[str]]
) -> None:
    page, refused = offline_page
    errors = console_errors(page)
    page.goto(report.as_uri())
    page.wait_for_selector("svg.sequence")

    fitted = page.evaluate(GEOMETRY)
    names = {p["name"] for p in fitted["participants"]}
    assert len(names) == 11 and {actor for actor, _, _ in DIRECT} <= names
    assert short(CONSENT) in names  # the decision on record 82 draws the consent service
    assert len(fitted["participants"]) == 2 * 11  # drawn above and below the lifelines
    assert fitted["scrollWidth"] <= fitted["clientWidth"]  # fitted: no scrolling needed
    assert_nothing_clipped(fitted)
    assert any(LONG_TITLE in t["text"] for t in fitted["texts"])  # the note is whole

    page.click("label[for=zoom-200]")
    zoomed = page.evaluate(GEOMETRY)
    assert zoomed["scrollWidth"] > 1.5 * zoomed["clientWidth"]  # larger, and scrolls
    assert_nothing_clipped(zoomed)
    page.locator(".diagram").evaluate("(box) => { box.scrollLeft = box.scrollWidth; }")
    assert_nothing_clipped(page.evaluate(GEOMETRY))

    page.click("label[for=zoom-100]")
    natural = page.evaluate(GEOMETRY)
    assert natural["scrollWidth"] == pytest.approx(fitted["view"]["width"], abs=2)
    assert refused == [] and errors == []


def test_long_field_lists_are_folded_and_the_mermaid_text_is_hidden(
    report: Path, offline_page: tuple[Any, list[str]]
) -> None:
    page, refused = offline_page
    page.goto(report.as_uri())
    folded = page.locator("details.fields").first
    assert folded.locator("summary").inner_text().startswith("45 fields")
    tag = folded.locator(".tag.direct_identifier", has_text="individualId")
    assert not tag.is_visible()
    folded.locator("summary").click()
    assert tag.is_visible()

    source = page.locator("details.source pre")
    assert source.count() == 1
    assert not source.is_visible()
    page.click("details.source summary")
    assert source.is_visible() and "sequenceDiagram" in source.inner_text()
    assert refused == []
