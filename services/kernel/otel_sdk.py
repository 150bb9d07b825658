"""The OpenTelemetry SDK behind `otel`: imported only once export is switched on.

The SDK owns what a collector needs: resource attributes (`service.name`, plus whatever
`OTEL_RESOURCE_ATTRIBUTES` adds), sampling (`OTEL_TRACES_SAMPLER`, parent-based by default),
batching and the OTLP/HTTP protocol. The ASGI, httpx and SQLAlchemy instrumentations make the
server, client and database spans; hooks mask the credentials some paths carry (`redact`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import httpx
from opentelemetry import metrics, trace
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.instrumentation.asgi import OpenTelemetryMiddleware
from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor, RequestInfo
from opentelemetry.instrumentation.sqlalchemy.engine import EngineTracer
from opentelemetry.sdk.resources import SERVICE_NAME, Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from sqlalchemy.engine import Engine
from starlette.types import ASGIApp, Scope

from services.kernel.redact import redact_path

# Attributes the instrumentations fill with the raw path or URL (old and new conventions).
_PATH_ATTRIBUTES = ("http.target", "http.url", "url.path", "url.full")
_SQL_SCOPE = "opentelemetry.instrumentation.sqlalchemy"


def _redact(span: trace.Span, attributes: Any) -> None:
    if not span.is_recording() or attributes is None:
        return
    for key in _PATH_ATTRIBUTES:
        value = attributes.get(key)
        if isinstance(value, str):
            span.set_attribute(key, redact_path(value))


def _server_request_hook(span: trace.Span, scope: dict[str, Any]) -> None:
    _redact(span, getattr(span, "attributes", None))


def _client_request_hook(span: trace.Span, request: RequestInfo) -> None:
    _redact(span, getattr(span, "attributes", None))


async def _async_client_request_hook(span: trace.Span, request: RequestInfo) -> None:
    _redact(span, getattr(span, "attributes", None))  # an async client calls async hooks only


def _span_details(scope: Scope) -> tuple[str, dict[str, Any]]:
    return f"{scope.get('method', 'HTTP')} {redact_path(scope.get('path', ''))}", {}


@dataclass(slots=True)
class Export:
    """One process's tracer provider, exporter thread and instrumented engines."""

    provider: TracerProvider
    service: str

    @classmethod
    def start(cls, endpoint: str, service: str, engines: Sequence[Engine] = ()) -> Export:
        url = endpoint.rstrip("/")
        if not url.endswith("/v1/traces"):
            url += "/v1/traces"
        provider = TracerProvider(resource=Resource.create({SERVICE_NAME: service}))
        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=url)))
        for engine in engines:
            # The instrumentor's own `instrument()` also patches SQLAlchemy's asyncio module (which
            # wants greenlet) and declares a range below SQLAlchemy 2.1; its per-engine tracer is
            # what it installs on each engine, and SQLAlchemy 2.1's engine events are unchanged.
            EngineTracer(  # type: ignore[no-untyped-call]
                provider.get_tracer(_SQL_SCOPE),
                engine,
                metrics.get_meter(_SQL_SCOPE).create_up_down_counter("db.client.connections.usage"),
            )
        return cls(provider=provider, service=service)

    def server(self, app: ASGIApp) -> ASGIApp:
        """`app` inside an SDK server span, the span current while `app` runs."""
        return OpenTelemetryMiddleware(
            app,
            default_span_details=_span_details,
            server_request_hook=_server_request_hook,
            tracer_provider=self.provider,
            exclude_spans=["receive", "send"],
        )

    def instrument(self, client: httpx.Client | httpx.AsyncClient) -> None:
        if isinstance(client, httpx.AsyncClient):
            HTTPXClientInstrumentor.instrument_client(
                client, tracer_provider=self.provider, request_hook=_async_client_request_hook
            )
        else:
            HTTPXClientInstrumentor.instrument_client(
                client, tracer_provider=self.provider, request_hook=_client_request_hook
            )

    def shutdown(self) -> None:
        EngineTracer.remove_all_event_listeners()  # type: ignore[no-untyped-call]
        self.provider.shutdown()


def current_ids() -> tuple[str, str, str] | None:
    """The current span's trace id, span id and flags, hex as in `traceparent`."""
    context = trace.get_current_span().get_span_context()
    if not context.is_valid:
        return None
    return f"{context.trace_id:032x}", f"{context.span_id:016x}", f"{context.trace_flags:02x}"


def name_by_route(method: str, route_path: str) -> None:
    """Name the current server span by its route once routing has found it."""
    span = trace.get_current_span()
    if span.is_recording():
        span.update_name(f"{method} {route_path}")
        span.set_attribute("http.route", route_path)
