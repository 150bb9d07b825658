"""The one way a service calls another: httpx clients with timeouts and the trace header.

With export on, the clients are instrumented by the SDK: each call is a client span, and the
`traceparent` sent is that span's."""

from __future__ import annotations

import ssl

import httpx

from services.kernel import otel
from services.kernel.tracing import TRACEPARENT, outgoing_traceparent

DEFAULT_TIMEOUT = httpx.Timeout(10.0, connect=2.0)


_TLS_CONTEXTS: dict[bool, ssl.SSLContext] = {}


def tls_context(trust_env: bool = True) -> ssl.SSLContext:
    """The verifying TLS context every client of this process shares (httpx's default, read from
    `SSL_CERT_FILE`/`SSL_CERT_DIR` when `trust_env`): each new one parses the whole CA bundle,
    about 50 ms, and a service builds several clients at start. One per value of `trust_env`
    however it is passed (`functools.cache` keyed `tls_context()` apart from the preloader's
    `tls_context(trust_env=True)`: every service parsed the bundle again)."""
    context = _TLS_CONTEXTS.get(trust_env)
    if context is None:
        context = _TLS_CONTEXTS[trust_env] = httpx.create_ssl_context(trust_env=trust_env)
    return context


def forget_tls_contexts() -> None:
    """The next `tls_context` builds afresh (the environment's CA settings have changed)."""
    _TLS_CONTEXTS.clear()


def _add_trace_sync(request: httpx.Request) -> None:
    if TRACEPARENT not in request.headers:
        request.headers[TRACEPARENT] = outgoing_traceparent()


async def _add_trace(request: httpx.Request) -> None:
    _add_trace_sync(request)


def make_client(
    base_url: str = "",
    *,
    timeout: httpx.Timeout | float = DEFAULT_TIMEOUT,
    headers: dict[str, str] | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
) -> httpx.AsyncClient:
    """An async client that sends `traceparent` on every call and never waits forever."""
    client = httpx.AsyncClient(
        base_url=base_url,
        verify=tls_context(),
        timeout=timeout,
        headers=headers,
        transport=transport,
        event_hooks={"request": [_add_trace]},
    )
    _instrument(client)
    return client


def make_sync_client(
    base_url: str = "",
    *,
    timeout: httpx.Timeout | float = DEFAULT_TIMEOUT,
    headers: dict[str, str] | None = None,
    transport: httpx.BaseTransport | None = None,
) -> httpx.Client:
    """The synchronous twin of `make_client`, for code running in worker threads or the CLI."""
    client = httpx.Client(
        base_url=base_url,
        verify=tls_context(),
        timeout=timeout,
        headers=headers,
        transport=transport,
        event_hooks={"request": [_add_trace_sync]},
    )
    _instrument(client)
    return client


def _instrument(client: httpx.Client | httpx.AsyncClient) -> None:
    export = otel.exporter()
    if export is not None:
        export.instrument(client)
