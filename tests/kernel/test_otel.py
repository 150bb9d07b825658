"""Spans reach an OTLP/HTTP collector through the OpenTelemetry SDK, with the sandbox's trace ids;
with export off, nothing of it runs."""

from __future__ import annotations

import threading
from typing import Any

import httpx
import pytest
from fastapi import APIRouter
from sqlalchemy import text

from services.kernel import otel
from services.kernel.app import create_service_app
from services.kernel.db import SessionDep
from services.kernel.http import make_client
from services.kernel.testing import serve_in_process, serve_on_loopback
from tests.kernel.otlp_receiver import CLIENT, SERVER, collector, wait_for

pytestmark = pytest.mark.anyio
TRACE_ID = "0af7651916cd43dd8448eb211c80319c"


async def test_server_client_and_database_spans_share_the_trace(settings_for, monkeypatch):
    received: list[dict[str, Any]] = []
    downstream = APIRouter()

    @downstream.get("/echo")
    async def echo() -> dict[str, str]:
        return {"ok": "yes"}

    provider = create_service_app(
        settings=settings_for("registries"), routers=[downstream], configure_logs=False
    )
    upstream = APIRouter()

    @upstream.get("/call/{item}")
    async def call(item: str, session: SessionDep) -> dict[str, Any]:
        session.connection().execute(text("SELECT 1"))
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
            response = await client.get("/call/x", headers=headers)
            assert response.status_code == 200
        wait_for(received, 4)
    assert {s["traceId"] for s in received} == {TRACE_ID}
    assert {s["service"] for s in received} == {"consent"}
    server = next(s for s in received if s["kind"] == SERVER and s["name"] == "GET /call/{item}")
    client_span = next(s for s in received if s["kind"] == CLIENT and s["name"] == "GET")
    provider_span = next(s for s in received if s["name"] == "GET /echo")
    database = next(s for s in received if "db.statement" in s["attributes"])
    assert server["parentSpanId"] == "b7ad6b7169203331"
    assert response.headers["traceparent"] == f"00-{TRACE_ID}-{server['spanId']}-01"
    assert client_span["parentSpanId"] == server["spanId"]
    assert provider_span["parentSpanId"] == client_span["spanId"]
    assert database["parentSpanId"] == server["spanId"]
    assert "SELECT 1" in database["attributes"]["db.statement"]
    assert otel.exporter() is None


async def test_the_sdk_sampler_decides_and_the_trace_id_is_kept(settings_for, monkeypatch):
    received: list[dict[str, Any]] = []
    app = create_service_app(settings=settings_for("consent"), configure_logs=False)
    with serve_on_loopback(collector(received)) as url:
        monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", url)
        monkeypatch.setenv("OTEL_TRACES_SAMPLER", "always_off")
        async with serve_in_process(app) as client:
            headers = {"traceparent": f"00-{TRACE_ID}-b7ad6b7169203331-01"}
            response = await client.get("/readyz", headers=headers)
    assert response.status_code == 200
    assert response.headers["traceparent"].startswith(f"00-{TRACE_ID}-")
    assert response.headers["traceparent"].endswith("-00")  # not sampled, and said so onwards
    assert received == []


async def test_no_exporter_and_no_thread_without_the_environment(settings_for, monkeypatch):
    monkeypatch.delenv("OTEL_EXPORTER_OTLP_ENDPOINT", raising=False)
    monkeypatch.delenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", raising=False)
    app = create_service_app(settings=settings_for("consent"), configure_logs=False)
    async with serve_in_process(app) as client:
        response = await client.get(
            "/healthz", headers={"traceparent": f"00-{TRACE_ID}-{'1' * 16}-01"}
        )
        assert response.status_code == 200
        assert response.headers["traceparent"].startswith(f"00-{TRACE_ID}-")
        assert otel.exporter() is None
        assert not [t for t in threading.enumerate() if "otel" in t.name.lower()]
