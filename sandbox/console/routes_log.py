"""Page 2, the exchange log: newest first, keyset paging, filters; one record in full."""

from __future__ import annotations

import contextlib
import json
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from sandbox.console.html import NotFoundPage, e, page, query, select, table
from sandbox.console.mediator import MediatorUnavailable
from sandbox.console.state import StateDep
from sandbox.trace.build import consent_of
from sandbox.trace.classify import load_classification

router = APIRouter()
PAGE_SIZE = 50
FILTERS = (
    "client",
    "provider",
    "service",
    "outcome",
    "consent",
    "purpose",
    "since",
    "until",
    "traceId",
)
OUTCOMES = ("Successful", "Completed", "Completed with error(s)", "Failed")
CONSENT = (("permit", "permit"), ("deny", "deny"), ("none", "not required"))


def _filters(request: Request) -> dict[str, str]:
    return {k: request.query_params.get(k, "").strip() for k in FILTERS}


def _form(chosen: dict[str, str], subsystems: list[str]) -> str:
    who = [("", "any"), *((s, s) for s in subsystems)]
    return (
        '<form class="filters" method="get" action="/log">'
        f"<label>client {select('client', who, chosen['client'])}</label>"
        f"<label>provider {select('provider', who, chosen['provider'])}</label>"
        f'<label>service <input name="service" id="f-service" value="{e(chosen["service"])}" '
        'placeholder="DPI/GOV/MOH/hmis/dhis2"></label>'
        f"<label>status {select('outcome', [('', 'any'), *((o, o) for o in OUTCOMES)], chosen['outcome'])}</label>"  # noqa: E501
        f"<label>consent {select('consent', [('', 'any'), *CONSENT], chosen['consent'])}</label>"
        f'<label>purpose <input name="purpose" value="{e(chosen["purpose"])}"></label>'
        f'<label>from (UTC) <input type="datetime-local" name="since" '
        f'value="{e(chosen["since"])}"></label>'
        f'<label>to (UTC) <input type="datetime-local" name="until" '
        f'value="{e(chosen["until"])}"></label>'
        f'<label>trace id <input name="traceId" value="{e(chosen["traceId"])}" size="34"></label>'
        '<button type="submit" id="apply">Filter</button> <a href="/log">clear</a></form>'
    )


def _after_service(record: dict[str, Any]) -> str:
    """The path after `/r1/<service>` (the service has its own column)."""
    path = str(record.get("path") or "")
    prefix = f"/r1/{record.get('service')}"
    return path[len(prefix) :] or "/" if path.startswith(prefix) else path


def _row(record: dict[str, Any]) -> list[str]:
    consent = consent_of(record)
    refused = record.get("errorType")
    css = "bad" if refused or record.get("outcome") == "Failed" else ""
    return [
        f'<a href="/log/{record["seq"]}">{record["seq"]}</a>',
        e(str(record.get("startedAt", ""))[:23].replace("T", " ")),
        e(record.get("client")),
        e(record.get("service")),
        f"<code>{e(record.get('method'))} {e(_after_service(record))}</code>",
        f'<span class="{css}">{e(record.get("statusCode"))} {e(refused or "")}</span>',
        f'<span class="consent-{e(consent.split()[0])}">{e(consent)}</span>',
        e(record.get("purpose") or ""),
    ]


@router.get("/log", response_class=HTMLResponse)
async def log_page(state: StateDep, request: Request) -> HTMLResponse:
    chosen = _filters(request)
    before = request.query_params.get("before", "")
    subsystems = sorted(state.config.topology.subsystems())
    params: dict[str, Any] = {**chosen, "order": "desc", "limit": PAGE_SIZE}
    if before.isdigit():
        params["beforeSeq"] = before
    try:
        found = await state.client.records(**params)
        error = ""
    except MediatorUnavailable as exc:
        found, error = [], f'<p class="bad">{e(exc)}</p>'
    rows = [_row(r) for r in found]
    older = ""
    if len(found) == PAGE_SIZE:
        older = f'<a id="older" href="/log?{query(**chosen, before=found[-1]["seq"])}">older →</a>'
    newest = f'<a href="/log?{query(**chosen)}">← newest</a> ' if before else ""
    listing = (
        table(
            ["#", "started (UTC)", "client", "service", "request", "status", "consent", "purpose"],
            rows,
            "log",
        )
        if rows
        else "<p>No exchange matches.</p>"
    )
    body = (
        "<h1>Exchange log</h1><p>Every exchange through the mediator, newest first, from its "
        "message log (hash-chained, signed).</p>"
        f"{_form(chosen, subsystems)}{error}{listing}<p class='pager'>{newest}{older}</p>"
    )
    return page("Exchange log", "log", body)


def _fields(record: dict[str, Any]) -> str:
    table_ = load_classification()
    labels = table_.labels()
    rows = []
    for direction in ("request", "response"):
        for name in record.get(f"{direction}Fields") or []:
            cls = table_.classify(name)
            rows.append(
                [
                    direction,
                    f"<code>{e(name)}</code>",
                    f'<span class="tag {cls}">{e(labels[cls])}</span>',
                ]
            )
    if not rows:
        return (
            "<p>No field names logged (the mediator stores them with bodies: "
            "<code>DPI_INTEROP_LAYER_MESSAGE_LOG_BODIES=full</code>, as `dpi demo` sets).</p>"
        )
    return table(["direction", "field", "classification"], rows, "fields small")


def _body(text: str | None) -> str:
    if not text:
        return "<p>—</p>"
    with contextlib.suppress(ValueError):
        text = json.dumps(json.loads(text), indent=2, ensure_ascii=False)
    return f"<pre>{e(text)}</pre>"


def _headers(record: dict[str, Any]) -> str:
    """The headers the record vouches for; credentials are never logged, shown masked."""
    rows = [
        ("X-Road-Client", record.get("client")),
        ("X-Road-Service", record.get("service")),
        ("X-Road-Id", record.get("xRoadId")),
        ("X-Road-Request-Id", record.get("requestId")),
        ("X-Road-Request-Hash", record.get("requestHash")),
        ("traceparent (trace id)", record.get("traceId")),
        ("X-DPI-Client-Key", "*** (never logged)"),
    ]
    if record.get("subjectHash"):
        rows.append(("X-DPI-Subject", f"*** (SHA-256 {record['subjectHash'][:16]}…)"))
    if record.get("purpose"):
        rows.append(("X-DPI-Purpose", record["purpose"]))
    return table(["header", "value"], [[e(k), f"<code>{e(v)}</code>"] for k, v in rows], "small")


def _chain(seq: int, record: dict[str, Any], report: dict[str, Any] | None) -> str:
    replica, position = record.get("replica", "main"), record.get("position", seq)
    head = (
        f"<p>Record <b>{seq}</b> of the log, position <b>{e(position)}</b> in the chain of "
        f"replica <b>{e(replica)}</b>; record hash <code>{e(record.get('recordHash'))}</code>.</p>"
    )
    if report is None:
        return head + "<p>Verification unavailable.</p>"
    bad, bad_replica = report.get("firstBadSeq"), report.get("firstBadReplica")
    # the log is verified in order of seq, every chain at once, up to its first bad record
    if report.get("ok") or (bad is not None and bad > seq):
        later = "" if report.get("ok") else f" (broken later, at {bad}: {report.get('reason')})"
        return (
            head + f'<p class="ok" id="chain">✓ the chain verifies up to this record{e(later)}.</p>'
        )
    if bad_replica is not None and bad_replica != replica:
        return head + (
            f'<p class="bad" id="chain">✗ not verified: the chain of replica {e(bad_replica)} '
            f"breaks first, at record {e(bad)} — {e(report.get('reason'))}</p>"
        )
    return head + (
        f'<p class="bad" id="chain">✗ the chain does not verify up to here: first bad record '
        f"{e(bad)} — {e(report.get('reason'))}</p>"
    )


@router.get("/log/{seq}", response_class=HTMLResponse)
async def record_page(state: StateDep, seq: int) -> HTMLResponse:
    try:
        record = await state.client.record(seq)
        report = await state.client.verify() if record else None
    except MediatorUnavailable as exc:
        return page("Record", "log", f'<h1>Record {seq}</h1><p class="bad">{e(exc)}</p>')
    if record is None:
        newest = await state.client.records(order="desc", limit=10)
        raise NotFoundPage(
            f"No exchange {seq} in the message log.",
            [(f"/log/{r['seq']}", f"{r['seq']}: {r.get('service')}") for r in newest],
            "The newest exchanges",
        )
    consent = consent_of(record)
    summary = [
        ("client → service", f"{record.get('client')} → {record.get('service')}"),
        ("request", f"{record.get('method')} {record.get('path')}?{record.get('query')}"),
        ("status", f"{record.get('statusCode')} {record.get('outcome')}"),
        ("refusal", record.get("errorType") or "—"),
        ("started", record.get("startedAt")),
        ("duration", f"{record.get('durationMs')} ms (provider {record.get('upstreamMs')} ms)"),
        (
            "consent decision",
            f"{consent} (decision {record.get('decisionId') or '—'}, "
            f"record {record.get('consentRecordId') or '—'})",
        ),
        ("purpose", record.get("purpose") or "—"),
        ("kind", record.get("kind")),
    ]
    trace = record.get("traceId")
    trace_link = (
        f' · <a href="/log?{query(traceId=trace)}">every exchange of its trace</a>' if trace else ""
    )
    body = (
        f"<h1>Exchange {seq}</h1><p><a href='/log'>← log</a>{trace_link}</p>"
        + table(["", ""], [[e(k), e(v)] for k, v in summary], "kv")
        + "<h2>Headers</h2>"
        + _headers(record)
        + "<h2>Fields and their classification</h2>"
        + _fields(record)
        + "<h2>Request body</h2>"
        + _body(record.get("requestBody"))
        + "<h2>Response body</h2>"
        + _body(record.get("responseBody"))
        + "<h2>Hash chain</h2>"
        + _chain(seq, record, report)
    )
    return page(f"Exchange {seq}", "log", body)
