"""A self-contained HTML report of a run: inline CSS and SVG, nothing fetched from a network."""

from __future__ import annotations

from collections import Counter
from html import escape
from typing import Any

from sandbox.trace.diagram import short

CSS = """
body{font-family:system-ui,sans-serif;margin:2rem auto;padding:0 1rem;color:#222;max-width:1280px}
h1{font-size:1.5rem}h2{font-size:1.2rem;margin-top:2rem;border-bottom:1px solid #ddd}
.scroll{overflow-x:auto}
table{border-collapse:collapse;width:100%;font-size:.85rem}
td,th{border:1px solid #ddd;padding:.3rem .5rem;text-align:left;vertical-align:top}
td code{overflow-wrap:anywhere}
th{background:#f4f6f8}.ok{color:#1a7f37}.bad{color:#b3261e;font-weight:bold}
.skip{color:#888}pre{background:#f6f8fa;padding:1rem;overflow:auto;font-size:.8rem}
.tag{display:inline-block;border-radius:3px;padding:0 .3rem;margin:1px;font-size:.75rem}
.direct_identifier{background:#fbd5d5}.sector_token{background:#d5e8fb}
.quasi_identifier{background:#fbeed5}.health_data{background:#e6d5fb}
.aggregate{background:#d5fbe0}.other{background:#eee}
details.fields summary{cursor:pointer;white-space:nowrap}
details.fields[open] summary{margin-bottom:.2rem}
.zoom{position:absolute;opacity:0;pointer-events:none}
.zoom+label{display:inline-block;border:1px solid #bbb;border-radius:3px;padding:.1rem .5rem;
margin:0 .2rem .4rem 0;font-size:.8rem;cursor:pointer;background:#fff}
.zoom:checked+label{background:#4a6fa5;color:#fff;border-color:#4a6fa5}
.zoom:focus-visible+label{outline:2px solid #4a6fa5}
.diagram{overflow:auto;border:1px solid #ddd;max-width:100%}
.diagram svg{display:block;height:auto}
#zoom-fit:checked~.diagram svg{width:100%;max-width:var(--w)}
#zoom-100:checked~.diagram svg{width:var(--w)}
#zoom-150:checked~.diagram svg{width:calc(var(--w) * 1.5)}
#zoom-200:checked~.diagram svg{width:calc(var(--w) * 2)}
"""

ZOOMS = (("fit", "Fit to page"), ("100", "100%"), ("150", "150%"), ("200", "200%"))
INLINE_FIELDS = 6  # more than this and a cell shows counts per class, the names folded away


def _tags(fields: list[dict[str, Any]], direction: str) -> str:
    chosen = [f for f in fields if f["direction"] == direction]
    if not chosen:
        return "—"
    tags = " ".join(
        f'<span class="tag {escape(f["category"])}" title="{escape(f["category"])}">'
        f"{escape(f['field'])}</span>"
        for f in chosen
    )
    if len(chosen) <= INLINE_FIELDS:
        return tags
    counts = Counter(str(f["category"]) for f in chosen)
    chips = " ".join(
        f'<span class="tag {escape(category)}" title="{escape(category)}">{count}</span>'
        for category, count in sorted(counts.items(), key=lambda kv: (kv[0] == "other", kv[0]))
    )
    return (
        f'<details class="fields"><summary>{len(chosen)} fields {chips}</summary>{tags}</details>'
    )


def _steps(run: dict[str, Any]) -> str:
    rows = []
    for step in run["steps"]:
        css = {"passed": "ok", "failed": "bad", "skipped": "skip"}[step["status"]]
        failures = "<br>".join(escape(f) for f in step["failures"])
        note = f"<br><small>{escape(step['note'])}</small>" if step.get("note") else ""
        rows.append(
            f"<tr><td>{step['index']}</td><td>{escape(step['title'])}{note}</td>"
            f"<td>{escape(step['actor'])}</td><td>{escape(step['boundary'])}</td>"
            f'<td class="{css}">{step["status"]}</td><td>{failures}</td>'
            f"<td><code>{step['trace_id']}</code></td></tr>"
        )
    return (
        "<table><tr><th>#</th><th>step</th><th>actor</th><th>boundary</th><th>result</th>"
        "<th>failures</th><th>trace id</th></tr>" + "".join(rows) + "</table>"
    )


def _reason(exchange: dict[str, Any]) -> str:
    reason = exchange.get("reason")
    return f"<br><small>{escape(reason)}</small>" if reason else ""


def _exchanges(trace: dict[str, Any]) -> str:
    if not trace["exchanges"]:
        return "<p>No exchange went through the mediator in this run.</p>"
    rows = []
    for e in trace["exchanges"]:
        css = "bad" if e["findings"] else ""
        rows.append(
            f'<tr class="{css}"><td>{e["step"]}</td>'
            f"<td>{escape(short(e['consumer']))} → {escape(short(e['provider']))}</td>"
            f"<td>{escape(e['service'] or '')}<br><code>{escape(e['method'])} "
            f"{escape(e['path'])}</code></td><td>{escape(e['purpose'] or '—')}</td>"
            f"<td>{escape(e['consent'])}{_reason(e)}</td>"
            f"<td>{e['status']} {escape(e['outcome'])}</td>"
            f"<td>{_tags(e['fields'], 'request')}</td><td>{_tags(e['fields'], 'response')}</td>"
            f"<td>{escape(e['fields_source'])}</td></tr>"
        )
    return (
        "<table><tr><th>step</th><th>consumer → provider</th><th>service</th><th>purpose</th>"
        "<th>consent</th><th>status</th><th>request fields</th><th>response fields</th>"
        "<th>fields from</th></tr>" + "".join(rows) + "</table>"
    )


def _direct(trace: dict[str, Any]) -> str:
    calls = trace.get("directCalls", [])
    if not calls:
        return "<p>None.</p>"
    rows = []
    for c in calls:
        flows = [
            {**f, "direction": direction}
            for direction in ("request", "response")
            for f in c["fields"][direction]
        ]
        rows.append(
            f"<tr><td>{c['step']}</td><td>{escape(c['actor'])} → {escape(c['service'])}</td>"
            f"<td><code>{escape(c['method'])} {escape(_path_of(c['url']))}</code></td>"
            f"<td>{c['status']}</td><td>{_tags(flows, 'request')}</td>"
            f"<td>{_tags(flows, 'response')}</td></tr>"
        )
    return (
        "<table><tr><th>step</th><th>who → service</th><th>call</th><th>status</th>"
        "<th>request fields</th><th>response fields</th></tr>" + "".join(rows) + "</table>"
    )


def _path_of(url: str) -> str:
    rest = url.split("://", 1)[-1]
    return "/" + rest.split("/", 1)[1] if "/" in rest else "/"


def _findings(trace: dict[str, Any]) -> str:
    if not trace["findings"]:
        return '<p class="ok">No direct identifier crossed into a sector.</p>'
    items = "".join(
        f"<li>step {f['step']}: {escape(f['reason'])} "
        f"(<code>{escape(', '.join(f['fields']))}</code>) in the {escape(f['direction'])} to "
        f"{escape(f['destination'])}</li>"
        for f in trace["findings"]
    )
    return f'<ul class="bad">{items}</ul>'


def _paragraphs(text: str) -> str:
    return "<br><br>".join(escape(p.strip()) for p in text.split("\n\n") if p.strip())


def _legend(labels: dict[str, str]) -> str:
    return " ".join(f'<span class="tag {escape(k)}">{escape(v)}</span>' for k, v in labels.items())


def _sequence(svg: str) -> str:
    """The diagram fitted to the page; zoom levels by radio buttons (CSS only, no script)."""
    buttons = "".join(
        f'<input type="radio" class="zoom" name="zoom" id="zoom-{key}"'
        f'{" checked" if key == "fit" else ""}><label for="zoom-{key}">{label}</label>'
        for key, label in ZOOMS
    )
    return f'<div class="sequence">{buttons}<div class="diagram">{svg}</div></div>'


def render_html(trace: dict[str, Any], *, mermaid: str, svg: str) -> str:
    run = trace["run"]
    outcome = '<span class="ok">passed</span>' if run["ok"] else '<span class="bad">FAILED</span>'
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{escape(run["title"])} — run {escape(run["run_id"])}</title>
<style>{CSS}</style></head><body>
<h1>{escape(run["title"])}</h1>
<p><b>Pattern:</b> {escape(run["pattern"])}<br>
<b>Run</b> <code>{escape(run["run_id"])}</code> ({escape(run["scenario"])}): {outcome},
{escape(run["started_at"])} → {escape(run["finished_at"])}.
Message log: {escape(trace["messageLog"])}.</p>
<p class="story">{_paragraphs(run.get("description", ""))}</p>
<h2>Steps</h2><div class="scroll">{_steps(run)}</div>
<h2>Sequence</h2>{_sequence(svg)}
<h2>Boundary report</h2><p>Field classes: {_legend(trace["classes"])}</p>
<div class="scroll">{_exchanges(trace)}</div>
<h2>Direct identifiers reaching a sector</h2>{_findings(trace)}
<h2>Direct calls (not through the mediator)</h2><div class="scroll">{_direct(trace)}</div>
<details class="source"><summary>Sequence diagram as Mermaid text (also in sequence.mmd)</summary>
<pre>{escape(mermaid)}</pre></details>
</body></html>
"""
