"""Page 1, the architecture map: nodes, live flows (SSE), node and edge details."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, StreamingResponse

from sandbox.console.graph import MEDIATOR_KEY, map_svg, nodes
from sandbox.console.html import NotFoundPage, e, page, query, table
from sandbox.console.mediator import MediatorUnavailable
from sandbox.console.state import ConsoleState, StateDep
from sandbox.trace.build import consent_of

router = APIRouter()

LEGEND = (
    '<p class="legend"><span class="dot ok"></span> successful '
    '<span class="dot warn"></span> 4xx <span class="dot bad"></span> refused or failed '
    '<span class="mark">✓</span>/<span class="mark bad">✗</span> consent permit/deny · '
    "nodes: <span class='chip ready'>ready</span> <span class='chip down'>not answering</span> "
    "<span class='chip client'>client subsystem</span></p>"
)


@router.get("/", response_class=HTMLResponse)
async def map_page(state: StateDep) -> HTMLResponse:
    body = (
        '<div class="split"><section class="mapbox">'
        f"{map_svg(state.config.topology)}{LEGEND}</section>"
        '<aside><div id="panel"><h2>Click a node or an edge</h2><p>A node shows what it '
        "models, its URLs and its recent exchanges; an edge (a line to the mediator) shows the "
        "access rights on it. Run a scenario (Scenarios page) and watch it cross the map.</p>"
        '</div><h2>Live exchanges</h2><ol id="feed" class="feed"></ol></aside></div>'
    )
    return page("Architecture map", "map", body)


@router.get("/events")
async def events(state: StateDep, request: Request) -> StreamingResponse:
    return StreamingResponse(
        state.hub.stream(request.is_disconnected),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


def _node_or_404(state: ConsoleState, key: str) -> tuple[str, str | None, str | None]:
    for node in nodes(state.config.topology):
        if node.key == key:
            return node.title, node.member_id, node.service
    raise NotFoundPage(
        f"No node {key!r} on the map.",
        [("/", n.key) for n in nodes(state.config.topology)],
        "Nodes",
    )


async def _recent(state: ConsoleState, member_id: str | None) -> str:
    try:
        if member_id is None:
            found = await state.client.records(order="desc", limit=10)
        else:
            sent = await state.client.records(order="desc", limit=10, client=member_id)
            got = await state.client.records(order="desc", limit=10, provider=member_id)
            found = sorted(sent + got, key=lambda r: -int(r["seq"]))[:10]
    except MediatorUnavailable as exc:
        return f'<p class="bad">{e(exc)}</p>'
    if not found:
        return "<p>No exchange yet.</p>"
    rows = [
        [
            f'<a href="/log/{r["seq"]}">{r["seq"]}</a>',
            e(r.get("client")),
            e(r.get("service")),
            e(r.get("statusCode")),
            e(consent_of(r)),
        ]
        for r in found
    ]
    return table(["#", "client", "service", "status", "consent"], rows, "small")


@router.get("/map/node/{key}", response_class=HTMLResponse)
async def node_detail(state: StateDep, key: str) -> HTMLResponse:
    title, member_id, service = _node_or_404(state, key)
    lines = [f"<h2>{e(title)}</h2>"]
    if service:
        spec = state.config.topology.service(service)
        url = state.config.public_url(service)
        ready = state.hub.readiness.get(service)
        lines.append(
            f"<p>{e(spec.role)}</p><p><b>Models:</b> {e(spec.models)}</p>"
            f'<p><b>URL:</b> <a href="{e(url)}/info">{e(url)}</a> · '
            f'<a href="{e(url)}/docs">API docs</a> · readiness: '
            f"{'ready' if ready else 'not answering' if ready is False else 'unknown'}</p>"
        )
    else:
        lines.append(
            "<p>A client subsystem: a sector that consumes national services through "
            "the mediator (the scenarios act as it).</p>"
        )
    if member_id:
        link = query(client=member_id)
        lines.append(
            f"<p><b>Member id:</b> <code>{e(member_id)}</code> · "
            f'<a href="/log?{link}">its exchanges as client</a> · '
            f'<a href="/log?{query(provider=member_id)}">as provider</a></p>'
        )
    lines.append("<h3>Recent exchanges</h3>" + await _recent(state, member_id))
    return HTMLResponse("".join(lines))


def _rights_table(rights: list[dict[str, Any]]) -> str:
    if not rights:
        return "<p>None.</p>"
    rows = []
    for right in rights:
        endpoints = right.get("endpoints") or []
        shown = ", ".join(
            f"{p.get('method')} {p.get('path')}" for p in endpoints if isinstance(p, dict)
        )
        rows.append(
            [
                e(right.get("client")),
                e(f"{right.get('provider')}/{right.get('serviceCode')}"),
                e(shown or "whole service"),
            ]
        )
    return table(["client", "service", "endpoints"], rows, "small")


@router.get("/map/edge/{key}", response_class=HTMLResponse)
async def edge_detail(state: StateDep, key: str) -> HTMLResponse:
    title, member_id, _ = _node_or_404(state, key)
    if key == MEDIATOR_KEY or member_id is None:
        raise NotFoundPage("The mediator has no edge of its own.", [], "Edges")
    try:
        outgoing = await state.client.rights(client=member_id)
        incoming = await state.client.rights(provider=member_id)
    except MediatorUnavailable as exc:
        return HTMLResponse(f'<p class="bad">{e(exc)}</p>')
    return HTMLResponse(
        f"<h2>{e(title)} ↔ mediator</h2><p>Access rights granted at the mediator (deny by "
        f"default).</p><h3>What <code>{e(member_id)}</code> may call</h3>"
        f"{_rights_table(outgoing)}<h3>Who may call <code>{e(member_id)}</code></h3>"
        f"{_rights_table(incoming)}"
    )
