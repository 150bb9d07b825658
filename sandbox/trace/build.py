"""Join a run with the mediator's message log: exchanges per step, fields classified, findings."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from sandbox.scenarios.results import Call, RunResult
from sandbox.trace.classify import (
    DIRECT,
    Classification,
    Finding,
    json_field_names,
    leaf_fields,
    load_classification,
)

MEDIATOR = "mediator"


def subsystem_of(service: str | None) -> str | None:
    """`DPI/GOV/MOH/hmis/dhis2` -> `DPI/GOV/MOH/hmis`."""
    if not service:
        return None
    parts = service.split("/")
    return "/".join(parts[:4]) if len(parts) >= 4 else service


def is_push(record: Mapping[str, Any]) -> bool:
    """A push delivery the mediator made to a subscriber (a pull is a `/r1/` exchange)."""
    return record.get("kind") == "delivery" and not str(record.get("path", "")).startswith("/r1/")


def consent_of(record: Mapping[str, Any]) -> str:
    if not record.get("decisionId"):
        return "not required"
    refused = str(record.get("errorType") or "").endswith(".AccessDenied")
    return "deny" if refused else "permit"


@dataclass
class FieldFlow:
    field: str
    direction: str
    source: str
    destination: str
    category: str


@dataclass
class Exchange:
    """One exchange across a boundary, as the mediator logged it."""

    seq: int | None
    step: int | None
    step_title: str | None
    x_road_id: str | None
    trace_id: str | None
    kind: str
    consumer: str | None
    provider: str | None
    service: str | None
    method: str
    path: str
    status: int
    outcome: str
    purpose: str | None
    subject_hash: str | None
    consent: str
    decision_id: str | None
    consent_record_id: str | None
    error_type: str | None
    forwarded: bool
    duration_ms: float | None
    fields_source: str
    reason: str | None = None
    fields: list[FieldFlow] = field(default_factory=list)
    findings: list[dict[str, Any]] = field(default_factory=list)
    by_runner: bool = False


@dataclass
class Trace:
    run: dict[str, Any]
    exchanges: list[Exchange]
    direct_calls: list[dict[str, Any]]
    findings: list[dict[str, Any]]
    message_log: str
    labels: dict[str, str]

    def to_dict(self) -> dict[str, Any]:
        return {
            "run": self.run,
            "messageLog": self.message_log,
            "classes": self.labels,
            "exchanges": [asdict(e) for e in self.exchanges],
            "directCalls": self.direct_calls,
            "findings": self.findings,
        }


def _fields(
    record: Mapping[str, Any], call: Call | None, which: str
) -> tuple[list[str] | None, str]:
    logged = record.get(f"{which}Fields")
    if logged is not None:
        return list(logged), "message-log"
    if call is not None:
        body = call.request_body if which == "request" else call.response_body
        if isinstance(body, dict | list):
            return json_field_names(body), "runner"
        return [], "runner"
    return None, "not recorded"


def _flows(
    fields: Iterable[str], direction: str, source: str, destination: str, table: Classification
) -> list[FieldFlow]:
    return [
        FieldFlow(name, direction, source, destination, table.classify(name))
        for name in leaf_fields(fields)
    ]


def check_boundary(exchange: Exchange, table: Classification) -> list[Finding]:
    """Direct identifiers (or identifying combinations) that reach a sector in this exchange."""
    findings: list[Finding] = []
    label = exchange.x_road_id or f"seq {exchange.seq}"
    for direction in ("request", "response"):
        flows = [f for f in exchange.fields if f.direction == direction]
        if not flows or not table.is_sector(flows[0].destination):
            continue
        destination = flows[0].destination
        direct = tuple(f.field for f in flows if f.category == DIRECT)
        if direct:
            findings.append(
                Finding(label, exchange.step, destination, direction, direct, "direct identifier")
            )
        if direction == "response" and table.release_of(exchange.service, exchange.path):
            continue  # a consented eKYC answer: its name and birth date are the point of it
        for combination in table.combinations_in(f.field for f in flows):
            findings.append(
                Finding(
                    label,
                    exchange.step,
                    destination,
                    direction,
                    tuple(f.field for f in flows if f.category == "quasi_identifier"),
                    f"identifying combination: {combination}",
                )
            )
    return findings


def exchange_from_record(
    record: Mapping[str, Any],
    *,
    step: int | None,
    step_title: str | None,
    call: Call | None,
    table: Classification,
) -> Exchange:
    # A refused caller is not authenticated, so the log may not name it: the runner knows.
    consumer = record.get("client") or (call.client if call else None)
    service = record.get("service") or (call.provider if call else None)
    provider = subsystem_of(service)
    exchange = Exchange(
        seq=record.get("seq"),
        step=step,
        step_title=step_title,
        x_road_id=record.get("xRoadId"),
        trace_id=record.get("traceId"),
        kind=str(record.get("kind") or "exchange"),
        consumer=consumer,
        provider=provider,
        service=service,
        method=str(record.get("method") or ""),
        path=str(record.get("path") or ""),
        status=int(record.get("statusCode") or 0),
        outcome=str(record.get("outcome") or ""),
        purpose=record.get("purpose"),
        subject_hash=record.get("subjectHash"),
        consent=consent_of(record),
        decision_id=record.get("decisionId"),
        consent_record_id=record.get("consentRecordId"),
        error_type=record.get("errorType"),
        forwarded=record.get("upstreamMs") is not None or is_push(record),
        duration_ms=record.get("durationMs"),
        fields_source="not recorded",
        by_runner=call is not None,
    )
    if call is not None and exchange.status >= 400 and isinstance(call.response_body, dict):
        message = call.response_body.get("message")  # the mediator's own X-Road error
        exchange.reason = str(message) if message and exchange.error_type else None
    request_fields, source = _fields(record, call, "request")
    response_fields, response_source = _fields(record, call, "response")
    exchange.fields_source = source if request_fields is not None else response_source
    if consumer and provider:
        if request_fields and exchange.forwarded:
            exchange.fields += _flows(request_fields, "request", consumer, provider, table)
        if response_fields:
            # a pull is answered from the room the mediator keeps for the provider
            from_room = exchange.forwarded or record.get("kind") == "delivery"
            answered_by = provider if from_room else MEDIATOR
            exchange.fields += _flows(response_fields, "response", answered_by, consumer, table)
    exchange.findings = [f.as_dict() for f in check_boundary(exchange, table)]
    return exchange


def build_trace(
    run: RunResult,
    records: Iterable[Mapping[str, Any]],
    *,
    message_log: str = "ok",
    table: Classification | None = None,
) -> Trace:
    """The run's trace: the log records of its trace ids, in log order, tied to their steps."""
    table = table or load_classification()
    steps = {step.trace_id: step for step in run.steps}
    calls = {s.call.x_road_id: s.call for s in run.steps if s.call and s.call.x_road_id}
    exchanges = []
    for record in sorted(records, key=lambda r: int(r.get("seq") or 0)):
        step = steps.get(str(record.get("traceId")))
        if step is None:
            continue
        exchanges.append(
            exchange_from_record(
                record,
                step=step.index,
                step_title=step.title,
                call=calls.get(str(record.get("xRoadId"))),
                table=table,
            )
        )
    direct = [
        {
            "step": s.index,
            "actor": s.actor,
            "service": s.call.target,
            "method": s.call.method,
            "url": s.call.url,
            "status": s.call.status,
            "fields": {
                "request": [
                    {"field": f, "category": table.classify(f)}
                    for f in leaf_fields(json_field_names(s.call.request_body))
                ],
                "response": [
                    {"field": f, "category": table.classify(f)}
                    for f in leaf_fields(json_field_names(s.call.response_body))
                ],
            },
        }
        for s in run.steps
        if s.call is not None and s.call.client is None
    ]
    findings = [finding for e in exchanges for finding in e.findings]
    return Trace(run.to_dict(), exchanges, direct, findings, message_log, table.labels())
