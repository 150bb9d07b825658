"""A self-contained HTML report of a run: inline CSS and SVG, nothing fetched from a network."""

from __future__ import annotations

from html import escape
from typing import Any

from sandbox.trace.diagram import short

CSS = """
body{font-family:system-ui,sans-serif;margin:2rem;color:#222;max-width:1200px}
h1{font-size:1.5rem}h2{font-size:1.2rem;margin-top:2rem;border-bottom:1px solid #ddd}
table{border-collapse:collapse;width:100%;font-size:.85rem}
td,th{border:1px solid #ddd;padding:.3rem .5rem;text-align:left;vertical-align:top}
th{background:#f4f6f8}.ok{color:#1a7f37}.bad{color:#b3261e;font-weight:bold}
.skip{color:#888}pre{background:#f6f8fa;padding:1rem;overflow:auto;font-size:.8rem}
.tag{display:inline-block;border-radius:3px;padding:0 .3rem;margin:1px;font-size:.75rem}
.direct_identifier{background:#fbd5d5}.sector_token{background:#d5e8fb}
.quasi_identifier{background:#fbeed5}.health_data{background:#e6d5fb}
.aggregate{background:#d5fbe0}.other{background:#eee}.diagram{overflow:auto}
"""


def _tags(fields: list[dict[str, Any]], direction: str) -> str:
    chosen = [f for f in fields if f["direction"] == direction]
    if not chosen:
        return "—"
    return " ".join(
        f'<span class="tag {escape(f["category"])}" title="{escape(f["category"])}">'
        f"{escape(f['field'])}</span>"
        for f in chosen
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


def render_html(trace: dict[str, Any], *, mermaid: str, svg: str) -> str:
    run = trace["run"]
    outcome = '<span class="ok">passed</span>' if run["ok"] else '<span class="bad">FAILED</span>'
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>{escape(run["title"])} — run {escape(run["run_id"])}</title>
<style>{CSS}</style></head><body>
<h1>{escape(run["title"])}</h1>
<p><b>Pattern:</b> {escape(run["pattern"])}<br>
<b>Run</b> <code>{escape(run["run_id"])}</code> ({escape(run["scenario"])}): {outcome},
{escape(run["started_at"])} → {escape(run["finished_at"])}.
Message log: {escape(trace["messageLog"])}.</p>
<p class="story">{_paragraphs(run.get("description", ""))}</p>
<h2>Steps</h2>{_steps(run)}
<h2>Sequence</h2><div class="diagram">{svg}</div>
<h2>Boundary report</h2><p>Field classes: {_legend(trace["classes"])}</p>
{_exchanges(trace)}
<h2>Direct identifiers reaching a sector</h2>{_findings(trace)}
<h2>Direct calls (not through the mediator)</h2>{_direct(trace)}
<h2>Sequence diagram (Mermaid)</h2><pre>{escape(mermaid)}</pre>
</body></html>
"""
