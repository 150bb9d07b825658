"""Spans reach an OTLP/HTTP collector with the sandbox's own trace ids."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest
from fastapi import APIRouter, FastAPI, Request

from services.kernel import otel
from services.kernel.app import create_service_app
from services.kernel.http import make_client
from services.kernel.testing import serve_in_process, serve_on_loopback

pytestmark = pytest.mark.anyio
TRACE_ID = "0af7651916cd43dd8448eb211c80319c"


def collector(received: list[dict[str, Any]]) -> FastAPI:
    app = FastAPI()

    @app.post("/v1/traces")
    async def traces(request: Request) -> dict[str, str]:
        body = await request.json()
        for resource in body["resourceSpans"]:
            service = resource["resource"]["attributes"][0]["value"]["stringValue"]
            for scope in resource["scopeSpans"]:
                received.extend({**s, "service": service} for s in scope["spans"])
        return {}

    return app


async def test_server_and_client_spans_share_the_trace(settings_for, monkeypatch):
    received: list[dict[str, Any]] = []
    downstream = APIRouter()

    @downstream.get("/echo")
    async def echo() -> dict[str, str]:
        return {"ok": "yes"}

    provider = create_service_app(
        settings=settings_for("registries"), routers=[downstream], configure_logs=False
    )
    upstream = APIRouter()

    @upstream.get("/call")
    async def call() -> dict[str, Any]:
        transport = httpx.ASGITransport(app=provider)
        async with make_client("http://registries", transport=transport) as client:
            return (await client.get("/echo")).json()  # type: ignore[no-any-return]

    consumer = create_service_app(
        settings=settings_for("consent"), routers=[upstream], configure_logs=False
    )
    with serve_on_loopback(collector(received)) as url:
        monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", url)
        async with serve_in_process(consumer) as client:
            assert otel.exporter() is not None
            headers = {"traceparent": f"00-{TRACE_ID}-b7ad6b7169203331-01"}
            assert (await client.get("/call", headers=headers)).status_code == 200
        deadline = time.monotonic() + 10
        while len(received) < 3 and time.monotonic() < deadline:
            time.sleep(0.02)
    by_kind = {(s["kind"], s["name"]): s for s in received}
    server = by_kind[(otel.SERVER, "GET /call")]
    client_span = next(s for s in received if s["kind"] == otel.CLIENT)
    provider_span = by_kind[(otel.SERVER, "GET /echo")]
    assert {s["traceId"] for s in received} == {TRACE_ID}
    assert server["parentSpanId"] == "b7ad6b7169203331"
    assert client_span["parentSpanId"] == server["spanId"]
    assert provider_span["parentSpanId"] == client_span["spanId"]
    assert server["service"] == "consent"


async def test_no_exporter_without_the_environment(settings_for, monkeypatch):
    monkeypatch.delenv("OTEL_EXPORTER_OTLP_ENDPOINT", raising=False)
    monkeypatch.delenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", raising=False)
    app = create_service_app(settings=settings_for("consent"), configure_logs=False)
    async with serve_in_process(app) as client:
        assert (await client.get("/healthz")).status_code == 200
        assert otel.exporter() is None
