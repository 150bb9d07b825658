"""The one way a service calls another: httpx clients with timeouts and the trace header."""

from __future__ import annotations

import httpx

from services.kernel import otel
from services.kernel.redact import redact_path
from services.kernel.tracing import TRACEPARENT, current_trace, start_span

DEFAULT_TIMEOUT = httpx.Timeout(10.0, connect=2.0)


def _add_trace_sync(request: httpx.Request) -> None:
    if TRACEPARENT in request.headers:
        return
    span = start_span(current_trace())
    request.headers[TRACEPARENT] = span.traceparent
    request.extensions["dpi_span"] = (span, otel.now_ns())


def _record_sync(response: httpx.Response) -> None:
    started = response.request.extensions.get("dpi_span")
    if started is None or otel.exporter() is None:
        return
    span, start_ns = started
    request = response.request
    otel.record(
        otel.Span(
            name=f"{request.method} {request.url.host}",
            context=span,
            kind=otel.CLIENT,
            start_ns=start_ns,
            end_ns=otel.now_ns(),
            attributes={
                "http.request.method": request.method,
                "url.full": redact_path(str(request.url.copy_with(query=None))),
                "http.response.status_code": response.status_code,
            },
            error=response.status_code >= 500,
        )
    )


async def _add_trace(request: httpx.Request) -> None:
    _add_trace_sync(request)


async def _record(response: httpx.Response) -> None:
    _record_sync(response)


def make_client(
    base_url: str = "",
    *,
    timeout: httpx.Timeout | float = DEFAULT_TIMEOUT,
    headers: dict[str, str] | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
) -> httpx.AsyncClient:
    """An async client that sends `traceparent` on every call and never waits forever."""
    return httpx.AsyncClient(
        base_url=base_url,
        timeout=timeout,
        headers=headers,
        transport=transport,
        event_hooks={"request": [_add_trace], "response": [_record]},
    )


def make_sync_client(
    base_url: str = "",
    *,
    timeout: httpx.Timeout | float = DEFAULT_TIMEOUT,
    headers: dict[str, str] | None = None,
    transport: httpx.BaseTransport | None = None,
) -> httpx.Client:
    """The synchronous twin of `make_client`, for code running in worker threads or the CLI."""
    return httpx.Client(
        base_url=base_url,
        timeout=timeout,
        headers=headers,
        transport=transport,
        event_hooks={"request": [_add_trace_sync], "response": [_record_sync]},
    )
