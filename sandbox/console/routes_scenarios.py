"""Page 3, scenarios: the list, run one or all, live steps, finished runs' reports, past runs."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse

from sandbox.console.html import NotFoundPage, e, page, table
from sandbox.console.runs import AlreadyRunning, past_runs, scenarios
from sandbox.console.state import ConsoleState, StateDep
from sandbox.trace.diagram import diagram_of, short
from sandbox.trace.report import HTML, read_trace
from sandbox.trace.svg import to_svg

router = APIRouter()


def _busy(state: ConsoleState) -> str:
    batch = state.runs.running()
    if batch is None:
        return ""
    current = batch.current or batch.runs[0][0]
    return (
        f'<p class="busy" id="busy">A run is under way: <a href="/runs/{e(current)}">'
        f"{e(current)}</a>. The buttons start a new one when it has finished.</p>"
    )


def _button(action: str, label: str, busy: bool) -> str:
    if busy:
        return '<button disabled title="a run is under way">running…</button>'
    return f'<form method="post" action="{action}"><button type="submit">{e(label)}</button></form>'


@router.get("/scenarios", response_class=HTMLResponse)
async def scenarios_page(state: StateDep) -> HTMLResponse:
    busy = state.runs.running() is not None
    rows = [
        [
            f"<b>{e(s.scenario.title)}</b><br><code>{e(s.name)}</code>",
            e(s.scenario.pattern),
            e(s.scenario.summary),
            str(len(s.scenario.steps)),
            _button(f"/scenarios/{s.name}/run", "Run", busy),
        ]
        for s in scenarios()
    ]
    body = (
        "<h1>Scenarios</h1><p>Each scenario is a DPI pattern told as steps against the running "
        "sandbox. Run one and watch its steps (and the map).</p>"
        + _busy(state)
        + _button("/scenarios/run-all", "Run all scenarios", busy)
        + table(["scenario", "pattern", "what it shows", "steps", ""], rows, "scenarios")
        + '<p><a href="/runs">Past runs →</a></p>'
    )
    return page("Scenarios", "scenarios", body)


def _start(state: ConsoleState, names: list[str] | None) -> RedirectResponse:
    known = scenarios()
    chosen = known if names is None else [s for s in known if s.name in names]
    try:
        ids = state.runs.start(chosen)
    except AlreadyRunning:
        return RedirectResponse("/scenarios", status_code=303)
    target = f"/runs/{ids[0]}" if len(ids) == 1 else "/runs"
    return RedirectResponse(target, status_code=303)


@router.post("/scenarios/run-all")
async def run_all(state: StateDep) -> RedirectResponse:
    return _start(state, None)


@router.post("/scenarios/{name}/run")
async def run_one(state: StateDep, name: str) -> RedirectResponse:
    known = [s.name for s in scenarios()]
    if name not in known:
        raise NotFoundPage(
            f"No scenario {name!r}.", [("/scenarios", n) for n in known], "Scenarios"
        )
    return _start(state, [name])


def _run_row(run: dict[str, Any]) -> list[str]:
    outcome = (
        '<span class="ok">passed</span>' if run.get("ok") else '<span class="bad">FAILED</span>'
    )
    run_id = str(run.get("run_id"))
    return [
        f'<a href="/runs/{e(run_id)}">{e(run_id)}</a>',
        e(run.get("title")),
        outcome,
        e(run.get("started_at")),
        f'<a href="/runs/{e(run_id)}/{HTML}">static report</a>',
    ]


@router.get("/runs", response_class=HTMLResponse)
async def runs_page(state: StateDep) -> HTMLResponse:
    batch = state.runs.running()
    live = ""
    if batch is not None:
        items = "".join(
            f'<li><a href="/runs/{e(run_id)}">{e(loaded.name)}</a> — '
            f"{'done' if run_id in batch.finished else 'running' if run_id == batch.current else 'waiting'}</li>"  # noqa: E501
            for run_id, loaded in batch.runs
        )
        live = f'<h2>Under way</h2><ul id="batch" data-live-reload="1">{items}</ul>'
    runs = past_runs(state.config.runs_dir)
    listing = table(["run", "scenario", "result", "started", ""], [_run_row(r) for r in runs])
    body = f"<h1>Runs</h1>{live}<h2>Past runs</h2>" + (listing if runs else "<p>None yet.</p>")
    return page("Runs", "scenarios", body)


def _steps_live(state: ConsoleState, run_id: str) -> str | None:
    batch = state.runs.batch
    if batch is None or run_id not in dict(batch.runs) or run_id in batch.finished:
        return None
    loaded = dict(batch.runs)[run_id]
    seen = {s["index"]: s for s in batch.steps.get(run_id, [])}
    rows = []
    for index, step in enumerate(loaded.scenario.steps, start=1):
        status = seen.get(index, {}).get("status", "pending")
        rows.append(
            f'<tr id="step-{index}" class="{e(status)}"><td>{index}</td><td>{e(step.title)}</td>'
            f"<td>{e(step.actor)}</td><td>{e(step.boundary)}</td>"
            f'<td class="status">{e(status)}</td></tr>'
        )
    return (
        f"<h1>{e(loaded.scenario.title)}</h1><p>Run <code>{e(run_id)}</code> is under way; "
        "steps turn green or red as they pass or fail (watch the map too).</p>"
        f'<table id="steps" data-run="{e(run_id)}"><thead><tr><th>#</th><th>step</th>'
        "<th>actor</th><th>boundary</th><th>result</th></tr></thead><tbody>"
        + "".join(rows)
        + "</tbody></table>"
    )


def _exchanges(trace: dict[str, Any]) -> str:
    labels = trace.get("classes", {})
    rows = []
    for x in trace["exchanges"]:
        counts: dict[str, int] = {}
        for f in x["fields"]:
            counts[f["category"]] = counts.get(f["category"], 0) + 1
        tags = " ".join(
            f'<span class="tag {e(c)}">{e(labels.get(c, c))}: {n}</span>' for c, n in counts.items()
        )
        names = ", ".join(f["field"] for f in x["fields"] if f["category"] != "other")
        detail = f"<details><summary>{tags or '—'}</summary><small>{e(names)}</small></details>"
        reason = f"<br><small>{e(x.get('reason'))}</small>" if x.get("reason") else ""
        link = f'<a href="/log/{x["seq"]}">{x["seq"]}</a>' if x.get("seq") else "—"
        rows.append(
            [
                e(x["step"]),
                link,
                f"{e(short(x['consumer']))} → {e(short(x['provider']))}",
                e(x["service"]),
                e(x["purpose"] or "—"),
                f"{e(x['consent'])}{reason}",
                e(x["status"]),
                detail,
            ]
        )
    if not rows:
        return "<p>No exchange went through the mediator in this run.</p>"
    return table(
        [
            "step",
            "log",
            "consumer → provider",
            "service",
            "purpose",
            "consent",
            "status",
            "fields that crossed",
        ],
        rows,
    )


def _finished(run_id: str, trace: dict[str, Any]) -> str:
    run = trace["run"]
    outcome = '<span class="ok">passed</span>' if run["ok"] else '<span class="bad">FAILED</span>'
    steps = table(
        ["#", "step", "actor", "boundary", "result", "failures"],
        [
            [
                str(s["index"]),
                e(s["title"]),
                e(s["actor"]),
                e(s["boundary"]),
                f'<span class="{"ok" if s["status"] == "passed" else "bad"}">{e(s["status"])}</span>',  # noqa: E501
                "<br>".join(e(f) for f in s["failures"]),
            ]
            for s in run["steps"]
        ],
    )
    findings = (
        '<p class="ok" id="leaks">✓ No direct identifier crossed into a sector.</p>'
        if not trace["findings"]
        else '<ul class="bad" id="leaks">'
        + "".join(
            f"<li>step {e(f['step'])}: {e(f['reason'])} ({e(', '.join(f['fields']))}) → "
            f"{e(f['destination'])}</li>"
            for f in trace["findings"]
        )
        + "</ul>"
    )
    diagram = diagram_of(trace)
    # a run whose steps made no call has no participant to draw (to_svg needs one)
    svg = to_svg(diagram) if diagram.participants else "<p>No call was made in this run.</p>"
    return (
        f"<h1>{e(run['title'])}</h1><p><b>Pattern:</b> {e(run['pattern'])}<br>Run "
        f"<code>{e(run_id)}</code>: {outcome}, {e(run['started_at'])} → {e(run['finished_at'])}"
        f' · <a href="/runs/{e(run_id)}/{HTML}">static report</a></p>'
        f'<h2>Steps</h2><div id="done" data-ok="{int(bool(run["ok"]))}">{steps}</div>'
        '<h2>Sequence</h2><div class="zoombar"><button data-zoom="fit">fit</button>'
        '<button data-zoom="in">+</button><button data-zoom="out">-</button>'
        '<button data-zoom="1">100%</button></div>'
        f'<div class="diagram fit" id="diagram">{svg}</div>'
        f"<h2>Boundary report</h2>{_exchanges(trace)}"
        f"<h2>Data-leak check</h2>{findings}"
    )


def _run_or_404(state: ConsoleState, run_id: str) -> tuple[Any, dict[str, Any]]:
    try:
        if not run_id.isalnum():
            raise FileNotFoundError(run_id)
        return read_trace(state.config.data_dir, run_id)
    except (FileNotFoundError, ValueError):
        runs = past_runs(state.config.runs_dir, limit=20)
        raise NotFoundPage(
            f"No run {run_id!r}.",
            [(f"/runs/{r['run_id']}", f"{r['run_id']} {r.get('title')}") for r in runs],
            "Recent runs",
        ) from None


@router.get("/runs/{run_id}", response_class=HTMLResponse)
async def run_page(state: StateDep, run_id: str) -> HTMLResponse:
    live = _steps_live(state, run_id)
    if live is not None:
        return page(f"Run {run_id}", "scenarios", live)
    _, trace = _run_or_404(state, run_id)
    return page(f"Run {run_id}", "scenarios", _finished(run_id, trace))


@router.get(f"/runs/{{run_id}}/{HTML}")
async def static_report(state: StateDep, run_id: str) -> FileResponse:
    directory, _ = _run_or_404(state, run_id)
    return FileResponse(directory / HTML, media_type="text/html")
