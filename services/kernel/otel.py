"""Spans over OTLP/HTTP (JSON encoding) when `OTEL_EXPORTER_OTLP_ENDPOINT` is set.

The spans carry the sandbox's own W3C trace and span ids, so a trace seen in Jaeger is the same
trace the mediator's message log and the scenario reports name. Export happens in a background
thread, in batches; if the collector is down, spans are dropped (observability never blocks or
breaks a request).
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any, Protocol

import httpx

log = logging.getLogger("dpi.otel")

SERVER, CLIENT = 2, 3
MAX_QUEUE = 10_000
BATCH = 512


class SpanContext(Protocol):
    """The ids a span carries (`tracing.TraceContext`; the exporter sits below tracing)."""

    @property
    def trace_id(self) -> str: ...
    @property
    def span_id(self) -> str: ...
    @property
    def parent_id(self) -> str | None: ...


@dataclass
class Span:
    name: str
    context: SpanContext
    kind: int
    start_ns: int
    end_ns: int
    attributes: dict[str, str | int] = field(default_factory=dict)
    error: bool = False

    def to_otlp(self) -> dict[str, Any]:
        span: dict[str, Any] = {
            "traceId": self.context.trace_id,
            "spanId": self.context.span_id,
            "name": self.name,
            "kind": self.kind,
            "startTimeUnixNano": str(self.start_ns),
            "endTimeUnixNano": str(self.end_ns),
            "attributes": [_attribute(k, v) for k, v in self.attributes.items()],
            "status": {"code": 2 if self.error else 1},
        }
        if self.context.parent_id:
            span["parentSpanId"] = self.context.parent_id
        return span


def _attribute(key: str, value: str | int) -> dict[str, Any]:
    if isinstance(value, int):
        return {"key": key, "value": {"intValue": str(value)}}
    return {"key": key, "value": {"stringValue": value}}


class OtlpExporter:
    """Collects finished spans and posts them to `<endpoint>/v1/traces` in batches."""

    def __init__(self, endpoint: str, service: str, interval: float = 1.0) -> None:
        self.url = endpoint.rstrip("/")
        if not self.url.endswith("/v1/traces"):
            self.url += "/v1/traces"
        self.service = service
        self.interval = interval
        self.queue: deque[Span] = deque(maxlen=MAX_QUEUE)
        self.exported = 0
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="otlp-exporter", daemon=True)
        self._thread.start()

    def record(self, span: Span) -> None:
        self.queue.append(span)
        if len(self.queue) >= BATCH:
            self._wake.set()

    def flush(self, client: httpx.Client) -> None:
        while self.queue:
            batch = [self.queue.popleft() for _ in range(min(BATCH, len(self.queue)))]
            payload = {
                "resourceSpans": [
                    {
                        "resource": {"attributes": [_attribute("service.name", self.service)]},
                        "scopeSpans": [
                            {
                                "scope": {"name": "dpi-sandbox"},
                                "spans": [s.to_otlp() for s in batch],
                            }
                        ],
                    }
                ]
            }
            try:
                client.post(self.url, json=payload).raise_for_status()
                self.exported += len(batch)
            except httpx.HTTPError as exc:
                log.debug("dropping %d spans: collector unreachable (%s)", len(batch), exc)

    def _run(self) -> None:
        with httpx.Client(timeout=3.0) as client:
            while not self._stop.is_set():
                self._wake.wait(self.interval)
                self._wake.clear()
                self.flush(client)
            self.flush(client)

    def shutdown(self) -> None:
        self._stop.set()
        self._wake.set()
        self._thread.join(timeout=5)


_exporter: OtlpExporter | None = None


def exporter() -> OtlpExporter | None:
    return _exporter


def start_exporter(service: str) -> OtlpExporter | None:
    """Start exporting if the standard OpenTelemetry variables ask for it."""
    global _exporter
    endpoint = os.environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") or os.environ.get(
        "OTEL_EXPORTER_OTLP_ENDPOINT"
    )
    if not endpoint or os.environ.get("OTEL_SDK_DISABLED", "").lower() == "true":
        return None
    _exporter = OtlpExporter(endpoint, os.environ.get("OTEL_SERVICE_NAME", service))
    return _exporter


def stop_exporter() -> None:
    global _exporter
    if _exporter is not None:
        _exporter.shutdown()
        _exporter = None


def record(span: Span) -> None:
    if _exporter is not None:
        _exporter.record(span)


def now_ns() -> int:
    return time.time_ns()
