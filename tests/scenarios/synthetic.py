"""Synthetic message-log records shaped like the interop layer's (`GET
/admin/messagelog/records`, camelCase), and runs to join them with."""

from typing import Any

from sandbox.scenarios.results import Call, RunResult, StepResult
from sandbox.scenarios.runner import step_trace_id
from sandbox.trace.build import Trace

RUN = "2026112515000001"
SCHOOL, HEALTH = "DPI/GOV/MOE/emis", "DPI/GOV/MOH/hmis"
ID, CONSENT = "DPI/GOV/NIA/id-registry", "DPI/GOV/DPA/consent"


def record(
    seq: int, step: int, client: str, service: str, *, status: int = 200, **extra: Any
) -> dict[str, Any]:
    base = {
        "seq": seq,
        "xRoadId": f"x-{seq}",
        "requestId": f"r-{seq}",
        "traceId": step_trace_id(RUN, step),
        "kind": "exchange",
        "client": client,
        "service": service,
        "method": "POST",
        "path": f"/r1/{service}/thing",
        "query": "",
        "statusCode": status,
        "outcome": "Successful" if status < 400 else "Completed" if status < 500 else "Failed",
        "startedAt": "2026-11-25T15:00:00+00:00",
        "durationMs": 3.5,
        "upstreamMs": 2.0,
        "recordHash": "0" * 64,
    }
    base.update(extra)
    return base


def run_of(*titles: str, calls: dict[int, Call] | None = None) -> RunResult:
    calls = calls or {}
    steps = [
        StepResult(
            index=i,
            title=t,
            actor="Actor",
            boundary="b",
            kind="call",
            trace_id=step_trace_id(RUN, i),
            status="passed",
            attempts=1,
            call=calls.get(i),
        )
        for i, t in enumerate(titles, start=1)
    ]
    return RunResult(
        run_id=RUN,
        scenario="synthetic",
        title="Synthetic",
        pattern="Pattern",
        started_at="t0",
        finished_at="t1",
        steps=steps,
    )


def graph(trace: Trace) -> list[tuple[Any, ...]]:
    """The call graph as plain data: (step, consumer, provider service, status, consent)."""
    return [
        (e.step, e.consumer, e.service, e.status, e.consent, e.forwarded) for e in trace.exchanges
    ]
